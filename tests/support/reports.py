"""Event histories for the report's tests: households, signals, cases and referrals with
chosen dates, as the hub records them (synthetic; ids only, no personal data).

Every event is stamped ``recorded_at`` at 10:00 UTC (11:00 or 12:00 in Almelo) of its business
day, so a replay "as of" a day sees exactly the events of the days up to it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from events.base import DomainEvent
from events.catalogue.cases import CaseClosed, CaseOpened, SignalAttachedToCase
from events.catalogue.referrals import (
    ContactAttemptRecorded,
    ContactKind,
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralRequested,
    ReferralRerouted,
)
from events.catalogue.signals import SignalReceived
from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind
from events.envelope import Metadata, RecordedEvent
from services.referrals.sla import due_dates
from services.reports.facts import wijk_lookup
from services.routing.config import load_wijken
from tests.support.intake import CONFIG

ALMELO = "0141"


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=UTC)


def config_wijken() -> dict[tuple[str, str], str]:
    """The shipped ``config/wijken.toml`` as the projection reads it."""
    return wijk_lookup((w.gemeentecode, w.pc4, w.id) for w in load_wijken(CONFIG).wijken)


@dataclass
class History:
    """A log under construction: each call appends one event and returns the new id."""

    log: list[RecordedEvent] = field(default_factory=list)

    def record(self, stream_id: str, event: DomainEvent, day: date) -> None:
        self.log.append(
            RecordedEvent(
                position=len(self.log) + 1,
                stream_id=stream_id,
                stream_version=1 + sum(1 for r in self.log if r.stream_id == stream_id),
                event_id=uuid.uuid4(),
                event_type=event.event_type,
                schema_version=1,
                event=event,
                metadata=Metadata(),
                recorded_at=at(day),
            )
        )

    def signal(
        self,
        household: uuid.UUID,
        partner_id: str,
        partner_type: PartnerType,
        *,
        signal_date: date,
        received: date,
        pc4: str = "7604",
        crisis: bool = False,
        kind: SignalKind = SignalKind.EARLY_SIGNAL,
        in_municipality: bool = True,
    ) -> uuid.UUID:
        signal_id = uuid.uuid4()
        self.record(
            f"signal-{signal_id}",
            SignalReceived(
                signal_id=signal_id,
                partner_id=partner_id,
                partner_signal_id=f"{partner_id}-{len(self.log)}",
                partner_type=partner_type,
                kind=kind,
                amount=Decimal("250.00"),
                signal_date=signal_date,
                crisis=crisis,
                household_id=household,
                gemeentecode=ALMELO,
                in_municipality=in_municipality,
                pc4=pc4,
            ),
            received,
        )
        return signal_id

    def open_case(self, signal_id: uuid.UUID, on: date) -> uuid.UUID:
        received = self._signal(signal_id)
        case_id = uuid.uuid4()
        self.record(
            f"case-{case_id}",
            CaseOpened(
                case_id=case_id,
                household_id=received.household_id,
                gemeentecode=ALMELO,
                pc4=received.pc4,
                first_signal_id=signal_id,
                partner_type=received.partner_type,
                matching_window_starts=received.signal_date,
                matching_window_ends=received.signal_date,
            ),
            on,
        )
        return case_id

    def attach(self, case_id: uuid.UUID, signal_id: uuid.UUID, on: date) -> None:
        partner_type = self._signal(signal_id).partner_type
        self.record(
            f"case-{case_id}",
            SignalAttachedToCase(case_id=case_id, signal_id=signal_id, partner_type=partner_type),
            on,
        )

    def close_case(self, case_id: uuid.UUID, outcome: Outcome, on: date) -> None:
        self.record(
            f"case-{case_id}",
            CaseClosed(case_id=case_id, outcome=outcome, closed_on=on, reason="routing"),
            on,
        )

    def refer(
        self, case_id: uuid.UUID, project: str, team: str, on: date, *, urgent: bool = False
    ) -> uuid.UUID:
        referral_id = uuid.uuid4()
        due = due_dates(on, urgent=urgent)
        self.record(
            f"referral-{referral_id}",
            ReferralRequested(
                referral_id=referral_id,
                case_id=case_id,
                project=project,
                team=team,
                urgent=urgent,
                requested_on=on,
                first_contact_due=due.first_contact_due,
                closure_due=due.closure_due,
                rule_id="test",
            ),
            on,
        )
        return referral_id

    def claim(self, referral_id: uuid.UUID, on: date) -> None:
        self.record(
            f"referral-{referral_id}",
            ReferralClaimed(referral_id=referral_id, worker_id="w-1", claimed_at=at(on)),
            on,
        )

    def attempt(self, referral_id: uuid.UUID, on: date, *, reached: bool) -> None:
        self.record(
            f"referral-{referral_id}",
            ContactAttemptRecorded(
                referral_id=referral_id, kind=ContactKind.PHONE, reached=reached, attempted_on=on
            ),
            on,
        )

    def close(self, referral_id: uuid.UUID, outcome: Outcome, on: date) -> None:
        self.record(
            f"referral-{referral_id}",
            ReferralClosed(referral_id=referral_id, outcome=outcome, closed_on=on),
            on,
        )

    def reroute(self, referral_id: uuid.UUID, project: str, team: str, on: date) -> None:
        self.record(
            f"referral-{referral_id}",
            ReferralRerouted(
                referral_id=referral_id,
                to_project=project,
                to_team=team,
                reason="hoort bij ander team",
                rerouted_at=at(on),
            ),
            on,
        )

    def cancel(self, referral_id: uuid.UUID, on: date) -> None:
        self.record(
            f"referral-{referral_id}",
            ReferralCancelled(referral_id=referral_id, reason="betaald", cancelled_at=at(on)),
            on,
        )

    def _signal(self, signal_id: uuid.UUID) -> SignalReceived:
        for recorded in self.log:
            event = recorded.event
            if isinstance(event, SignalReceived) and event.signal_id == signal_id:
                return event
        raise KeyError(signal_id)


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


def march_2026() -> History:
    """The households of the hand-computed March 2026 scenario (see test_build_report.py).

    H1  Water (vitens), signal 20-02, received 02-03, noord; voa-noord: claimed 04-03,
        attempts 06-03 (not reached) and 09-03 (reached), closed 20-03 advies/quick fix.
        Also a signal received 10-06-2025 whose case routing closed as onterecht.
    H2  Energie (eneco, crisis) signal 01-03 received 03-03, Huur (woonstede) signal 05-03
        received 05-03, zuid; urgent to wijkteam-zuid 03-03: claimed 05-03, reached 06-03,
        closed 25-03 "geen hulp nodig".
    H3  Zorg (menzis) signal 01-03 received 10-03, noord; voa-noord: claimed 17-03, attempts
        18-03 and 20-03 (not reached), closed 31-03 "definitief geen contact". Also a signal
        received 01-02-2025 (more than 12 months before March 2026).
    H4  Water (vitens, eindelevering) signal 12-03 received 16-03, centrum; voa-centrum,
        never claimed (first contact due 30-03: overdue on 31-03).
    H5  Energie (eneco) signal 15-03 received 18-03, west; voa-west claimed 27-03.
    H6  Zorg (menzis) signal 19-03 received 20-03, outside the municipality (PC4 7500):
        routing closed the case 20-03 "geen inwoner".
    H8  Energie (eneco) signal 01-02 received 10-02, noord; doorbraakmethode 10-02, claimed
        12-02, reached 13-02, still open (closure due 10-03: overdue).
    H9  Huur (woonstede) signal 25-01 received 01-02, zuid; voa-zuid 01-02, claimed 02-02,
        reached 03-02, closed 20-02 advies: before March, not in the March figures.
    H10 Huur (woonstede) signal 02-03 received 05-03, oost; voa-oost 05-03 rerouted 06-03 to
        wijkteam-oost: claimed 09-03, reached 09-03, closed 27-03 vervolghulp financieel.
    """
    h = History()
    households = {
        name: uuid.uuid4() for name in ("H1", "H2", "H3", "H4", "H5", "H6", "H8", "H9", "H10")
    }

    old = h.signal(
        households["H3"],
        "menzis",
        PartnerType.HEALTH_INSURANCE,
        signal_date=d(1, 20, 2025),
        received=d(2, 1, 2025),
    )
    old_case = h.open_case(old, d(2, 1, 2025))
    h.close_case(old_case, Outcome.UNJUSTIFIED_SIGNAL, d(2, 1, 2025))
    old = h.signal(
        households["H1"],
        "essent",
        PartnerType.ENERGY,
        signal_date=d(6, 1, 2025),
        received=d(6, 10, 2025),
    )
    old_case = h.open_case(old, d(6, 10, 2025))
    h.close_case(old_case, Outcome.UNJUSTIFIED_SIGNAL, d(6, 10, 2025))

    s = h.signal(
        households["H9"],
        "woonstede",
        PartnerType.RENT,
        signal_date=d(1, 25),
        received=d(2, 1),
        pc4="7601",
    )
    c = h.open_case(s, d(2, 1))
    r = h.refer(c, "vroeg-erop-af", "vroeg-erop-af-zuid", d(2, 1))
    h.claim(r, d(2, 2))
    h.attempt(r, d(2, 3), reached=True)
    r9 = r

    s = h.signal(
        households["H8"],
        "eneco",
        PartnerType.ENERGY,
        signal_date=d(2, 1),
        received=d(2, 10),
        pc4="7605",
    )
    c = h.open_case(s, d(2, 10))
    r = h.refer(c, "doorbraakmethode", "doorbraak-almelo", d(2, 10))
    h.claim(r, d(2, 12))
    h.attempt(r, d(2, 13), reached=True)
    h.close(r9, Outcome.ADVICE_OR_QUICK_FIX, d(2, 20))

    s = h.signal(
        households["H1"], "vitens", PartnerType.WATER, signal_date=d(2, 20), received=d(3, 2)
    )
    c = h.open_case(s, d(3, 2))
    r1 = h.refer(c, "vroeg-erop-af", "vroeg-erop-af-noord", d(3, 2))

    s = h.signal(
        households["H2"],
        "eneco",
        PartnerType.ENERGY,
        signal_date=d(3, 1),
        received=d(3, 3),
        pc4="7601",
        crisis=True,
    )
    c2 = h.open_case(s, d(3, 3))
    r2 = h.refer(c2, "schuldenspecialisten", "wijkteam-zuid", d(3, 3), urgent=True)

    h.claim(r1, d(3, 4))

    s = h.signal(
        households["H2"],
        "woonstede",
        PartnerType.RENT,
        signal_date=d(3, 5),
        received=d(3, 5),
        pc4="7601",
    )
    h.attach(c2, s, d(3, 5))
    h.claim(r2, d(3, 5))
    s = h.signal(
        households["H10"],
        "woonstede",
        PartnerType.RENT,
        signal_date=d(3, 2),
        received=d(3, 5),
        pc4="7606",
    )
    c10 = h.open_case(s, d(3, 5))
    r10a = h.refer(c10, "vroeg-erop-af", "vroeg-erop-af-oost", d(3, 5))

    h.attempt(r1, d(3, 6), reached=False)
    h.attempt(r2, d(3, 6), reached=True)
    h.reroute(r10a, "schuldenspecialisten", "wijkteam-oost", d(3, 6))
    r10b = h.refer(c10, "schuldenspecialisten", "wijkteam-oost", d(3, 6))

    h.attempt(r1, d(3, 9), reached=True)
    h.claim(r10b, d(3, 9))
    h.attempt(r10b, d(3, 9), reached=True)

    s = h.signal(
        households["H3"],
        "menzis",
        PartnerType.HEALTH_INSURANCE,
        signal_date=d(3, 1),
        received=d(3, 10),
    )
    c = h.open_case(s, d(3, 10))
    r3 = h.refer(c, "vroeg-erop-af", "vroeg-erop-af-noord", d(3, 10))

    s = h.signal(
        households["H4"],
        "vitens",
        PartnerType.WATER,
        signal_date=d(3, 12),
        received=d(3, 16),
        pc4="7607",
        kind=SignalKind.FINAL_DELIVERY_SIGNAL,
    )
    c = h.open_case(s, d(3, 16))
    h.refer(c, "vroeg-erop-af", "vroeg-erop-af-centrum", d(3, 16))

    h.claim(r3, d(3, 17))
    h.attempt(r3, d(3, 18), reached=False)

    s = h.signal(
        households["H5"],
        "eneco",
        PartnerType.ENERGY,
        signal_date=d(3, 15),
        received=d(3, 18),
        pc4="7603",
    )
    c = h.open_case(s, d(3, 18))
    r5 = h.refer(c, "vroeg-erop-af", "vroeg-erop-af-west", d(3, 18))

    s = h.signal(
        households["H6"],
        "menzis",
        PartnerType.HEALTH_INSURANCE,
        signal_date=d(3, 19),
        received=d(3, 20),
        pc4="7500",
        in_municipality=False,
    )
    c = h.open_case(s, d(3, 20))
    h.close_case(c, Outcome.NOT_A_RESIDENT, d(3, 20))

    h.attempt(r3, d(3, 20), reached=False)
    h.close(r1, Outcome.ADVICE_OR_QUICK_FIX, d(3, 20))
    h.close(r2, Outcome.NO_HELP_NEEDED, d(3, 25))
    h.claim(r5, d(3, 27))
    h.close(r10b, Outcome.FOLLOW_UP_FINANCIAL, d(3, 27))
    h.close(r3, Outcome.NO_CONTACT, d(3, 31))
    return h
