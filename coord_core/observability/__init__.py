"""What Prometheus scrapes: the project's metrics read from the results database."""
