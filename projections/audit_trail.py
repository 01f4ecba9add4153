"""The audit trail: who read or changed what, when and why (DESIGN §9, issue 6 item 4).

One row per event that a person or partner caused, shaped like the ZGW audittrail
(bron, applicatieId, gebruikersId, actie, resultaat, hoofdObject, resource, toelichting,
aanmaakdatum). Changes come from their own events (the actor is in the metadata); reads of
personal data from ``PersonalDataViewed``. No personal data: ids, roles, actions, and the
purpose a reader gave.

Actors are written as ``<rol>:<applicatie>`` or ``<rol>:<applicatie>/<gebruiker>``, e.g.
``team:wijkteam-noord/mw-0042``, ``partner:vitens``, ``beheerder:fb-almelo``. An event
without an actor was written by the hub itself (rol ``systeem``, e.g. routing).

The hoofdObject is the case (``zaak:<uuid>``) wherever the event reaches one: a referral's
events through its ``ReferralRequested``, which this projection remembers in its own rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Uuid,
    and_,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from events.catalogue.audit import PersonalDataViewed
from events.catalogue.cases import CaseCancelled, CaseClosed, CaseOpened
from events.catalogue.referrals import (
    ContactAttemptRecorded,
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralReleased,
    ReferralRequested,
    ReferralRerouted,
)
from events.catalogue.signals import SignalReceived, SignalRejected, SignalUpdated, SignalWithdrawn
from events.envelope import RecordedEvent
from events.store.bulk_rows import driver_in_transaction

BRON: Final = "signaalhub"

metadata = MetaData()

audit_trail = Table(
    "audit_trail",
    metadata,
    Column("position", BigInteger(), primary_key=True, autoincrement=False),
    Column("event_id", Uuid(), nullable=False),
    Column("applicatie_id", String(100), nullable=False),
    Column("gebruikers_id", String(100), nullable=False),
    Column("rol", String(30), nullable=False),
    Column("actie", String(40), nullable=False),
    Column("resultaat", String(40), nullable=False),
    Column("hoofd_object", String(100), nullable=True),
    Column("resource", String(40), nullable=False),
    Column("resource_id", String(100), nullable=True),
    Column("toelichting", String(500), nullable=True),
    Column("aanmaakdatum", DateTime(timezone=True), nullable=False),
)
Index("ix_audit_trail_hoofd_object", audit_trail.c.hoofd_object)
Index("ix_audit_trail_aanmaakdatum", audit_trail.c.aanmaakdatum)
_REQUEST_ROWS = and_(audit_trail.c.resource == "verwijzing", audit_trail.c.actie == "aanmaken")
Index(  # migration 0013: the case of a referral, from its request's row
    "ix_audit_trail_referral_requests",
    audit_trail.c.resource_id,
    postgresql_where=_REQUEST_ROWS,
    sqlite_where=_REQUEST_ROWS,
)

REFERRAL_ACTIONS: Final[dict[type[Any], str]] = {
    ReferralRequested: "aanmaken",
    ReferralClaimed: "oppakken",
    ContactAttemptRecorded: "contactpoging",
    ReferralClosed: "afsluiten",
    ReferralReleased: "vrijgeven",
    ReferralRerouted: "doorverwijzen",
    ReferralCancelled: "annuleren",
}
SIGNAL_ACTIONS: Final[dict[type[Any], str]] = {
    SignalReceived: "aanmaken",
    SignalUpdated: "wijzigen",
    SignalWithdrawn: "intrekken",
    SignalRejected: "afwijzen",
}
CASE_ACTIONS: Final[dict[type[Any], str]] = {
    CaseOpened: "aanmaken",
    CaseClosed: "afsluiten",
    CaseCancelled: "annuleren",
}


@dataclass(frozen=True)
class Actor:
    role: str
    application: str
    user: str


def parse_actor(actor: str | None) -> Actor:
    if not actor:
        return Actor("systeem", BRON, BRON)
    role, _, rest = actor.partition(":")
    application, _, user = rest.partition("/")
    return Actor(role or "systeem", application or BRON, user or application or BRON)


_COLUMNS: Final = tuple(c.name for c in audit_trail.columns)
"""The table's columns in the order of a row tuple (``_row``): what COPY sends."""


def _row(
    recorded: RecordedEvent,
    action: str,
    resource: str,
    resource_id: object,
    main_object: str | None,
    explanation: str | None = None,
) -> tuple[Any, ...]:
    actor = _actor(recorded.metadata.actor)
    return (
        recorded.position,
        recorded.event_id,
        actor.application[:100],
        actor.user[:100],
        actor.role[:30],
        action,
        "geslaagd",
        main_object,
        resource,
        str(resource_id) if resource_id is not None else None,
        explanation,
        recorded.recorded_at,
    )


_SYSTEM: Final = Actor("systeem", BRON, BRON)


def _actor(actor: str | None) -> Actor:
    return _SYSTEM if not actor else parse_actor(actor)


def case_ref(case_id: uuid.UUID) -> str:
    return f"zaak:{case_id}"


