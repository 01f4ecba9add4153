"""Alembic environment: runs on the connection handed over by ``events.migrations.upgrade``."""

from __future__ import annotations

from alembic import context

from events.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `signaalhub db upgrade`, not the alembic command")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
