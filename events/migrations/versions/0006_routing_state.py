"""Intake state for routing: the PII-free facts of each signal, and where each case went.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def signal_facts() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("partner_type", sa.String(40), nullable=False, server_default=""),
        sa.Column("kind", sa.String(30), nullable=False, server_default=""),
        sa.Column("crisis", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("warm_handover", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("age_band", sa.String(10), nullable=True),
    )


def case_routing() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("gemeentecode", sa.String(4), nullable=False, server_default=""),
        sa.Column("pc4", sa.String(4), nullable=False, server_default=""),
        sa.Column("in_municipality", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("project", sa.String(63), nullable=True),
        sa.Column("team", sa.String(63), nullable=True),
        sa.Column("referral_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.String(80), nullable=True),
    )


def upgrade() -> None:
    # New Column objects each time: a Column belongs to one table once added.
    for column in signal_facts():
        op.add_column("intake_signals", column)
    for column in case_routing():
        op.add_column("household_cases", column)


def downgrade() -> None:
    with op.batch_alter_table("household_cases") as batch:
        for column in case_routing():
            batch.drop_column(column.name)
    with op.batch_alter_table("intake_signals") as batch:
        for column in signal_facts():
            batch.drop_column(column.name)
