"""Alembic migrations for the metadata schema (run at server start-up)."""
