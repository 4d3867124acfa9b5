"""Adapters to external systems; each takes a ready client object, never an Airflow connection."""
