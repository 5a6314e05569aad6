-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d): the warehouse's
-- database beside Dagster's own (POSTGRES_DB). Alembic creates the tables when the first run starts.
CREATE DATABASE ntx_warehouse;
