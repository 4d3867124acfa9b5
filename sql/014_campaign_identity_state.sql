-- Campaign identity is kept up to date per load (coord_core/store/campaign_identity.py): a load
-- joins its interval's occurrences to the stored campaigns they share features with, instead of
-- recomputing every stored occurrence. This row says the stored identity is the full
-- recomputation's result for that gap, so a load may extend it; with no row, or another gap, the
-- next load recomputes it all.
CREATE TABLE IF NOT EXISTS coord.campaign_identity_state (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    max_gap    interval    NOT NULL,
    rebuilt_at timestamptz NOT NULL DEFAULT now()
);
-- A campaign's earliest occurrence is the one whose occurrence id is the campaign id.
CREATE INDEX IF NOT EXISTS campaign_identity_occurrence_idx ON coord.campaign_identity (occurrence_id);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coord_reader') THEN
        GRANT SELECT ON coord.campaign_identity_state TO coord_reader;
    END IF;
END
$$;
