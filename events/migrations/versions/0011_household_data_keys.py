"""Personal data encrypted per household: the wrapped data keys (DESIGN §9, issue 6).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # services/privacy/tables.py declares the same table. Keys are stored wrapped under a
    # master key that is never in the database; rows written before this revision stay
    # readable as they are and are blanked when their household is erased.
    op.create_table(
        "household_data_keys",
        sa.Column("household_id", sa.Uuid(), primary_key=True),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_household_data_keys_key_id", "household_data_keys", ["key_id"])


def downgrade() -> None:
    op.drop_table("household_data_keys")
