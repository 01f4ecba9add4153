"""The referral queue keeps each row's next due date, so a team's queue is read in index order.

``next_due`` is the date the team works towards: the first-contact due date while no contact
attempt was made (or the closure due date, if that comes first), else the closure due date. An
open referral is overdue exactly when ``next_due`` is before today, so "overdue first, then by
due date" is plain ``next_due`` order, served by an index instead of a sort of the whole queue.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral_queue") as table:
        table.add_column(sa.Column("next_due", sa.Date(), nullable=True))
    op.execute(
        "UPDATE referral_queue SET next_due = CASE "
        "WHEN contact_attempts = 0 AND first_contact_due < closure_due THEN first_contact_due "
        "ELSE closure_due END"
    )
    op.create_index(
        "ix_referral_queue_team_next_due",
        "referral_queue",
        ["team", "next_due", "requested_on", "referral_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_referral_queue_team_next_due", table_name="referral_queue")
    with op.batch_alter_table("referral_queue") as table:
        table.drop_column("next_due")
