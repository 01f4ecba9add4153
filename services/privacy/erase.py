"""Erasing personal data: the retention run, and a person's request (AVG art. 17).

Erasing an owner (a household, or a rejected input) in one transaction: its data key is
destroyed (crypto-shredding), records from before encryption are blanked, the hashed match
keys that linked a BSN or address to the household are deleted (a BSN hash can be reversed
by trying every BSN), and ``PersonalDataErased`` is recorded. Signals, cases, referrals and
their events stay as they are: every count and outcome survives.

Every erasure takes the store's write lock, so intake does not seal a new record under a key
that is being erased.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from events.catalogue.privacy import PersonalDataErased
from events.catalogue.vocabulary import Outcome
from events.envelope import Metadata, NewEvent, StreamAppend
from events.store import SqlEventStore
from services.intake.bulk_filters import one_of
from services.intake.state import bsn_match_key
from services.intake.tables import household_cases, household_keys, personal_data
from services.privacy.household_keys import erase_data_keys
from services.privacy.personal_store import (
    REJECTED_INPUT,
    blank_plaintext_records,
    count_records,
)
from services.privacy.retention import (
    RULE_REQUEST,
    EndedCase,
    Expiry,
    RetentionPolicy,
    ended_on,
    household_expiry,
    is_expired,
    rejection_expiry,
)
from services.privacy.tables import household_data_keys

ERASED_KEY_ID = "-"
"""``household_data_keys.key_id`` of a row made only to mark an owner without key erased."""


@dataclass(frozen=True)
class Erasure:
    """One owner whose personal data goes (or would go, in a dry run)."""

    owner_id: uuid.UUID
    rule: str
    records: int
    expired_on: date | None = None


@dataclass(frozen=True)
class RetentionRun:
    today: date
    dry_run: bool
    erasures: tuple[Erasure, ...] = ()
    waiting: int = 0
    """Owners with personal data that may not go yet (open cases, or not long enough)."""

    def per_rule(self) -> dict[str, tuple[int, int]]:
        """Per rule: (owners, records)."""
        owners: Counter[str] = Counter()
        records: Counter[str] = Counter()
        for erasure in self.erasures:
            owners[erasure.rule] += 1
            records[erasure.rule] += erasure.records
        return {rule: (owners[rule], records[rule]) for rule in sorted(owners)}


@dataclass(frozen=True)
class RequestResult:
    found: bool
    erasures: tuple[Erasure, ...] = field(default=())

    @property
    def records(self) -> int:
        return sum(e.records for e in self.erasures)


def stream_of(owner_id: uuid.UUID) -> str:
    return f"personal-data-{owner_id}"


async def run_retention(
    store: SqlEventStore,
    policy: RetentionPolicy,
    today: date,
    *,
    dry_run: bool,
    requested_by: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RetentionRun:
    """Find every owner whose personal data expired by ``today`` and, unless ``dry_run``,
    erase it with ``PersonalDataErased`` (reason: the retention policy, and its rule)."""
    async with store.engine.connect() as conn:
        live = await _owners_with_live_data(conn)
        households, waiting = await _expired_households(store, conn, policy, today, live)
        rejections, waiting_rejections = await _expired_rejections(conn, policy, today, live)
        found = households + rejections
        counts = await count_records(conn, [owner for owner, _ in found])
    erasures = tuple(
        Erasure(owner, expiry.rule, counts.get(owner, 0), expiry.expires_on)
        for owner, expiry in found
    )
    if not dry_run and erasures:
        erased = await erase(
            store,
            erasures,
            reason=lambda e: f"bewaartermijn verstreken op {e.expired_on} (regel {e.rule})",
            requested_by=requested_by,
            now=now(),
            unless_open=True,
        )
        waiting += len(erasures) - len(erased)
        erasures = erased
    return RetentionRun(today, dry_run, erasures, waiting + waiting_rejections)


async def erase(
    store: SqlEventStore,
    erasures: Sequence[Erasure],
    *,
    reason: Callable[[Erasure], str],
    requested_by: str,
    now: datetime,
    unless_open: bool = False,
) -> tuple[Erasure, ...]:
    """Erase the owners of ``erasures`` in one transaction under the store's write lock;
    returns what was erased, with the records counted under the lock. ``unless_open``
    (retention): a household that got an open case since it was found is left alone."""
    async with store.unit_of_work() as uow:
        await uow.lock()
        conn = uow.connection
        if unless_open:
            reopened = await _with_open_case(conn, [e.owner_id for e in erasures])
            erasures = [e for e in erasures if e.owner_id not in reopened]
        owners = [e.owner_id for e in erasures]
        if not owners:
            return ()
        counts = await count_records(conn, owners)
        done = tuple(dataclasses.replace(e, records=counts.get(e.owner_id, 0)) for e in erasures)
        await erase_data_keys(conn, owners, now)
        await _mark_keyless_owners_erased(conn, owners, now)
        await blank_plaintext_records(conn, owners)
        await conn.execute(
            delete(household_keys).where(
                one_of(household_keys.c.household_id, owners, conn.dialect.name)
            )
        )
        metadata = Metadata(actor=requested_by)
        await uow.append_many(
            [
                StreamAppend(
                    stream_of(e.owner_id),
                    [
                        NewEvent(
                            PersonalDataErased(
                                household_id=e.owner_id,
                                reason=reason(e)[:500],
                                rule=e.rule,
                                records=e.records,
                                requested_by=requested_by,
                            ),
                            metadata,
                        )
                    ],
                )
                for e in done
            ]
        )
    return done


async def _with_open_case(conn: AsyncConnection, owners: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    c = household_cases.c
    rows = await conn.execute(
        select(c.household_id)
        .where(one_of(c.household_id, owners, conn.dialect.name))
        .where(c.status == "open")
    )
    return {household for (household,) in rows}


async def erase_by_bsn(
    store: SqlEventStore, bsn: str, reason: str, requested_by: str
) -> RequestResult:
    """Erase the household a BSN belongs to (the BSN is hashed, never stored or echoed)."""
    async with store.engine.connect() as conn:
        household = (
            await conn.execute(
                select(household_keys.c.household_id).where(
                    household_keys.c.match_key == bsn_match_key(bsn)
                )
            )
        ).scalar_one_or_none()
    if household is None:
        return RequestResult(found=False)
    return await _erase_on_request(store, [household], reason, requested_by)


async def erase_by_case(
    store: SqlEventStore, case_id: uuid.UUID, reason: str, requested_by: str
) -> RequestResult:
    """Erase the household of a case."""
    async with store.engine.connect() as conn:
        household = (
            await conn.execute(
                select(household_cases.c.household_id).where(household_cases.c.case_id == case_id)
            )
        ).scalar_one_or_none()
    if household is None:
        return RequestResult(found=False)
    return await _erase_on_request(store, [household], reason, requested_by)


async def _erase_on_request(
    store: SqlEventStore, owners: list[uuid.UUID], reason: str, requested_by: str
) -> RequestResult:
    erased = await erase(
        store,
        [Erasure(owner, RULE_REQUEST, 0) for owner in owners],
        reason=lambda _: reason,
        requested_by=requested_by,
        now=datetime.now(UTC),
    )
    return RequestResult(found=True, erasures=erased)


# -- finding what expired ----------------------------------------------------------------------


async def _owners_with_live_data(conn: AsyncConnection) -> set[uuid.UUID]:
    """Owners of personal data that is not erased yet: a live key, or no key row at all
    (records from before encryption)."""
    t = household_data_keys.c
    erased = {
        owner
        for (owner,) in await conn.execute(select(t.household_id).where(t.wrapped_key.is_(None)))
    }
    p = personal_data.c
    owners = {
        household if household is not None else subject
        for subject, household in await conn.execute(select(p.subject_id, p.household_id))
    }
    return owners - erased


async def _expired_households(
    store: SqlEventStore,
    conn: AsyncConnection,
    policy: RetentionPolicy,
    today: date,
    live: set[uuid.UUID],
) -> tuple[list[tuple[uuid.UUID, Expiry]], int]:
    c = household_cases.c
    cases: dict[uuid.UUID, list[tuple[uuid.UUID, str, str | None, uuid.UUID | None]]] = {}
    for household, case_id, status, outcome, referral_id in await conn.execute(
        select(c.household_id, c.case_id, c.status, c.outcome, c.referral_id)
    ):
        if household in live:
            cases.setdefault(household, []).append((case_id, status, outcome, referral_id))
    expired: list[tuple[uuid.UUID, Expiry]] = []
    waiting = 0
    for household, rows in cases.items():
        if any(status == "open" for _, status, _, _ in rows):
            waiting += 1
            continue  # no need to read its events: an open case keeps everything
        ended = [await _ended_case(store, *row) for row in rows]
        expiry = household_expiry(policy, ended)
        if is_expired(expiry, today):
            assert expiry is not None
            expired.append((household, expiry))
        else:
            waiting += 1
    return expired, waiting


async def _ended_case(
    store: SqlEventStore,
    case_id: uuid.UUID,
    status: str,
    outcome: str | None,
    referral_id: uuid.UUID | None,
) -> EndedCase:
    recorded = await store.read_stream(f"case-{case_id}")
    if referral_id is not None:
        recorded += await store.read_stream(f"referral-{referral_id}")
    return EndedCase(
        case_id,
        status,
        _outcome(outcome),
        ended_on((r.event, r.recorded_at) for r in recorded),
    )


def _outcome(value: str | None) -> Outcome | None:
    return next((o for o in Outcome if o.value == value), None)


async def _expired_rejections(
    conn: AsyncConnection, policy: RetentionPolicy, today: date, live: set[uuid.UUID]
) -> tuple[list[tuple[uuid.UUID, Expiry]], int]:
    p = personal_data.c
    expired: list[tuple[uuid.UUID, Expiry]] = []
    waiting = 0
    for subject_id, recorded_at in await conn.execute(
        select(p.subject_id, p.recorded_at).where(p.kind == REJECTED_INPUT)
    ):
        if subject_id not in live:
            continue
        expiry = rejection_expiry(policy, recorded_at.date())
        if is_expired(expiry, today):
            expired.append((subject_id, expiry))
        else:
            waiting += 1
    return expired, waiting


async def _mark_keyless_owners_erased(
    conn: AsyncConnection, owners: Sequence[uuid.UUID], now: datetime
) -> None:
    """Owners whose records predate encryption have no key row: add one, marked erased, so
    a later run does not find them again."""
    t = household_data_keys.c
    present = {
        owner
        for (owner,) in await conn.execute(
            select(t.household_id).where(one_of(t.household_id, owners, conn.dialect.name))
        )
    }
    missing = [owner for owner in owners if owner not in present]
    if missing:
        await conn.execute(
            household_data_keys.insert(),
            [
                {
                    "household_id": owner,
                    "key_id": ERASED_KEY_ID,
                    "generation": 0,
                    "wrapped_key": None,
                    "created_at": now,
                    "erased_at": now,
                }
                for owner in missing
            ],
        )


async def erased_owner_count(conn: AsyncConnection) -> int:
    t = household_data_keys.c
    return int(
        (
            await conn.execute(
                select(func.count()).select_from(household_data_keys).where(t.wrapped_key.is_(None))
            )
        ).scalar_one()
    )
