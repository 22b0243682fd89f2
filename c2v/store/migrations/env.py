"""Alembic environment: run programmatically by :func:`c2v.store.db.migrate` (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from c2v.store.schema import Base

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
