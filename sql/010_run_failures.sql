-- Why the interval's latest run failed (the failing task and its error, bounded); NULL otherwise.
ALTER TABLE coord.runs ADD COLUMN IF NOT EXISTS failure_reason text;
