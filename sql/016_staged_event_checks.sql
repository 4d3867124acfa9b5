-- What the validate step's event checks read of an event beyond its staged columns (its canonical
-- source address, ports and the lengths of bounded fields), computed by extract from the event it
-- parsed anyway: validation then reads columns instead of parsing every staged record again.
-- NULL on rows staged before this migration; validation parses those rows as it did before.
ALTER TABLE coord.staged_events
    ADD COLUMN IF NOT EXISTS src_ip_text    text,
    ADD COLUMN IF NOT EXISTS src_port       integer,
    ADD COLUMN IF NOT EXISTS dst_port       integer,
    ADD COLUMN IF NOT EXISTS username_len   integer,
    ADD COLUMN IF NOT EXISTS password_len   integer,
    ADD COLUMN IF NOT EXISTS input_len      integer,
    ADD COLUMN IF NOT EXISTS url_len        integer,
    ADD COLUMN IF NOT EXISTS user_agent_len integer;
