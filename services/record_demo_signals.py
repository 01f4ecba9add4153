"""Record a batch of synthetic signals as events: the demo's job until intake (issue 3) lands.

Each signal gets its own ``signal-<uuid>`` stream plus either a new ``case-<uuid>`` stream or
an attachment to the household's case that is still inside its matching window. Signals are
recorded ``batch_size`` to a transaction, the way a file import commits. Event ids are
derived from the partner and its signal id, so running the same batch twice records
nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice

from events.catalogue.cases import CaseOpened, SignalAttachedToCase
from events.catalogue.signals import SignalReceived
from events.envelope import Metadata, NewEvent, StreamState
from events.store import SqlEventStore, UnitOfWork
from services.synthetic_signals import ALMELO_GEMEENTECODE, SyntheticSignal

HUB_NAMESPACE = uuid.UUID("0d6c1e8e-5a39-4b61-9c3e-6b1f5a0c0141")


@dataclass
class RecordingSummary:
    accepted: int = 0
    duplicates: int = 0
    cases_opened: int = 0
    signals_attached: int = 0


@dataclass
class _OpenCase:
    case_id: uuid.UUID
    window_ends: date
    version: int


def _event_id(*parts: object) -> uuid.UUID:
    return uuid.uuid5(HUB_NAMESPACE, "/".join(str(p) for p in parts))


async def record_demo_signals(
    store: SqlEventStore,
    signals: Iterable[SyntheticSignal],
    matching_window: timedelta = timedelta(days=30),
    on_signal: Callable[[], None] | None = None,
    batch_size: int = 200,
) -> RecordingSummary:
    summary = RecordingSummary()
    open_cases: dict[uuid.UUID, _OpenCase] = {}
    pending = iter(signals)
    while batch := list(islice(pending, batch_size)):
        async with store.unit_of_work() as uow:
            for signal in batch:
                await _record_one(uow, signal, open_cases, matching_window, summary)
        if on_signal is not None:
            for _ in batch:
                on_signal()
    return summary


async def _record_one(
    uow: UnitOfWork,
    signal: SyntheticSignal,
    open_cases: dict[uuid.UUID, _OpenCase],
    matching_window: timedelta,
    summary: RecordingSummary,
) -> None:
    signal_id = _event_id("signal", signal.partner_id, signal.partner_signal_id)
    metadata = Metadata(
        correlation_id=str(signal_id), actor="demo", source=f"urn:partner:{signal.partner_id}"
    )
    received = SignalReceived(
        signal_id=signal_id,
        partner_id=signal.partner_id,
        partner_signal_id=signal.partner_signal_id,
        partner_type=signal.partner_type,
        kind=signal.kind,
        amount=signal.amount,
        origin_date=signal.origin_date,
        signal_date=signal.signal_date,
        days_in_arrears=signal.days_in_arrears,
        crisis=signal.crisis,
        warm_handover=signal.warm_handover,
        household_id=signal.household_id,
        gemeentecode=ALMELO_GEMEENTECODE,
        pc4=signal.pc4,
    )
    result = await uow.append(
        f"signal-{signal_id}",
        [NewEvent(received, metadata, _event_id(signal_id, "received"))],
        StreamState.NO_STREAM,
    )
    if result.duplicate:
        summary.duplicates += 1
        return
    summary.accepted += 1
    case = open_cases.get(signal.household_id)
    if case is not None and signal.signal_date <= case.window_ends:
        attached = SignalAttachedToCase(
            case_id=case.case_id, signal_id=signal_id, partner_type=signal.partner_type
        )
        await uow.append(
            f"case-{case.case_id}",
            [NewEvent(attached, metadata, _event_id(signal_id, "attached"))],
            case.version,
        )
        case.version += 1
        summary.signals_attached += 1
        return
    case_id = _event_id("case", signal_id)
    window_ends = signal.signal_date + matching_window
    opened = CaseOpened(
        case_id=case_id,
        household_id=signal.household_id,
        gemeentecode=ALMELO_GEMEENTECODE,
        pc4=signal.pc4,
        first_signal_id=signal_id,
        matching_window_ends=window_ends,
    )
    await uow.append(
        f"case-{case_id}",
        [NewEvent(opened, metadata, _event_id(signal_id, "opened"))],
        StreamState.NO_STREAM,
    )
    open_cases[signal.household_id] = _OpenCase(case_id, window_ends, 1)
    summary.cases_opened += 1
