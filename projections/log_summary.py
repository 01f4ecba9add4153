"""A summary of the whole event log: what the demo prints. Holds no personal data."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from events.catalogue.cases import CaseClosed, CaseOpened, SignalAttachedToCase
from events.catalogue.routing import CaseRouted
from events.catalogue.signals import SignalReceived
from events.envelope import RecordedEvent
from events.store import SqlEventStore


@dataclass
class LogSummary:
    events: int = 0
    first_position: int = 0
    last_position: int = 0
    streams: set[str] = field(default_factory=set)
    by_type: Counter[str] = field(default_factory=Counter)
    signals_by_partner_type: Counter[str] = field(default_factory=Counter)
    amount_by_partner_type: dict[str, Decimal] = field(default_factory=dict)
    signals_per_case: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    households: set[str] = field(default_factory=set)
    outside_municipality: int = 0
    placement: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Where each routed case is now: (project, team), or (outcome, "") when routing closed it."""

    def apply(self, recorded: RecordedEvent) -> None:
        self.events += 1
        self.first_position = self.first_position or recorded.position
        self.last_position = recorded.position
        self.streams.add(recorded.stream_id)
        self.by_type[recorded.event_type] += 1
        event = recorded.event
        if isinstance(event, SignalReceived):
            kind = event.partner_type.value
            self.signals_by_partner_type[kind] += 1
            self.amount_by_partner_type[kind] = (
                self.amount_by_partner_type.get(kind, Decimal(0)) + event.amount
            )
            self.households.add(str(event.household_id))
            self.outside_municipality += not event.in_municipality
        elif isinstance(event, CaseOpened | SignalAttachedToCase):
            self.signals_per_case[str(event.case_id)] += 1
        elif isinstance(event, CaseClosed):
            self.outcomes[event.outcome.value] += 1
        elif isinstance(event, CaseRouted):
            target = (
                (event.project, event.team or "") if event.project else (str(event.outcome), "")
            )
            self.placement[str(event.case_id)] = target

    @property
    def caseload(self) -> Counter[tuple[str, str]]:
        """Routed cases per (project, team), and per closing outcome."""
        return Counter(self.placement.values())

    @property
    def multi_signal_cases(self) -> int:
        return sum(1 for n in self.signals_per_case.values() if n > 1)


async def summarise_log(store: SqlEventStore, page_size: int = 1000) -> LogSummary:
    summary = LogSummary()
    position = 0
    while page := await store.read_all(after=position, limit=page_size):
        for recorded in page:
            summary.apply(recorded)
        position = page[-1].position
    return summary
