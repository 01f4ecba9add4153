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

Idempotent: a row's ``message_id`` is derived from the event (and the signal), and a second
insert of the same ``message_id`` is ignored, so applying an event again adds nothing.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
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
    update,
)
from sqlalchemy import Uuid as SqlUuid
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
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
    return json.dumps(
        {
            "specversion": "1.0",
            "id": event_id,
            "source": HUB_SOURCE,
            "type": event_type,
            "subject": subject,
            "time": time.isoformat(),
            "datacontenttype": "application/json",
            "data": data,
        },
        ensure_ascii=False,
    )


class OutboxProjection:
    """Writes the broker messages of the referral events into ``outbox``."""

    name = "outbox"
    tables: tuple[Table, ...] = (outbox, outbox_referrals, outbox_signals)

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        event = recorded.event
        match event:
            case SignalReceived():
                await _remember_signal(
                    conn,
                    event.signal_id,
                    partner_id=event.partner_id,
                    partner_signal_id=event.partner_signal_id,
                )
            case CaseOpened():
                await _remember_signal(conn, event.first_signal_id, case_id=event.case_id)
            case SignalAttachedToCase():
                await _remember_signal(conn, event.signal_id, case_id=event.case_id)
                await _attached_to_claimed_case(conn, recorded, event)
            case ReferralRequested():
                await _requested(conn, recorded, event)
            case ReferralRerouted():
                await _set_claimed(conn, event.referral_id, claimed=False)
                await _rerouted(conn, recorded, event)
            case ReferralCancelled():
                await _set_claimed(conn, event.referral_id, claimed=False)
                await _cancelled(conn, recorded, event)
            case ReferralReleased():
                await _set_claimed(conn, event.referral_id, claimed=False)
            case ReferralClaimed():
                await _set_claimed(conn, event.referral_id, claimed=True)
                # One "picked up" per signal and referral: a re-claim after a release is not
                # news to the partner.
                await _feedback(
                    conn, recorded, event.referral_id, {"opgepakt": True}, key="opgepakt"
                )
            case ReferralClosed():
                await _set_claimed(conn, event.referral_id, claimed=False)
                await _feedback(
                    conn,
                    recorded,
                    event.referral_id,
                    {
                        "opgepakt": event.outcome not in NOT_PICKED_UP,
                        "hulpGeaccepteerd": event.outcome in HELP_ACCEPTED,
                    },
                    key="afgesloten",
                )
            case _:
                return


async def _requested(
    conn: AsyncConnection, recorded: RecordedEvent, event: ReferralRequested
) -> None:
    known = await conn.execute(
        select(outbox_referrals.c.referral_id).where(
            outbox_referrals.c.referral_id == event.referral_id
        )
    )
    if known.first() is None:
        await conn.execute(
            outbox_referrals.insert().values(
                referral_id=event.referral_id,
                case_id=event.case_id,
                project=event.project,
                team=event.team,
                claimed=False,
            )
        )
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
    await _message(
        conn,
        str(recorded.event_id),
        referral_subject(event.project, event.team),
        REFERRAL_REQUESTED,
        recorded,
        str(event.referral_id),
        data,
    )


async def _rerouted(
    conn: AsyncConnection, recorded: RecordedEvent, event: ReferralRerouted
) -> None:
    origin = await _referral(conn, event.referral_id)
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
    await _message(
        conn,
        str(recorded.event_id),
        referral_subject(event.to_project, event.to_team),
        REFERRAL_REROUTED,
        recorded,
        str(event.referral_id),
        data,
    )


async def _cancelled(
    conn: AsyncConnection, recorded: RecordedEvent, event: ReferralCancelled
) -> None:
    origin = await _referral(conn, event.referral_id)
    if origin is None:
        return  # a referral this projection never saw requested: no team to tell
    data = {
        "verwijzingId": str(event.referral_id),
        "casusId": str(origin.case_id),
        "project": origin.project,
        "team": origin.team,
        "ingetrokkenOp": event.cancelled_at.isoformat(),
        "details": referral_link(event.referral_id),
    }
    await _message(
        conn,
        str(recorded.event_id),
        referral_subject(origin.project, origin.team),
        REFERRAL_CANCELLED,
        recorded,
        str(event.referral_id),
        data,
    )


