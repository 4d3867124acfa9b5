-- LLM narratives (text only: they never change a score) and the record of every export.

CREATE TABLE IF NOT EXISTS coord.narratives (
    interval_start  timestamptz NOT NULL,
    interval_end    timestamptz NOT NULL,
    campaign_id     text        NOT NULL,  -- occurrence id, as in coord.campaigns
    llm_status      text        NOT NULL,  -- ok | unavailable | rejected
    model           text,
    model_digest    text,
    narrative       json        NOT NULL,  -- summary, hypotheses, claims with evidence ids
    rejected_claims json        NOT NULL DEFAULT '[]',
    PRIMARY KEY (interval_start, interval_end, campaign_id)
);

-- What went where: MISP events (live or feed), Elasticsearch enrichment. Keyed by interval and
-- target so a rerun replaces its own row.
CREATE TABLE IF NOT EXISTS coord.exports (
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    target         text        NOT NULL,  -- misp | misp_feed | elasticsearch
    location       text        NOT NULL,  -- MISP URL, feed folder, cluster URL (no credentials)
    items          jsonb       NOT NULL,  -- e.g. {"campaign id": "event uuid"}
    PRIMARY KEY (interval_start, interval_end, target)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coord_reader') THEN
        GRANT SELECT ON coord.narratives, coord.exports TO coord_reader;
    END IF;
END
$$;
