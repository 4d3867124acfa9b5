-- The LLM narrative step: why each narrative is what it is, and what every run used (model,
-- digest, Ollama's loaded models, NVML devices). One row per (dag, interval): the latest run.

ALTER TABLE coord.narratives
    ADD COLUMN IF NOT EXISTS status_reason text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS result_sha256 text,   -- the analysis result it explains
    ADD COLUMN IF NOT EXISTS prompt_sha256 text;   -- the exact prompt it was written from

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'narratives_llm_status_check') THEN
        ALTER TABLE coord.narratives ADD CONSTRAINT narratives_llm_status_check
            CHECK (llm_status IN ('ok', 'unavailable', 'rejected'));
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS coord.llm_runs (
    dag_id          text        NOT NULL,
    interval_start  timestamptz NOT NULL,
    interval_end    timestamptz NOT NULL,
    run_id          text        NOT NULL,
    try_number      integer     NOT NULL DEFAULT 1,
    status          text        NOT NULL
        CHECK (status IN ('ok', 'degraded', 'unavailable', 'off', 'no_campaigns')),
    reason          text        NOT NULL DEFAULT '',
    worker          text,
    server          text,        -- Ollama base URL, never with credentials
    server_version  text,
    model           text,
    model_digest    text,
    model_details   jsonb       NOT NULL DEFAULT '{}',
    candidates      jsonb       NOT NULL DEFAULT '[]',  -- each configured model and what was found
    narratives      integer     NOT NULL DEFAULT 0,
    counts          jsonb       NOT NULL DEFAULT '{}',  -- narratives per status, claims kept/rejected
    usage           jsonb       NOT NULL DEFAULT '{}',  -- calls, tokens, generation time
    gpu             jsonb       NOT NULL DEFAULT '{}',  -- {"ollama_ps": ..., "nvml": ...}
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dag_id, interval_start, interval_end)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coord_reader') THEN
        GRANT SELECT ON coord.llm_runs TO coord_reader;
    END IF;
END
$$;
