"""Read models: the team referral queue, and where each projection has got to in the log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # projections/referral_queue.py declares the same table; no personal data in it.
    op.create_table(
        "referral_queue",
        sa.Column("referral_id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("first_contact_due", sa.Date(), nullable=False),
        sa.Column("closure_due", sa.Date(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("contact_attempts", sa.Integer(), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(80), nullable=True),
        sa.Column("updated_position", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_referral_queue_team_state", "referral_queue", ["team", "state"])
    # projections/checkpoints.py declares the same table: the runner's position per projection.
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("projection_checkpoints")
    op.drop_index("ix_referral_queue_team_state", table_name="referral_queue")
    op.drop_table("referral_queue")
