-- Weekly trend reports (coord_trends DAG): the ISO week's stored daily reports aggregated, and its
-- lineage (the daily reports and the runs they read). One row per ISO week; a rebuild replaces it.
CREATE TABLE IF NOT EXISTS coord.trend_weekly_reports (
    week       text        PRIMARY KEY CHECK (week ~ '^[0-9]{4}-W[0-9]{2}$'),
    first_day  date        NOT NULL,
    report     json        NOT NULL,  -- json, like the daily reports it aggregates
    lineage    jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coord_reader') THEN
        GRANT SELECT ON coord.trend_weekly_reports TO coord_reader;
    END IF;
END
$$;
