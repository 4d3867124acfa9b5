#!/bin/sh
# Results database and its role (runs once, on the first start of the postgres container). The
# password comes from COORD_DB_PASSWORD in .env.compose, never from this file.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v coord_password="$COORD_DB_PASSWORD" <<'SQL'
CREATE ROLE coord LOGIN PASSWORD :'coord_password';
CREATE DATABASE coord OWNER coord;
SQL
