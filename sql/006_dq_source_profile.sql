-- The drift baseline of each interval: what the SOURCE held in the hours before it (per hour and
-- sensor: events, Cowrie sessions, login events, parse errors), staged by extract. Validation
-- compares against this instead of earlier runs' summaries, so its verdicts are a function of
-- the source alone, whatever order intervals are processed in.
CREATE TABLE IF NOT EXISTS coord.dq_baselines (
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    source_kind    text        NOT NULL,  -- files | elasticsearch
    lookback_start timestamptz NOT NULL,
    lookback_end   timestamptz NOT NULL,
    query          jsonb,                 -- the exact aggregation request (Elasticsearch)
    profile        jsonb       NOT NULL,  -- SourceProfile.to_json(): hours -> sensors -> counts
    PRIMARY KEY (interval_start, interval_end),
    CHECK (lookback_end > lookback_start)
);

INSERT INTO coord.retention_policy (table_name, keep_days) VALUES ('dq_baselines', 365)
ON CONFLICT (table_name) DO NOTHING;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coord_reader') THEN
        GRANT SELECT ON coord.dq_baselines TO coord_reader;
    END IF;
END
$$;
