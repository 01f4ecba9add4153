"""What a team needs to contact the resident of one of its referrals: the case's signals and
the resident's details (issue 4, item 4).

The signals come from intake's own table (``intake_signals``); names, address and contact
details from ``personal_data`` — the only place they are kept (DESIGN §9). The resident's
details are those of the newest signal or signal update of the case's household, since a
partner's later delivery carries the address and phone number as they are now.

This is the one read of personal data on behalf of a team; the audit trail of such reads
belongs with it (issue 6). The records are sealed per household
(``services.privacy.personal_store``); once the household's key is erased the resident is
``None`` and ``personal_data_erased`` says why, while the signals' facts stay.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.tables import intake_signals
from services.privacy.personal_store import read_personal_records

PERSON_FIELDS = (
    "bsn",
    "initials",
    "surname_prefix",
    "surname",
    "birth_date",
    "street",
    "house_number",
    "house_number_addition",
    "postcode",
    "city",
    "phone",
    "email",
)
"""The resident's details a team sees; anything else in the stored record is not shown."""


@dataclass(frozen=True)
class CaseSignal:
    signal_id: uuid.UUID
    partner_id: str
    partner_type: str
    kind: str
    amount: Decimal
    signal_date: date
    crisis: bool
    warm_handover: bool
    withdrawn: bool
    customer_number: str | None


@dataclass(frozen=True)
class CaseDetails:
    case_id: uuid.UUID
    signals: tuple[CaseSignal, ...]
    resident: dict[str, Any] | None
    """``None`` when no personal data is kept (any more) for the case's signals."""
    personal_data_erased: bool = False
    """The resident's personal data was erased (retention or a request): not missing, gone."""


async def read_case_details(conn: AsyncConnection, case_id: uuid.UUID) -> CaseDetails:
    s = intake_signals.c
    rows = (
        await conn.execute(
            select(intake_signals).where(s.case_id == case_id).order_by(s.signal_date)
        )
    ).all()
    if not rows:
        return CaseDetails(case_id, (), None)
    households = {row.household_id for row in rows}
    signal_ids = [row.signal_id for row in rows]
    records = {
        **await read_personal_records(conn, subject_ids=signal_ids),
        **await read_personal_records(conn, households=households, kinds={"signal-update"}),
    }
    ordered = sorted(records.values(), key=lambda r: (r.recorded_at, r.subject_id))
    by_signal = {r.subject_id: r.details() or {} for r in ordered if r.kind == "signal"}
    readable = [r for r in ordered if not r.erased]
    newest = readable[-1].details() if readable else None
    signals = tuple(
        CaseSignal(
            signal_id=row.signal_id,
            partner_id=row.partner_id,
            partner_type=row.partner_type,
            kind=row.kind,
            amount=row.amount,
            signal_date=row.signal_date,
            crisis=bool(row.crisis),
            warm_handover=bool(row.warm_handover),
            withdrawn=bool(row.withdrawn),
            customer_number=by_signal.get(row.signal_id, {}).get("customer_number"),
        )
        for row in rows
    )
    resident = {key: newest.get(key) for key in PERSON_FIELDS} if newest else None
    erased = resident is None and any(r.erased for r in ordered)
    return CaseDetails(case_id, signals, resident, personal_data_erased=erased)
