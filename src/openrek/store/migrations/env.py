"""Alembic environment: migrates the connection handed over by `openrek.store.database`."""

from __future__ import annotations

from alembic import context

from openrek.store.schema import Base

connection = context.config.attributes.get("connection")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
