"""Airflow side of the DShield coordination engine: connections to clients, task glue, UI plugins."""
