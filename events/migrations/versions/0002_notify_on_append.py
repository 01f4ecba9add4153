"""PostgreSQL: notify listeners when events are committed.

A statement-level trigger costs no extra round trip per append, and also wakes followers
when events arrive by any other route (a restore, another hub instance). NOTIFY is
delivered only if and when the transaction commits, and identical notifications within
one transaction are folded into one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION signaalhub_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('signaalhub_events', '');
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER events_notify_on_insert AFTER INSERT ON events
        FOR EACH STATEMENT EXECUTE FUNCTION signaalhub_notify_events()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER events_notify_on_insert ON events")
    op.execute("DROP FUNCTION signaalhub_notify_events()")
