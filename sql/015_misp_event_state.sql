-- The MISP event of each cross-interval campaign, kept as the sum of the occurrences folded into it
-- (coord_core/store/misp_event_state.py, coord_core/pipeline/misp_event_fold.py): an interval's
-- publish folds in only its new occurrences instead of reading every earlier interval again. A
-- derived cache of what the results tables hold: it is dropped and refolded from them whenever an
-- occurrence it holds changed or left the campaign, and when retention prunes its sessions.
CREATE TABLE IF NOT EXISTS coord.misp_event_folds (
    campaign_id text        PRIMARY KEY,
    source_ips  integer     NOT NULL,  -- distinct source IPs of the folded occurrences
    folded_at   timestamptz NOT NULL DEFAULT now()
);

-- Each folded occurrence, with the digest of its interval's stored analysis result when folded and
-- what the event's title and report say of it.
CREATE TABLE IF NOT EXISTS coord.misp_event_occurrences (
    campaign_id     text             NOT NULL REFERENCES coord.misp_event_folds ON DELETE CASCADE,
    interval_start  timestamptz      NOT NULL,
    interval_end    timestamptz      NOT NULL,
    occurrence_id   text             NOT NULL,
    result_sha256   text             NOT NULL,
    verdict         text             NOT NULL,
    confidence      double precision NOT NULL,
    session_count   integer          NOT NULL,
    source_ip_count integer          NOT NULL,
    first_seen      timestamptz      NOT NULL,
    last_seen       timestamptz      NOT NULL,
    evidence_count  integer          NOT NULL,
    evidence        json             NOT NULL,  -- [[factor, score, summary], ...]; json: attacker text
    PRIMARY KEY (campaign_id, interval_start, interval_end, occurrence_id)
);
CREATE INDEX IF NOT EXISTS misp_event_occurrences_interval_idx
    ON coord.misp_event_occurrences (interval_end);

CREATE TABLE IF NOT EXISTS coord.misp_event_source_ips (
    campaign_id text NOT NULL REFERENCES coord.misp_event_folds ON DELETE CASCADE,
    ip          text NOT NULL,
    PRIMARY KEY (campaign_id, ip)
);

-- Per attribute (its deterministic UUID) the counts and span its comment and times show.
CREATE TABLE IF NOT EXISTS coord.misp_event_observables (
    campaign_id      text        NOT NULL REFERENCES coord.misp_event_folds ON DELETE CASCADE,
    attribute_uuid   uuid        NOT NULL,
    misp_type        text        NOT NULL,
    value            text        NOT NULL,  -- normalised by coord_core.intel.indicators: no control characters
    sessions         integer     NOT NULL,
    ips              integer     NOT NULL,
    first_seen       timestamptz NOT NULL,
    last_seen        timestamptz NOT NULL,
    failed_downloads integer     NOT NULL,
    PRIMARY KEY (campaign_id, attribute_uuid)
);

-- The sessions ('s', sensor/session) and source IPs ('i') counted per attribute, so a session or
-- source seen again in a later occurrence is not counted twice.
CREATE TABLE IF NOT EXISTS coord.misp_event_members (
    campaign_id    text    NOT NULL REFERENCES coord.misp_event_folds ON DELETE CASCADE,
    attribute_uuid uuid    NOT NULL,
    kind           "char"  NOT NULL CHECK (kind IN ('s', 'i')),
    member         text    NOT NULL,
    PRIMARY KEY (campaign_id, attribute_uuid, kind, member)
);

-- Values refused as attributes (reported with the export), once per campaign.
CREATE TABLE IF NOT EXISTS coord.misp_event_rejected (
    campaign_id text NOT NULL REFERENCES coord.misp_event_folds ON DELETE CASCADE,
    digest      text NOT NULL,  -- sha256 of the item
    item        json NOT NULL,  -- [misp_type, value, reason]; json: attacker text
    PRIMARY KEY (campaign_id, digest)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coord_reader') THEN
        GRANT SELECT ON coord.misp_event_folds, coord.misp_event_occurrences, coord.misp_event_source_ips,
            coord.misp_event_observables, coord.misp_event_members, coord.misp_event_rejected
            TO coord_reader;
    END IF;
END
$$;
