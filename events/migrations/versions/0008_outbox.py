"""The transactional outbox and its PII-free helper tables (projections/outbox.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # projections/outbox.py declares the same tables; no personal data in them.
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("message_id", sa.String(64), nullable=False, unique=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    # The relay's question: unpublished rows in id order.
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "id"])
    op.create_table(
        "outbox_referrals",
        sa.Column("referral_id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("claimed", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "outbox_signals",
        sa.Column("signal_id", sa.Uuid(), primary_key=True),
        sa.Column("partner_id", sa.String(63), nullable=True),
        sa.Column("partner_signal_id", sa.String(100), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
    )
    op.create_index("ix_outbox_signals_case_id", "outbox_signals", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_signals_case_id", table_name="outbox_signals")
    op.drop_table("outbox_signals")
    op.drop_table("outbox_referrals")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")
