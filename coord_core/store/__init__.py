"""PostgreSQL and Redis adapters; they take client objects, never Airflow connections."""
