"""Read model of the audit trail: who read or changed what, when and why (DESIGN §9, issue 6).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # projections/audit_trail.py declares the same table; ids and roles only, no personal data.
    op.create_table(
        "audit_trail",
        sa.Column("position", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("applicatie_id", sa.String(100), nullable=False),
        sa.Column("gebruikers_id", sa.String(100), nullable=False),
        sa.Column("rol", sa.String(30), nullable=False),
        sa.Column("actie", sa.String(40), nullable=False),
        sa.Column("resultaat", sa.String(40), nullable=False),
        sa.Column("hoofd_object", sa.String(100), nullable=True),
        sa.Column("resource", sa.String(40), nullable=False),
        sa.Column("resource_id", sa.String(100), nullable=True),
        sa.Column("toelichting", sa.String(500), nullable=True),
        sa.Column("aanmaakdatum", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audit_trail_hoofd_object", "audit_trail", ["hoofd_object"])
    op.create_index("ix_audit_trail_aanmaakdatum", "audit_trail", ["aanmaakdatum"])


def downgrade() -> None:
    op.drop_table("audit_trail")
