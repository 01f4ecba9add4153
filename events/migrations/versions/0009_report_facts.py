"""Read model of the management report: PII-free facts per case, referral and signal
(projections/report_facts.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # projections/report_facts.py declares the same tables; no personal data in them.
    op.create_table(
        "report_cases",
        sa.Column("case_id", sa.Uuid(), primary_key=True),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("gemeentecode", sa.String(4), nullable=False),
        sa.Column("pc4", sa.String(4), nullable=False),
        sa.Column("wijk", sa.String(64), nullable=True),
        sa.Column("partner_types", sa.String(400), nullable=False),
        sa.Column("earliest_signal_date", sa.Date(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(80), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_report_cases_closed_on", "report_cases", ["closed_on"])
    op.create_table(
        "report_referrals",
        sa.Column("referral_id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("first_contact_due", sa.Date(), nullable=False),
        sa.Column("closure_due", sa.Date(), nullable=False),
        sa.Column("claimed_on", sa.Date(), nullable=True),
        sa.Column("first_attempt_on", sa.Date(), nullable=True),
        sa.Column("first_reached_on", sa.Date(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(80), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("ended_how", sa.String(20), nullable=True),
        sa.Column("final_on", sa.Date(), nullable=True),
    )
    if op.get_bind().dialect.name == "postgresql":
        # The report's period query: referrals whose days in a queue overlap the period
        # (projections/report_facts.py REFERRAL_SPAN, the same expression).
        op.execute(
            "CREATE INDEX ix_report_referrals_span ON report_referrals "
            "USING gist (daterange(requested_on, final_on, '[]'))"
        )
    else:
        op.create_index("ix_report_referrals_final_on", "report_referrals", ["final_on"])
    op.create_index(
        "ix_report_referrals_project_requested", "report_referrals", ["project", "requested_on"]
    )
    op.create_table(
        "report_signals",
        sa.Column("signal_id", sa.Uuid(), primary_key=True),
        sa.Column("partner_id", sa.String(63), nullable=False),
        sa.Column("partner_type", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("crisis", sa.Boolean(), nullable=False),
        sa.Column("signal_date", sa.Date(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("gemeentecode", sa.String(4), nullable=False),
        sa.Column("in_municipality", sa.Boolean(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
    )
    op.create_index("ix_report_signals_received_on", "report_signals", ["received_on"])
    op.create_index(
        "ix_report_signals_household", "report_signals", ["household_id", "received_on"]
    )


def downgrade() -> None:
    op.drop_index("ix_report_signals_household", table_name="report_signals")
    op.drop_index("ix_report_signals_received_on", table_name="report_signals")
    op.drop_table("report_signals")
    op.drop_index("ix_report_referrals_project_requested", table_name="report_referrals")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_report_referrals_span", table_name="report_referrals")
    else:
        op.drop_index("ix_report_referrals_final_on", table_name="report_referrals")
    op.drop_table("report_referrals")
    op.drop_index("ix_report_cases_closed_on", table_name="report_cases")
    op.drop_table("report_cases")
