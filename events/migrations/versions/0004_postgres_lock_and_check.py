"""PostgreSQL: take the append lock and read versions and stored ids in one round trip.

Folding the lock into the check query would be wrong: a statement reads the data as it was
when the statement began, before it waited for the lock. Inside a VOLATILE PL/pgSQL function
every statement takes a fresh snapshot, so the check sees what the previous lock holder
committed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

APPEND_LOCK_KEY = 0x5167_6E61_6168_7562


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION signaalhub_lock_and_check(streams text[], ids uuid[])
        RETURNS TABLE(stream_id text, stream_version integer, event_id uuid)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock({APPEND_LOCK_KEY});
            RETURN QUERY
                SELECT e.stream_id::text, max(e.stream_version)::integer, NULL::uuid
                FROM events e WHERE e.stream_id = ANY(streams) GROUP BY e.stream_id
                UNION ALL
                SELECT e.stream_id::text, NULL::integer, e.event_id
                FROM events e WHERE e.event_id = ANY(ids);
        END;
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION signaalhub_lock_and_check(text[], uuid[])")
