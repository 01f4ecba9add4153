"""Indexes for the lookups projections make per page of events.

- ``ix_audit_trail_referral_requests``: the audit trail finds the case of a referral by the
  row of its request (``resource = 'verwijzing' AND actie = 'aanmaken'``); without an index
  every page read the whole trail. Partial: one entry per referral.
- ``ix_outbox_referrals_case_id``: the outbox reads the referrals of a case a signal joins.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_REQUESTS = sa.text("resource = 'verwijzing' AND actie = 'aanmaken'")


def upgrade() -> None:
    op.create_index(
        "ix_audit_trail_referral_requests",
        "audit_trail",
        ["resource_id"],
        postgresql_where=_REQUESTS,
        sqlite_where=_REQUESTS,
    )
    op.create_index("ix_outbox_referrals_case_id", "outbox_referrals", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_referrals_case_id", table_name="outbox_referrals")
    op.drop_index("ix_audit_trail_referral_requests", table_name="audit_trail")
