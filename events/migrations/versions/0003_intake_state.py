"""Intake state: personal data, the signal index, household match keys and cases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_data",
        sa.Column("subject_id", sa.Uuid(), primary_key=True),
        sa.Column("household_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_personal_data_household", "personal_data", ["household_id"])
    op.create_table(
        "intake_signals",
        sa.Column("partner_id", sa.String(63), primary_key=True),
        sa.Column("partner_signal_id", sa.String(100), primary_key=True),
        sa.Column("signal_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("original_hash", sa.String(64), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("signal_date", sa.Date(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_intake_signals_household", "intake_signals", ["household_id"])
    op.create_table(
        "household_keys",
        sa.Column("match_key", sa.String(64), primary_key=True),
        sa.Column("household_id", sa.Uuid(), nullable=False),
    )
    op.create_table(
        "household_cases",
        sa.Column("case_id", sa.Uuid(), primary_key=True),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("window_starts", sa.Date(), nullable=False),
        sa.Column("window_ends", sa.Date(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("active_signals", sa.Integer(), nullable=False),
        sa.Column("picked_up", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_household_cases_household", "household_cases", ["household_id"])


def downgrade() -> None:
    op.drop_table("household_cases")
    op.drop_table("household_keys")
    op.drop_table("intake_signals")
    op.drop_table("personal_data")
