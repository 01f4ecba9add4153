"""The transactional outbox: broker messages kept as a projection (DESIGN §7, issue 4 item 5).

The runner applies a projection in the same transaction that moves its checkpoint, so every
event writes its outbox rows exactly once and in the same commit as the read models; the
relay (``adapters.broker.outbox_relay``) publishes the rows at least once with their
``message_id`` as ``Nats-Msg-Id``, and JetStream's deduplication makes that effectively once.

Messages (CloudEvents 1.0 JSON, NL GOV profile), none with personal data:

- ``verwijzingen.<project>.<team>``: a referral was requested (``…verwijzing.aangevraagd``),
  rerouted to that team (``…verwijzing.doorverwezen``) or cancelled (``…verwijzing.ingetrokken``,
  on the referral's own team). Ids, project, team, urgency and due dates, and the path to fetch
  the details over HTTP; never a reason (a work note may name a person).
- ``terugkoppeling.<partner>``: per signal of the case, whether it was picked up and, when the
  referral closed, whether help was accepted. Never the outcome or a reason (DESIGN §7).

To know the team of a referral and the partners of a case, the projection keeps two small
PII-free helper tables: ``outbox_referrals`` (referral → case, project, team,
whether a worker has it now) and
``outbox_signals`` (signal → partner, the partner's signaalId, case).

A page of events is applied at once (``apply_batch``): the helper rows the page needs are
read with one query per table and kind of key (on PostgreSQL a join on the unnested ids; on
SQLite ``IN`` lists of at most 500 ids), the page is folded in memory by plain functions over
plain rows (dispatched on the event's exact type), and the changed helper rows and the new
messages are written with one bulk statement per table (on PostgreSQL straight to asyncpg,
one array per column), in the transaction that also moves the checkpoint. ``apply`` is
``apply_batch`` of one event; either way the rows, their order and their message ids are
those of applying the events one by one. A partner's signals get their
feedback in the order of (partner, the partner's signaalId), compared by code point.

Idempotent: a row's ``message_id`` is derived from the event (and the signal), and a second
insert of the same ``message_id`` is ignored, so applying an event again adds nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy import Uuid as SqlUuid
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from events.catalogue.cases import CaseOpened, SignalAttachedToCase
from events.catalogue.referrals import (
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralReleased,
    ReferralRequested,
    ReferralRerouted,
)
from events.catalogue.signals import SignalReceived
from events.catalogue.vocabulary import Outcome
from events.envelope import RecordedEvent
from events.store.bulk_rows import driver_in_transaction

HUB_SOURCE: Final = "urn:nl:signaalhub"
REFERRAL_REQUESTED: Final = "nl.signaalhub.verwijzing.aangevraagd"
REFERRAL_REROUTED: Final = "nl.signaalhub.verwijzing.doorverwezen"
REFERRAL_CANCELLED: Final = "nl.signaalhub.verwijzing.ingetrokken"
FEEDBACK: Final = "nl.signaalhub.terugkoppeling"

REFERRAL_SUBJECTS: Final = "verwijzingen"
FEEDBACK_SUBJECTS: Final = "terugkoppeling"

NOT_PICKED_UP: Final = frozenset(
    {
        Outcome.REPEAT_SIGNAL,
        Outcome.UNJUSTIFIED_SIGNAL,
        Outcome.NOT_PICKED_UP_OTHER,
        Outcome.DECEASED,
        Outcome.NOT_A_RESIDENT,
    }
)
"""Outcomes of a case that was not picked up (DESIGN §8, "opgepakt")."""
HELP_ACCEPTED: Final = frozenset(
    {
        Outcome.ADVICE_OR_QUICK_FIX,
        Outcome.FOLLOW_UP_FINANCIAL,
        Outcome.FOLLOW_UP_NON_FINANCIAL,
    }
)
"""Outcomes that count as help accepted (DESIGN §8, hulpacceptatie)."""

# Fixed: message ids must come out the same in every hub instance, release and rebuild.
_MESSAGE_NAMESPACE: Final = uuid.UUID("6b1f0a52-3c5e-4d8f-a1b7-0f4e2d9c8a10")
_JSON: Final = json.JSONEncoder(ensure_ascii=False)
"""What ``json.dumps(..., ensure_ascii=False)`` uses, built once instead of per message."""

metadata = MetaData()

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("message_id", String(64), nullable=False, unique=True),
    Column("subject", String(255), nullable=False),
    Column("body", Text(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer(), nullable=False, default=0),
)

outbox_referrals = Table(
    "outbox_referrals",
    metadata,
    Column("referral_id", SqlUuid(), primary_key=True),
    Column("case_id", SqlUuid(), nullable=False),
    Column("project", String(64), nullable=False),
    Column("team", String(64), nullable=False),
    Column("claimed", Boolean(), nullable=False),
)

outbox_signals = Table(
    "outbox_signals",
    metadata,
    Column("signal_id", SqlUuid(), primary_key=True),
    Column("partner_id", String(63), nullable=True),
    Column("partner_signal_id", String(100), nullable=True),
    Column("case_id", SqlUuid(), nullable=True),
)
Index("ix_outbox_signals_case_id", outbox_signals.c.case_id)
Index("ix_outbox_referrals_case_id", outbox_referrals.c.case_id)  # migration 0013
Index("ix_outbox_unpublished", outbox.c.published_at, outbox.c.id)


def referral_link(referral_id: uuid.UUID) -> str:
    """Where a team fetches the referral's details (``adapters/http/referrals_api.py``)."""
    return f"/v1/verwijzingen/{referral_id}"


