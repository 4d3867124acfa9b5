-- Lineage of every interval's latest run, campaign identity across intervals, a read-only role
-- and the retention policy.

-- Lineage: what produced the interval's results (source, query, counts, code, parameters, DQ,
-- models). One row per (dag, interval): the latest execution; coord.audit_log keeps history.
ALTER TABLE coord.runs
    ADD COLUMN IF NOT EXISTS run_type                   text,
    ADD COLUMN IF NOT EXISTS triggered_by               text,
    ADD COLUMN IF NOT EXISTS parameters_hash            text,
    ADD COLUMN IF NOT EXISTS analysis_input_fingerprint text,
    ADD COLUMN IF NOT EXISTS result_sha256              text,
    ADD COLUMN IF NOT EXISTS dq_gate_passed             boolean,
    ADD COLUMN IF NOT EXISTS models                     jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN IF NOT EXISTS analysis_cache_hit         boolean;

-- The defining features of each campaign occurrence (its `signature`), by which occurrences in
-- different intervals are recognised as one campaign.
CREATE TABLE IF NOT EXISTS coord.campaign_features (
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    campaign_id    text        NOT NULL,  -- the occurrence id of the analysis result
    feature        text        NOT NULL,
    PRIMARY KEY (interval_start, interval_end, campaign_id, feature)
);
CREATE INDEX IF NOT EXISTS campaign_features_feature_idx ON coord.campaign_features (feature);

-- Derived: the campaign each occurrence belongs to. Rebuilt as a pure function of all stored
-- occurrences after every load, so any load order gives the same ids.
CREATE TABLE IF NOT EXISTS coord.campaign_identity (
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    occurrence_id  text        NOT NULL,
    campaign_id    text        NOT NULL,
    PRIMARY KEY (interval_start, interval_end, occurrence_id)
);
CREATE INDEX IF NOT EXISTS campaign_identity_campaign_idx ON coord.campaign_identity (campaign_id);

-- When loading an earlier interval re-keys a campaign to its (new) earliest occurrence, the old
-- id stays resolvable here.
CREATE TABLE IF NOT EXISTS coord.campaign_aliases (
    alias_id    text PRIMARY KEY,
    campaign_id text NOT NULL
);

CREATE OR REPLACE VIEW coord.campaign_tracks AS
SELECT i.campaign_id,
       min(c.first_seen)                               AS first_seen,
       max(c.last_seen)                                AS last_seen,
       count(*)                                        AS intervals,
       sum(c.session_count)                            AS sessions,
       max(c.confidence)                               AS max_confidence,
       array_agg(DISTINCT c.verdict ORDER BY c.verdict) AS verdicts
FROM coord.campaign_identity i
JOIN coord.campaigns c
  ON c.interval_start = i.interval_start AND c.interval_end = i.interval_end
 AND c.campaign_id = i.occurrence_id
GROUP BY i.campaign_id;

-- Common queries: campaigns in a period, all evidence of a campaign, all campaigns of an IP.
CREATE INDEX IF NOT EXISTS campaigns_seen_idx ON coord.campaigns USING btree (last_seen, first_seen);
CREATE INDEX IF NOT EXISTS evidence_campaign_interval_idx
    ON coord.evidence (campaign_id, interval_start, interval_end);
CREATE INDEX IF NOT EXISTS campaign_members_ip_campaign_idx ON coord.campaign_members (src_ip, campaign_id);

-- Retention: how long each table keeps an interval's rows; applied by the maintenance DAG.
CREATE TABLE IF NOT EXISTS coord.retention_policy (
    table_name text PRIMARY KEY,
    keep_days  integer NOT NULL CHECK (keep_days > 0)
);
INSERT INTO coord.retention_policy (table_name, keep_days) VALUES
    ('staged_events', 14),
    ('quarantine', 90),
    ('sessions', 180),
    ('dq_results', 365),
    ('dq_reports', 365)
ON CONFLICT (table_name) DO NOTHING;

-- A role that can read every coordination table and write none. Creating roles needs
-- CREATEROLE; where the migrating user lacks it, an administrator creates coord_reader once.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coord_reader') THEN
        BEGIN
            CREATE ROLE coord_reader NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'coord_reader not created: the migrating user lacks CREATEROLE';
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coord_reader') THEN
        GRANT USAGE ON SCHEMA coord TO coord_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA coord TO coord_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA coord GRANT SELECT ON TABLES TO coord_reader;
    END IF;
END
$$;
