# Airflow 3 image with this package and its locked dependencies (used by docker-compose.yml).
FROM apache/airflow:3.3.2-python3.11
USER root
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
USER airflow
WORKDIR /opt/coord
# Optional extras of the package: the GPU worker's image is built with EXTRAS=gpu (NVML bindings).
ARG EXTRAS=""
COPY --chown=airflow:root pyproject.toml uv.lock README.md ./
COPY --chown=airflow:root coord_core ./coord_core
RUN uv export --frozen --no-dev --no-hashes ${EXTRAS:+--extra "$EXTRAS"} -o /tmp/requirements.txt \
 && uv pip install --compile-bytecode --python "$(command -v python)" -r /tmp/requirements.txt \
 && uv pip install --python "$(command -v python)" --no-deps -e .
COPY --chown=airflow:root sql ./sql
COPY --chown=airflow:root include ./include
