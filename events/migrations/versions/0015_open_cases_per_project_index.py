"""An index for intake's count of open cases per project.

Intake reads the open cases per project once a batch (a project's capacity, e.g.
Doorbraakmethode's 375 households), and without an index that read scanned the whole
``household_cases`` table, which only grows. A partial index holds just the open cases that
have a project.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_OPEN_WITH_PROJECT = sa.text("status = 'open' AND project IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_household_cases_open_project",
        "household_cases",
        ["project"],
        postgresql_where=_OPEN_WITH_PROJECT,
        sqlite_where=_OPEN_WITH_PROJECT,
    )


def downgrade() -> None:
    op.drop_index("ix_household_cases_open_project", table_name="household_cases")