@dataclass
class AuditPage:
    """A page on its way: the cases of the referrals it acts on, then its rows."""

    cases_of: dict[uuid.UUID, str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


class AuditTrailProjection:
    """Writes one ``audit_trail`` row per event a person, partner or the hub caused.

    A page at once (``apply_batch``): the events are sorted by exact type (a dict lookup, no
    ``isinstance`` on pydantic models), the cases of the referrals the page acts on but did
    not request are read in one query (the partial index of migration 0013 answers it), and
    the rows are written with one COPY on PostgreSQL (one multi-row INSERT on SQLite), in the
    transaction that also moves the checkpoint."""

    name = "audit_trail"
    tables: tuple[Table, ...] = (audit_trail,)

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        await self.apply_batch(conn, [recorded])

    async def apply_batch(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> None:
        state = await self.read_page(conn, page)
        self.fold_page(state, page)
        await self.write_page(conn, state)

    # ``apply_batch`` in three stages: read what the page needs, fold it in memory, write.

    async def read_page(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> AuditPage:
        return AuditPage(await self._cases_of_referrals(conn, page))

    def fold_page(self, state: AuditPage, page: Sequence[RecordedEvent]) -> None:
        cases_of = state.cases_of
        state.rows = [row for recorded in page if (row := self._audit(recorded, cases_of))]

    async def write_page(self, conn: AsyncConnection, state: AuditPage) -> None:
        rows = state.rows
        if not rows:
            return
        if conn.dialect.name == "postgresql":
            driver = await driver_in_transaction(conn)
            await driver.copy_records_to_table("audit_trail", records=rows, columns=_COLUMNS)
        else:
            named = [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
            await conn.execute(insert(audit_trail), named)

    @staticmethod
    def _audit(recorded: RecordedEvent, cases_of: dict[uuid.UUID, str]) -> tuple[Any, ...] | None:
        event: Any = recorded.event
        kind = type(event)
        action = REFERRAL_ACTIONS.get(kind)
        if action is not None:
            referral_id: uuid.UUID = event.referral_id
            if kind is ReferralRequested:
                cases_of[referral_id] = case_ref(event.case_id)
            return _row(recorded, action, "verwijzing", referral_id, cases_of.get(referral_id))
        action = CASE_ACTIONS.get(kind)
        if action is not None:
            case_id: uuid.UUID = event.case_id
            return _row(recorded, action, "zaak", case_id, case_ref(case_id))
        action = SIGNAL_ACTIONS.get(kind)
        if action is not None:
            subject = getattr(event, "signal_id", None) or getattr(event, "rejection_id", None)
            return _row(recorded, action, "signaal", subject, None)
        if kind is PersonalDataViewed:
            return _row(
                recorded,
                "lezen",
                event.resource,
                event.referral_id or event.case_id,
                case_ref(event.case_id),
                event.purpose,
            )
        if recorded.event_type == "PersonalDataErased":
            household = getattr(event, "household_id", None)
            reason = getattr(event, "reason", None)
            return _row(recorded, "wissen", "persoonsgegevens", household, None, reason)
        return None

    @staticmethod
    async def _cases_of_referrals(
        conn: AsyncConnection, page: Sequence[RecordedEvent]
    ) -> dict[uuid.UUID, str]:
        """The case of every referral the page acts on but did not request itself."""
        requested: set[uuid.UUID] = set()
        wanted: set[str] = set()
        for recorded in page:
            kind = type(recorded.event)
            if kind in REFERRAL_ACTIONS:
                referral_id = recorded.event.referral_id  # type: ignore[attr-defined]
                if kind is ReferralRequested:
                    requested.add(referral_id)
                elif referral_id not in requested:
                    wanted.add(str(referral_id))
        if not wanted:
            return {}
        if conn.dialect.name == "postgresql":
            driver = await driver_in_transaction(conn)
            rows = await driver.fetch(_REQUESTS_OF, list(wanted))
            return {uuid.UUID(rid): main for rid, main in rows}
        query = select(audit_trail.c.resource_id, audit_trail.c.hoofd_object).where(
            _REQUEST_ROWS, audit_trail.c.resource_id.in_(wanted)
        )
        return {uuid.UUID(rid): main for rid, main in (await conn.execute(query)).all()}


_REQUESTS_OF: Final = (
    "SELECT k.id, t.hoofd_object FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL "
    "(SELECT hoofd_object FROM audit_trail WHERE resource_id = k.id "
    "AND resource = 'verwijzing' AND actie = 'aanmaken' LIMIT 1) AS t"
)
"""A referral's request row by its id: one probe of ``ix_audit_trail_referral_requests``
per referral (LATERAL, so no plan can read the whole index instead, as a join did on a
freshly bulk-written table without statistics)."""


@dataclass(frozen=True)
class AuditQuery:
    """Filters of ``/v1/audit``; ``None`` means any."""

    hoofd_object: str | None = None
    actie: str | None = None
    rol: str | None = None
    applicatie_id: str | None = None
    since: Any = None
    """An aware datetime: entries at or after it."""
    until: Any = None
    """An aware datetime: entries before it."""


async def read_audit_trail(
    conn: AsyncConnection, wanted: AuditQuery, *, limit: int, offset: int = 0
) -> tuple[int, list[dict[str, Any]]]:
    """Matching entries, newest first, and how many match in all."""
    from sqlalchemy import func

    a = audit_trail.c
    conditions = []
    if wanted.hoofd_object is not None:
        conditions.append(a.hoofd_object == wanted.hoofd_object)
    if wanted.actie is not None:
        conditions.append(a.actie == wanted.actie)
    if wanted.rol is not None:
        conditions.append(a.rol == wanted.rol)
    if wanted.applicatie_id is not None:
        conditions.append(a.applicatie_id == wanted.applicatie_id)
    if wanted.since is not None:
        conditions.append(a.aanmaakdatum >= wanted.since)
    if wanted.until is not None:
        conditions.append(a.aanmaakdatum < wanted.until)
    total = await conn.scalar(select(func.count()).select_from(audit_trail).where(*conditions))
    rows = await conn.execute(
        select(audit_trail)
        .where(*conditions)
        .order_by(a.position.desc())
        .limit(limit)
        .offset(offset)
    )
    return int(total or 0), [dict(row._mapping) for row in rows]
