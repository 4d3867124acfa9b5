-- Core schema: every per-interval table carries (interval_start, interval_end) in its key so a
-- rerun or backfill of an interval replaces exactly that interval's rows and nothing else.
CREATE SCHEMA IF NOT EXISTS coord;

CREATE TABLE IF NOT EXISTS coord.runs (
    dag_id            text        NOT NULL,
    interval_start    timestamptz NOT NULL,
    interval_end      timestamptz NOT NULL,
    run_id            text        NOT NULL,
    try_number        integer     NOT NULL DEFAULT 1,
    source_kind       text,
    source_locations  jsonb,
    source_query      jsonb,
    document_count    bigint,
    input_fingerprint text,
    code_version      text,
    parameters        jsonb,
    status            text        NOT NULL DEFAULT 'running',
    event_count       bigint,
    session_count     bigint,
    quarantined_count bigint,
    campaign_count    integer,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dag_id, interval_start, interval_end),
    CHECK (interval_end > interval_start)
);

-- Every record read for an interval, parsed; records that failed to parse go to quarantine.
CREATE TABLE IF NOT EXISTS coord.staged_events (
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    ref            text        NOT NULL,
    record_key     text        NOT NULL,
    ts             timestamptz NOT NULL,
    eventid        text        NOT NULL,
    sensor         text        NOT NULL,
    session        text        NOT NULL,
    src_ip         inet        NOT NULL,
    raw            text        NOT NULL,
    PRIMARY KEY (interval_start, interval_end, ref)
);
CREATE INDEX IF NOT EXISTS staged_events_session_idx
    ON coord.staged_events (interval_start, interval_end, sensor, session);

CREATE TABLE IF NOT EXISTS coord.sessions (
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    sensor         text        NOT NULL,
    session_id     text        NOT NULL,
    src_ip         inet        NOT NULL,
    start_ts       timestamptz NOT NULL,
    end_ts         timestamptz NOT NULL,
    duration       double precision,
    protocol       text,
    dst_port       integer,
    client_version text,
    hassh          text,
    login_count    integer     NOT NULL,
    command_count  integer     NOT NULL,
    download_count integer     NOT NULL,
    event_count    integer     NOT NULL,
    has_connect    boolean     NOT NULL,
    has_close      boolean     NOT NULL,
    quarantined    boolean     NOT NULL DEFAULT false,
    doc            json        NOT NULL,  -- json, not jsonb: attacker strings may hold \u0000
    PRIMARY KEY (interval_start, interval_end, sensor, session_id)
);
CREATE INDEX IF NOT EXISTS sessions_src_ip_idx ON coord.sessions (src_ip);

-- Nothing is dropped: every record that could not be used is kept here with its reason.
CREATE TABLE IF NOT EXISTS coord.quarantine (
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    stage          text        NOT NULL,  -- parse | validate
    ref            text        NOT NULL,
    record_key     text        NOT NULL,
    reason         text        NOT NULL,
    expectations   text[]      NOT NULL DEFAULT '{}',
    raw            text        NOT NULL,
    PRIMARY KEY (interval_start, interval_end, stage, ref)
);

CREATE TABLE IF NOT EXISTS coord.dq_results (
    interval_start     timestamptz NOT NULL,
    interval_end       timestamptz NOT NULL,
    suite              text        NOT NULL,
    expectation        text        NOT NULL,
    column_name        text        NOT NULL DEFAULT '',
    success            boolean     NOT NULL,
    critical           boolean     NOT NULL,
    element_count      bigint      NOT NULL,
    unexpected_count   bigint      NOT NULL,
    unexpected_percent double precision NOT NULL,
    details            json        NOT NULL DEFAULT '{}',
    PRIMARY KEY (interval_start, interval_end, suite, expectation, column_name)
);

CREATE TABLE IF NOT EXISTS coord.dq_reports (
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    gate_passed    boolean     NOT NULL,
    gate_reason    text        NOT NULL DEFAULT '',
    summary        jsonb       NOT NULL,
    html           text        NOT NULL,
    PRIMARY KEY (interval_start, interval_end)
);

-- The analysis contract's JSON, byte-identical for identical input, parameters and code.
CREATE TABLE IF NOT EXISTS coord.analysis_results (
    interval_start    timestamptz NOT NULL,
    interval_end      timestamptz NOT NULL,
    input_fingerprint text        NOT NULL,
    parameters_hash   text        NOT NULL,
    code_version      text        NOT NULL,
    result_sha256     text        NOT NULL,
    result            json        NOT NULL,
    PRIMARY KEY (interval_start, interval_end)
);

CREATE TABLE IF NOT EXISTS coord.campaigns (
    interval_start  timestamptz      NOT NULL,
    interval_end    timestamptz      NOT NULL,
    campaign_id     text             NOT NULL,
    verdict         text             NOT NULL
        CHECK (verdict IN ('coordinated_campaign', 'single_actor_multi_source', 'coincidental')),
    confidence      double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    first_seen      timestamptz      NOT NULL,
    last_seen       timestamptz      NOT NULL,
    session_count   integer          NOT NULL,
    source_ip_count integer          NOT NULL,
    labels          text[]           NOT NULL DEFAULT '{}',
    PRIMARY KEY (interval_start, interval_end, campaign_id)
);
CREATE INDEX IF NOT EXISTS campaigns_period_idx ON coord.campaigns (first_seen, last_seen);
CREATE INDEX IF NOT EXISTS campaigns_id_idx ON coord.campaigns (campaign_id);

CREATE TABLE IF NOT EXISTS coord.campaign_members (
    interval_start timestamptz NOT NULL,
    interval_end   timestamptz NOT NULL,
    campaign_id    text        NOT NULL,
    session_id     text        NOT NULL,
    src_ip         inet        NOT NULL,
    PRIMARY KEY (interval_start, interval_end, campaign_id, session_id)
);
CREATE INDEX IF NOT EXISTS campaign_members_ip_idx ON coord.campaign_members (src_ip);

CREATE TABLE IF NOT EXISTS coord.evidence (
    interval_start timestamptz      NOT NULL,
    interval_end   timestamptz      NOT NULL,
    campaign_id    text             NOT NULL,
    evidence_id    text             NOT NULL,
    factor         text             NOT NULL,
    score          double precision NOT NULL,
    statistic      json             NOT NULL,
    summary        text             NOT NULL DEFAULT '',
    PRIMARY KEY (interval_start, interval_end, evidence_id)
);
CREATE INDEX IF NOT EXISTS evidence_campaign_idx ON coord.evidence (campaign_id);

CREATE TABLE IF NOT EXISTS coord.evidence_links (
    interval_start timestamptz      NOT NULL,
    interval_end   timestamptz      NOT NULL,
    campaign_id    text             NOT NULL,
    session_a      text             NOT NULL,
    session_b      text             NOT NULL,
    features       text[]           NOT NULL,
    weight         double precision NOT NULL,
    evidence_ids   text[]           NOT NULL DEFAULT '{}',
    PRIMARY KEY (interval_start, interval_end, campaign_id, session_a, session_b)
);

-- Append-only: who or what started each run, trigger and export.
CREATE TABLE IF NOT EXISTS coord.audit_log (
    id             bigserial   PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text        NOT NULL,
    action         text        NOT NULL,
    dag_id         text,
    run_id         text,
    interval_start timestamptz,
    interval_end   timestamptz,
    details        jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_log_run_idx ON coord.audit_log (dag_id, run_id);