async def _feedback(
    conn: AsyncConnection,
    recorded: RecordedEvent,
    referral_id: uuid.UUID,
    answer: dict[str, bool],
    *,
    key: str,
    only: uuid.UUID | None = None,
) -> None:
    """One feedback message per signal of the referral's case (or only signal ``only``)."""
    origin = await _referral(conn, referral_id)
    if origin is None:
        return
    query = (
        select(
            outbox_signals.c.signal_id,
            outbox_signals.c.partner_id,
            outbox_signals.c.partner_signal_id,
        )
        .where(outbox_signals.c.case_id == origin.case_id)
        .order_by(outbox_signals.c.partner_id, outbox_signals.c.partner_signal_id)
    )
    if only is not None:
        query = query.where(outbox_signals.c.signal_id == only)
    signals = await conn.execute(query)
    for signal in signals.all():
        if signal.partner_id is None:
            continue  # a signal whose SignalReceived this projection has not seen
        data = {"signaalId": signal.partner_signal_id, **answer}
        await _message(
            conn,
            message_id(referral_id, key, signal.signal_id),
            feedback_subject(signal.partner_id),
            FEEDBACK,
            recorded,
            signal.partner_signal_id,
            data,
        )


async def _set_claimed(conn: AsyncConnection, referral_id: uuid.UUID, *, claimed: bool) -> None:
    """Whether the referral is in a worker's hands now (claimed, not released or closed)."""
    await conn.execute(
        update(outbox_referrals)
        .where(outbox_referrals.c.referral_id == referral_id)
        .values(claimed=claimed)
    )


async def _attached_to_claimed_case(
    conn: AsyncConnection, recorded: RecordedEvent, event: SignalAttachedToCase
) -> None:
    """A signal that joins a case a worker already has (the case stays with its team): its
    partner hears "picked up" at once, as the others did when the referral was claimed."""
    claimed = await conn.execute(
        select(outbox_referrals.c.referral_id).where(
            outbox_referrals.c.case_id == event.case_id, outbox_referrals.c.claimed.is_(True)
        )
    )
    for (referral_id,) in claimed.all():
        await _feedback(
            conn, recorded, referral_id, {"opgepakt": True}, key="opgepakt", only=event.signal_id
        )


async def _referral(conn: AsyncConnection, referral_id: uuid.UUID) -> Any:
    result = await conn.execute(
        select(outbox_referrals).where(outbox_referrals.c.referral_id == referral_id)
    )
    return result.first()


async def _remember_signal(
    conn: AsyncConnection,
    signal_id: uuid.UUID,
    *,
    partner_id: str | None = None,
    partner_signal_id: str | None = None,
    case_id: uuid.UUID | None = None,
) -> None:
    """Insert or complete the signal's row; either kind of event may come first."""
    values: dict[str, Any] = {}
    if partner_id is not None:
        values |= {"partner_id": partner_id, "partner_signal_id": partner_signal_id}
    if case_id is not None:
        values["case_id"] = case_id
    changed = await conn.execute(
        update(outbox_signals).where(outbox_signals.c.signal_id == signal_id).values(values)
    )
    if changed.rowcount == 0:
        await conn.execute(outbox_signals.insert().values(signal_id=signal_id, **values))


async def _message(
    conn: AsyncConnection,
    msg_id: str,
    subject: str,
    event_type: str,
    recorded: RecordedEvent,
    ce_subject: str | None,
    data: dict[str, Any],
) -> None:
    body = cloudevent(msg_id, event_type, recorded.recorded_at, ce_subject or "", data)
    values = {
        "message_id": msg_id,
        "subject": subject,
        "body": body,
        "created_at": datetime.now(UTC),
        "published_at": None,
        "attempts": 0,
    }
    insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await conn.execute(
        insert(outbox).values(values).on_conflict_do_nothing(index_elements=["message_id"])
    )
