-- The analysis workflow's LangGraph checkpoints live in their own schema: the checkpointer
-- (langgraph-checkpoint-postgres) creates and migrates its tables there itself. A retried
-- analyze task resumes from them; a finished thread is deleted once its result is stored.
CREATE SCHEMA IF NOT EXISTS coord_workflow;
