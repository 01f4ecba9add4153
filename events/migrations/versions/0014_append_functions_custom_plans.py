"""PostgreSQL: the append functions plan their queries for the arguments of each call.

PL/pgSQL caches the plans of its queries and, after five calls, may switch to a generic plan
made without the argument values. For ``event_id = ANY(ids)`` and ``stream_id = ANY(streams)``
on a log that looked empty or small when the plan was made, that generic plan scans the whole
table, so every append costs time in proportion to the log: measured on a fresh log, lone
appends slowed from ~370 to ~120 a second over the first 6,000 events, and a bulk load stalled
at seconds a call. A custom plan costs a few microseconds of planning and always uses the
indexes.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "signaalhub_append(text[], integer[], integer[], uuid[], text[], integer[], text[], text[], "
    "timestamptz)",
    "signaalhub_lock_and_check(text[], uuid[])",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} SET plan_cache_mode = force_custom_plan")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function in FUNCTIONS:
        op.execute(f"ALTER FUNCTION {function} RESET plan_cache_mode")
