-- Each failed try of the interval's run, oldest first: {task, try_number, reason, at}. A retry that
-- succeeds keeps them, so the row shows what the run went through; a new run starts with none.
ALTER TABLE coord.runs ADD COLUMN IF NOT EXISTS failed_tries jsonb NOT NULL DEFAULT '[]';
-- Cache entries (analysis results, threat-intel answers) the run's analysis rejected on
-- verification (corrupted, forged, unsigned) and recomputed instead; NULL until analysed.
ALTER TABLE coord.runs ADD COLUMN IF NOT EXISTS cache_rejected_count integer;
