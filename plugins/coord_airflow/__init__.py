"""Airflow side of the DShield coordination engine: connections to clients, task glue, UI plugins."""

# The DAGs that run the coordination pipeline: they take ``PipelineParams`` and write data-quality
# reports (the trigger guard and the "Data quality" tab serve these only).
PIPELINE_DAG_IDS = frozenset({"dshield_coordination"})
