-- History of how common a feature value is: per interval and UTC day, the values of the kinds a
-- public tool or list makes common (templates, credentials and their ordered runs, base words,
-- random secrets, tunnels) held by two or more sources, with how many and from how many /16
-- networks. Written by each interval's analysis, read by later intervals' analyses: a value
-- that unrelated networks share day after day weighs as a common value.
CREATE TABLE IF NOT EXISTS coord.feature_prevalence (
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    day            date        NOT NULL,
    feature_key    text        NOT NULL,  -- sha256 prefix of the feature name (attacker text is not kept)
    sources        integer     NOT NULL CHECK (sources >= 2),
    networks       integer     NOT NULL CHECK (networks >= 1),
    PRIMARY KEY (interval_start, interval_end, day, feature_key)
);
CREATE INDEX IF NOT EXISTS feature_prevalence_end ON coord.feature_prevalence (interval_end);

INSERT INTO coord.retention_policy (table_name, keep_days) VALUES ('feature_prevalence', 90)
ON CONFLICT (table_name) DO NOTHING;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coord_reader') THEN
        GRANT SELECT ON coord.feature_prevalence TO coord_reader;
    END IF;
END
$$;
