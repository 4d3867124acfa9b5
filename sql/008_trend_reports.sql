-- Daily trend and spike reports (coord_trends DAG): the report JSON and its lineage, the runs it
-- read. One row per UTC day; a rerun for the day replaces it.
CREATE TABLE IF NOT EXISTS coord.trend_reports (
    day        date        PRIMARY KEY,
    report     json        NOT NULL,  -- json, not jsonb: indicator values are attacker text
    lineage    jsonb       NOT NULL,  -- runs read, interval range, code version, parameters
    updated_at timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coord_reader') THEN
        GRANT SELECT ON coord.trend_reports TO coord_reader;
    END IF;
END
$$;