def referral_subject(project: str, team: str) -> str:
    return f"{REFERRAL_SUBJECTS}.{project}.{team}"


def feedback_subject(partner_id: str) -> str:
    return f"{FEEDBACK_SUBJECTS}.{partner_id}"


def message_id(*parts: object) -> str:
    return str(uuid.uuid5(_MESSAGE_NAMESPACE, "/".join(str(part) for part in parts)))


def cloudevent(
    event_id: str, event_type: str, time: datetime, subject: str, data: dict[str, Any]
) -> str:
    return _JSON.encode(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": HUB_SOURCE,
            "type": event_type,
            "subject": subject,
            "time": time.isoformat(),
            "datacontenttype": "application/json",
            "data": data,
        }
    )


class OutboxProjection:
    """Writes the broker messages of the referral events into ``outbox``."""

    name = "outbox"
    tables: tuple[Table, ...] = (outbox_referrals, outbox_signals)
    """What a rebuild empties: the helper tables only. The messages stay, with whether they
    were published: the rebuild makes each one again with the same ``message_id``, which the
    insert then skips, so a rebuild neither loses a message nor sends the history again
    (the broker's deduplication covers only its window, a day)."""

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        await self.apply_batch(conn, [recorded])

    async def apply_batch(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> None:
        state = await self.read_page(conn, page)
        self.fold_page(state, page)
        await self.write_page(conn, state)

    # ``apply_batch`` in three stages: read what the page needs, fold it in memory, write.

    async def read_page(self, conn: AsyncConnection, page: Sequence[RecordedEvent]) -> OutboxState:
        return await load_state(conn, needed_keys(page))

    def fold_page(self, state: OutboxState, page: Sequence[RecordedEvent]) -> None:
        for recorded in page:
            fold(state, recorded)

    async def write_page(self, conn: AsyncConnection, state: OutboxState) -> None:
        await save_state(conn, state)


# -- the fold: plain rows in memory --------------------------------------------------------


@dataclass(slots=True)
class SignalRow:
    """A row of ``outbox_signals``."""

    signal_id: uuid.UUID
    partner_id: str | None = None
    partner_signal_id: str | None = None
    case_id: uuid.UUID | None = None


@dataclass(slots=True)
class ReferralRow:
    """A row of ``outbox_referrals``."""

    referral_id: uuid.UUID
    case_id: uuid.UUID
    project: str
    team: str
    claimed: bool = False


@dataclass(frozen=True, slots=True)
class Message:
    """A row of ``outbox`` to be: its id, NATS subject and CloudEvent body."""

    message_id: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class PageKeys:
    """What a page needs from the helper tables.

    ``referral_ids`` and ``signal_ids``: the rows its events name. ``attached_cases``: cases a
    signal joins, whose claimed referrals hear of it (all referral rows of those cases).
    ``requested_cases``: cases of referrals requested in the page; with the cases of the
    loaded referral rows they are the cases whose signals feedback may go to (all signal
    rows of those cases)."""

    referral_ids: frozenset[uuid.UUID]
    signal_ids: frozenset[uuid.UUID]
    attached_cases: frozenset[uuid.UUID]
    requested_cases: frozenset[uuid.UUID]


def needed_keys(page: Iterable[RecordedEvent]) -> PageKeys:
    """What the page needs stored. Nothing is stored yet of a referral whose request is in
    the page (before its other events), nor rows by the case of a case opened in the page:
    ``ReferralRequested`` and ``CaseOpened`` are the first events of their streams, and a
    signal row only names a case from that case's own events on. Those are not read."""
    referral_ids: set[uuid.UUID] = set()
    signal_ids: set[uuid.UUID] = set()
    attached: set[uuid.UUID] = set()
    requested: set[uuid.UUID] = set()
    opened: set[uuid.UUID] = set()
    new_referrals: set[uuid.UUID] = set()
    for recorded in page:
        event: Any = recorded.event
        kind = type(event)  # by exact type: pydantic's isinstance checks cost more
        if kind is SignalReceived:
            signal_ids.add(event.signal_id)
        elif kind is CaseOpened:
            signal_ids.add(event.first_signal_id)
            opened.add(event.case_id)
        elif kind is SignalAttachedToCase:
            signal_ids.add(event.signal_id)
            if event.case_id not in opened:
                attached.add(event.case_id)
        elif kind is ReferralRequested:
            if event.referral_id not in referral_ids:
                new_referrals.add(event.referral_id)
            if event.case_id not in opened:
                requested.add(event.case_id)
        elif kind in _REFERRAL_CHANGES and event.referral_id not in new_referrals:
            referral_ids.add(event.referral_id)
    return PageKeys(
        frozenset(referral_ids), frozenset(signal_ids), frozenset(attached), frozenset(requested)
    )


_REFERRAL_CHANGES: Final = frozenset(
    {ReferralRerouted, ReferralCancelled, ReferralReleased, ReferralClaimed, ReferralClosed}
)


@dataclass
class OutboxState:
    """The helper rows a page needs, as the events so far left them, and the new messages.

    The per-case indexes answer "the signals of this case" and "the referrals of this case"
    as the tables would, for the cases whose rows were all loaded (``PageKeys``)."""

    signals: dict[uuid.UUID, SignalRow] = field(default_factory=dict)
    referrals: dict[uuid.UUID, ReferralRow] = field(default_factory=dict)
    signals_of_case: dict[uuid.UUID, dict[uuid.UUID, None]] = field(default_factory=dict)
    referrals_of_case: dict[uuid.UUID, dict[uuid.UUID, None]] = field(default_factory=dict)
    changed_signals: dict[uuid.UUID, None] = field(default_factory=dict)
    changed_referrals: dict[uuid.UUID, None] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    """In the order they were made; a second message with the same id is dropped, as the
    table's unique ``message_id`` would."""

    def known_signal(self, row: SignalRow) -> None:
        if row.signal_id not in self.signals:
            self.signals[row.signal_id] = row
            if row.case_id is not None:
                self.signals_of_case.setdefault(row.case_id, {})[row.signal_id] = None

    def known_referral(self, row: ReferralRow) -> None:
        if row.referral_id not in self.referrals:
            self.referrals[row.referral_id] = row
            self.referrals_of_case.setdefault(row.case_id, {})[row.referral_id] = None

    def remember_signal(
        self,
        signal_id: uuid.UUID,
        *,
        partner: tuple[str, str] | None = None,
        case_id: uuid.UUID | None = None,
    ) -> None:
        """Insert or complete the signal's row; either kind of event may come first."""
        row = self.signals.get(signal_id)
        if row is None:
            row = SignalRow(signal_id)
            self.signals[signal_id] = row
        if partner is not None:
            row.partner_id, row.partner_signal_id = partner
        if case_id is not None and case_id != row.case_id:
            if row.case_id is not None:
                self.signals_of_case.get(row.case_id, {}).pop(signal_id, None)
            row.case_id = case_id
            self.signals_of_case.setdefault(case_id, {})[signal_id] = None
        self.changed_signals[signal_id] = None

    def request(self, row: ReferralRow) -> None:
        """A referral this projection has not seen yet; a known one keeps its row."""
        if row.referral_id not in self.referrals:
            self.known_referral(row)
            self.changed_referrals[row.referral_id] = None

    def set_claimed(self, referral_id: uuid.UUID, *, claimed: bool) -> None:
        """Whether the referral is in a worker's hands now (claimed, not released or closed)."""
        row = self.referrals.get(referral_id)
        if row is not None and row.claimed != claimed:
            row.claimed = claimed
            self.changed_referrals[referral_id] = None

    def signals_of(self, case_id: uuid.UUID) -> list[SignalRow]:
        return [self.signals[s] for s in self.signals_of_case.get(case_id, {})]

    def claimed_referrals_of(self, case_id: uuid.UUID) -> list[uuid.UUID]:
        return [r for r in self.referrals_of_case.get(case_id, {}) if self.referrals[r].claimed]

    def add(self, message: Message | None) -> None:
        if message is not None and message.message_id not in self.messages:
            self.messages[message.message_id] = message

    def add_all(self, messages: Iterable[Message]) -> None:
        for message in messages:
            self.add(message)


PICKED_UP: Final[Mapping[str, bool]] = MappingProxyType({"opgepakt": True})


def fold(state: OutboxState, recorded: RecordedEvent) -> None:
    """Apply one event to the state: its helper rows and its messages. Events of other kinds
    are skipped by one dict lookup on their exact type."""
    handler = _FOLDS.get(type(recorded.event))
    if handler is not None:
        handler(state, recorded, recorded.event)


def _signal_received(state: OutboxState, recorded: RecordedEvent, event: Any) -> None:
    state.remember_signal(event.signal_id, partner=(event.partner_id, event.partner_signal_id))


def _case_opened(state: OutboxState, recorded: RecordedEvent, event: Any) -> None:
    state.remember_signal(event.first_signal_id, case_id=event.case_id)


def _signal_attached(state: OutboxState, recorded: RecordedEvent, event: Any) -> None:
    state.remember_signal(event.signal_id, case_id=event.case_id)
    # A signal that joins a case a worker already has (the case stays with its team):
    # its partner hears "picked up" at once, as the others did at the claim.
    for referral_id in state.claimed_referrals_of(event.case_id):
        state.add_all(
            feedback(state, recorded, referral_id, PICKED_UP, key="opgepakt", only=event.signal_id)
        )


def _referral_requested(state: OutboxState, recorded: RecordedEvent, event: Any) -> None:
    state.request(ReferralRow(event.referral_id, event.case_id, event.project, event.team))
    state.add(requested(recorded, event))


def _referral_rerouted(state: OutboxState, recorded: RecordedEvent, event: Any) -> None:
    state.set_claimed(event.referral_id, claimed=False)
    state.add(rerouted(recorded, event, state.referrals.get(event.referral_id)))


def _referral_cancelled(state: OutboxState, recorded: RecordedEvent, event: Any) -> None:
    state.set_claimed(event.referral_id, claimed=False)
    state.add(cancelled(recorded, event, state.referrals.get(event.referral_id)))


def _referral_released(state: OutboxState, recorded: RecordedEvent, event: Any) -> None:
    state.set_claimed(event.referral_id, claimed=False)


def _referral_claimed(state: OutboxState, recorded: RecordedEvent, event: Any) -> None:
    state.set_claimed(event.referral_id, claimed=True)
    # One "picked up" per signal and referral (the message id): a re-claim after a
    # release is not news to the partner.
    state.add_all(feedback(state, recorded, event.referral_id, PICKED_UP, key="opgepakt"))


def _referral_closed(state: OutboxState, recorded: RecordedEvent, event: Any) -> None:
    state.set_claimed(event.referral_id, claimed=False)
    answer = {
        "opgepakt": event.outcome not in NOT_PICKED_UP,
        "hulpGeaccepteerd": event.outcome in HELP_ACCEPTED,
    }
    state.add_all(feedback(state, recorded, event.referral_id, answer, key="afgesloten"))


_FOLDS: Final[dict[type, Callable[[OutboxState, RecordedEvent, Any], None]]] = {
    SignalReceived: _signal_received,
    CaseOpened: _case_opened,
    SignalAttachedToCase: _signal_attached,
    ReferralRequested: _referral_requested,
    ReferralRerouted: _referral_rerouted,
    ReferralCancelled: _referral_cancelled,
    ReferralReleased: _referral_released,
    ReferralClaimed: _referral_claimed,
    ReferralClosed: _referral_closed,
}


def message(
    msg_id: str,
    subject: str,
    event_type: str,
    recorded: RecordedEvent,
    ce_subject: str | None,
    data: dict[str, Any],
) -> Message:
    body = cloudevent(msg_id, event_type, recorded.recorded_at, ce_subject or "", data)
    return Message(msg_id, subject, body)


def requested(recorded: RecordedEvent, event: ReferralRequested) -> Message:
    data = {
        "verwijzingId": str(event.referral_id),
        "casusId": str(event.case_id),
        "project": event.project,
        "team": event.team,
        "urgent": event.urgent,
        "aangevraagdOp": event.requested_on.isoformat(),
        "eersteContactpogingUiterlijk": event.first_contact_due.isoformat(),
        "afsluitenUiterlijk": event.closure_due.isoformat(),
        "details": referral_link(event.referral_id),
    }
    return message(
        str(recorded.event_id),
        referral_subject(event.project, event.team),
        REFERRAL_REQUESTED,
        recorded,
        str(event.referral_id),
        data,
    )


def rerouted(
    recorded: RecordedEvent, event: ReferralRerouted, origin: ReferralRow | None
) -> Message:
    data: dict[str, Any] = {
        "verwijzingId": str(event.referral_id),
        "naarProject": event.to_project,
        "naarTeam": event.to_team,
        "doorverwezenOp": event.rerouted_at.isoformat(),
        "details": referral_link(event.referral_id),
    }
    if origin is not None:
        data |= {
            "casusId": str(origin.case_id),
            "vanProject": origin.project,
            "vanTeam": origin.team,
        }
    return message(
        str(recorded.event_id),
        referral_subject(event.to_project, event.to_team),
        REFERRAL_REROUTED,
        recorded,
        str(event.referral_id),
        data,
    )


def cancelled(
    recorded: RecordedEvent, event: ReferralCancelled, origin: ReferralRow | None
) -> Message | None:
    if origin is None:
        return None  # a referral this projection never saw requested: no team to tell
    data = {
        "verwijzingId": str(event.referral_id),
        "casusId": str(origin.case_id),
        "project": origin.project,
        "team": origin.team,
        "ingetrokkenOp": event.cancelled_at.isoformat(),
        "details": referral_link(event.referral_id),
    }
    return message(
        str(recorded.event_id),
        referral_subject(origin.project, origin.team),
        REFERRAL_CANCELLED,
        recorded,
        str(event.referral_id),
        data,
    )


def feedback(
    state: OutboxState,
    recorded: RecordedEvent,
    referral_id: uuid.UUID,
    answer: Mapping[str, bool],
    *,
    key: str,
    only: uuid.UUID | None = None,
) -> list[Message]:
    """One feedback message per signal of the referral's case (or only signal ``only``),
    by partner and the partner's signaalId."""
    origin = state.referrals.get(referral_id)
    if origin is None:
        return []
    # A signal whose SignalReceived this projection has not seen has no partner to tell.
    signals = [
        s
        for s in state.signals_of(origin.case_id)
        if s.partner_id is not None and (only is None or s.signal_id == only)
    ]
    signals.sort(key=lambda s: (s.partner_id or "", s.partner_signal_id or ""))
    messages = []
    for s in signals:
        msg_id = message_id(referral_id, key, s.signal_id)
        if msg_id in state.messages:
            continue  # told already in this page (a re-claim): no body to build
        data = {"signaalId": s.partner_signal_id, **answer}
        messages.append(
            message(
                msg_id,
                feedback_subject(s.partner_id or ""),
                FEEDBACK,
                recorded,
                s.partner_signal_id,
                data,
            )
        )
    return messages


# -- reading and writing a page's rows ------------------------------------------------------

_IDS_PER_QUERY: Final = 500
"""Ids per ``IN (...)``: well under SQLite's limit of bound parameters."""


def _chunks(ids: Iterable[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    chunk: list[uuid.UUID] = []
    for item in ids:
        chunk.append(item)
        if len(chunk) == _IDS_PER_QUERY:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _rows_where(
    conn: AsyncConnection, table: Table, key: str, ids: Iterable[uuid.UUID]
) -> list[Any]:
    """The rows of ``table`` whose ``key`` is one of ``ids``, by ``key``."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    if conn.dialect.name == "postgresql":
        # One query whatever the number of ids.
        driver = await driver_in_transaction(conn)
        primary = table.primary_key.columns.values()[0].name
        # LATERAL ... OFFSET 0: an index probe per id, never flattened into a join the
        # planner may answer with a scan of the table (it did on fresh statistics).
        query = (
            f"SELECT t.* FROM unnest($1::uuid[]) AS k(id) CROSS JOIN LATERAL "
            f"(SELECT * FROM {table.name} WHERE {key} = k.id OFFSET 0) AS t "
            f"ORDER BY t.{key}, t.{primary}"
        )
        return list(await driver.fetch(query, wanted))
    column = table.c[key]
    found: list[Any] = []
    for chunk in _chunks(wanted):
        result = await conn.execute(select(table).where(column.in_(chunk)))
        found.extend(row._mapping for row in result.all())
    return found


async def load_state(conn: AsyncConnection, keys: PageKeys) -> OutboxState:
    """The stored helper rows the page needs, as a state the fold can continue from."""
    state = OutboxState()
    referral_rows = await _rows_where(conn, outbox_referrals, "referral_id", keys.referral_ids)
    referral_rows += await _rows_where(conn, outbox_referrals, "case_id", keys.attached_cases)
    for row in referral_rows:
        state.known_referral(
            ReferralRow(
                row["referral_id"],
                row["case_id"],
                row["project"],
                row["team"],
                bool(row["claimed"]),
            )
        )
    cases = keys.attached_cases | keys.requested_cases | {r["case_id"] for r in referral_rows}
    signal_rows = await _rows_where(conn, outbox_signals, "signal_id", keys.signal_ids)
    signal_rows += await _rows_where(conn, outbox_signals, "case_id", cases)
    for row in signal_rows:
        state.known_signal(
            SignalRow(row["signal_id"], row["partner_id"], row["partner_signal_id"], row["case_id"])
        )
    return state


async def save_state(conn: AsyncConnection, state: OutboxState) -> None:
    """The changed helper rows (one upsert per table) and the new messages (one insert)."""
    referrals = [state.referrals[r] for r in state.changed_referrals]
    signals = [state.signals[s] for s in state.changed_signals]
    now = datetime.now(UTC)
    if conn.dialect.name == "postgresql":
        driver = await driver_in_transaction(conn)
        if referrals:
            await driver.execute(
                _UPSERT_REFERRALS,
                [r.referral_id for r in referrals],
                [r.case_id for r in referrals],
                [r.project for r in referrals],
                [r.team for r in referrals],
                [r.claimed for r in referrals],
            )
        if signals:
            await driver.execute(
                _UPSERT_SIGNALS,
                [s.signal_id for s in signals],
                [s.partner_id for s in signals],
                [s.partner_signal_id for s in signals],
                [s.case_id for s in signals],
            )
        if state.messages:
            messages = state.messages.values()
            await driver.execute(
                _INSERT_MESSAGES,
                [m.message_id for m in messages],
                [m.subject for m in messages],
                [m.body for m in messages],
                now,
            )
        return
    insert = sqlite_insert
    if referrals:
        upsert = insert(outbox_referrals)
        await conn.execute(
            upsert.on_conflict_do_update(
                index_elements=["referral_id"], set_={"claimed": upsert.excluded.claimed}
            ),
            [
                {
                    "referral_id": r.referral_id,
                    "case_id": r.case_id,
                    "project": r.project,
                    "team": r.team,
                    "claimed": r.claimed,
                }
                for r in referrals
            ],
        )
    if signals:
        upsert = insert(outbox_signals)
        await conn.execute(
            upsert.on_conflict_do_update(
                index_elements=["signal_id"],
                set_={
                    "partner_id": upsert.excluded.partner_id,
                    "partner_signal_id": upsert.excluded.partner_signal_id,
                    "case_id": upsert.excluded.case_id,
                },
            ),
            [
                {
                    "signal_id": s.signal_id,
                    "partner_id": s.partner_id,
                    "partner_signal_id": s.partner_signal_id,
                    "case_id": s.case_id,
                }
                for s in signals
            ],
        )
    if state.messages:
        # In the order made, so the ids (the relay's order) follow the log; a message already
        # in the table (the same event applied again) is skipped.
        await conn.execute(
            insert(outbox).on_conflict_do_nothing(index_elements=["message_id"]),
            [
                {
                    "message_id": m.message_id,
                    "subject": m.subject,
                    "body": m.body,
                    "created_at": now,
                    "published_at": None,
                    "attempts": 0,
                }
                for m in state.messages.values()
            ],
        )


# PostgreSQL: one statement per table and page, the rows as one array per column.
_UPSERT_REFERRALS: Final = (
    "INSERT INTO outbox_referrals (referral_id, case_id, project, team, claimed) "
    "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::boolean[]) "
    "ON CONFLICT (referral_id) DO UPDATE SET claimed = EXCLUDED.claimed"
)
_UPSERT_SIGNALS: Final = (
    "INSERT INTO outbox_signals (signal_id, partner_id, partner_signal_id, case_id) "
    "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[]) "
    "ON CONFLICT (signal_id) DO UPDATE SET partner_id = EXCLUDED.partner_id, "
    "partner_signal_id = EXCLUDED.partner_signal_id, case_id = EXCLUDED.case_id"
)
_INSERT_MESSAGES: Final = (
    # ORDER BY the array index: the ids (the relay's order) follow the order made.
    "INSERT INTO outbox (message_id, subject, body, created_at, published_at, attempts) "
    "SELECT m, s, b, $4, NULL, 0 "
    "FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(m, s, b, n) "
    "ORDER BY n ON CONFLICT (message_id) DO NOTHING"
)
