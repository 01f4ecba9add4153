"""Intake's own tables, written in the same transaction as the events they belong with.

They hold what intake must look up to decide (is this signal known? which household is this?
which case is open?) — state derived from the events plus the personal data, kept so that a
decision needs no replay. Match keys are hashes; personal data lives only in
``personal_data``, sealed under each household's data key and written and read only through
``services.privacy.personal_store`` (issue 6).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    false,
    text,
    true,
)

metadata = MetaData()

personal_data = Table(
    "personal_data",
    metadata,
    Column("subject_id", Uuid(), primary_key=True),  # a signal id or a rejection id
    Column("household_id", Uuid(), nullable=True),
    Column("kind", String(20), nullable=False),  # signal | rejected-input
    Column("data", Text(), nullable=False),  # v1:<key generation>:<nonce+ciphertext>
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_personal_data_household", personal_data.c.household_id)

intake_signals = Table(
    "intake_signals",
    metadata,
    Column("partner_id", String(63), primary_key=True),
    Column("partner_signal_id", String(100), primary_key=True),
    Column("signal_id", Uuid(), nullable=False, unique=True),
    Column("household_id", Uuid(), nullable=False),
    Column("case_id", Uuid(), nullable=False),
    Column("original_hash", String(64), nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("signal_date", Date(), nullable=False),
    Column("withdrawn", Boolean(), nullable=False),
    # PII-free facts routing looks at (migration 0006).
    Column("partner_type", String(40), nullable=False, server_default=""),
    Column("kind", String(30), nullable=False, server_default=""),
    Column("crisis", Boolean(), nullable=False, server_default=false()),
    Column("warm_handover", Boolean(), nullable=False, server_default=false()),
    Column("age_band", String(10), nullable=True),
)
Index("ix_intake_signals_household", intake_signals.c.household_id)

household_keys = Table(
    "household_keys",
    metadata,
    Column("match_key", String(64), primary_key=True),
    Column("household_id", Uuid(), nullable=False),
)

household_cases = Table(
    "household_cases",
    metadata,
    Column("case_id", Uuid(), primary_key=True),
    Column("household_id", Uuid(), nullable=False),
    Column("window_starts", Date(), nullable=False),
    Column("window_ends", Date(), nullable=False),
    Column("status", String(20), nullable=False),  # open | closed | cancelled
    Column("active_signals", Integer(), nullable=False),
    Column("picked_up", Boolean(), nullable=False),
    # Where routing placed the case (migration 0006).
    Column("gemeentecode", String(4), nullable=False, server_default=""),
    Column("pc4", String(4), nullable=False, server_default=""),
    Column("in_municipality", Boolean(), nullable=False, server_default=true()),
    Column("project", String(63), nullable=True),
    Column("team", String(63), nullable=True),
    Column("referral_id", Uuid(), nullable=True),
    Column("outcome", String(80), nullable=True),
)
Index("ix_household_cases_household", household_cases.c.household_id)
Index(
    "ix_household_cases_open_project",
    household_cases.c.project,
    postgresql_where=text("status = 'open' AND project IS NOT NULL"),
    sqlite_where=text("status = 'open' AND project IS NOT NULL"),
)
