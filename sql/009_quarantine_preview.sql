-- Quarantine keeps a bounded, escaped preview of each bad record plus the SHA-256 and length of the
-- whole record, never the record itself: a bad line may be anything the reader was pointed at
-- (a secret, a 50 MB blob). Rows stored before keep only what the new columns hold.
ALTER TABLE coord.quarantine ADD COLUMN IF NOT EXISTS preview text;
ALTER TABLE coord.quarantine ADD COLUMN IF NOT EXISTS raw_sha256 text;
ALTER TABLE coord.quarantine ADD COLUMN IF NOT EXISTS raw_length bigint;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = 'coord' AND table_name = 'quarantine' AND column_name = 'raw') THEN
        UPDATE coord.quarantine SET
            preview = left(regexp_replace(left(raw, 160), '[[:cntrl:]]', '?', 'g'), 160),
            raw_sha256 = encode(sha256(convert_to(raw, 'UTF8')), 'hex'),
            raw_length = octet_length(raw)
        WHERE preview IS NULL;
        ALTER TABLE coord.quarantine DROP COLUMN raw;
    END IF;
END
$$;

ALTER TABLE coord.quarantine ALTER COLUMN preview SET NOT NULL;
ALTER TABLE coord.quarantine ALTER COLUMN raw_sha256 SET NOT NULL;
ALTER TABLE coord.quarantine ALTER COLUMN raw_length SET NOT NULL;
