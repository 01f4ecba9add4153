"""Collected timings, turned into medians, ratios and the verdict on each target."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from enum import Enum

from bench.databases import Backend
from bench.timing import Operation, Timings


class Contender(Enum):
    OURS = "ours"
    LIMIT = "limit"
    PEER = "peer"
    PEER_SERIALISING = "peer serialising"
    """The peer's batched append including its Mapper's serialisation, as ours includes it:
    printed beside the table, never a target's reference."""


@dataclass(frozen=True, slots=True)
class Goal:
    """Ours must reach ``factor`` times the reference contender's rate on ``operation``."""

    operation: Operation
    reference: Contender
    factor: float


GOALS: tuple[Goal, ...] = (
    Goal(Operation.APPEND_ONE, Contender.PEER, 1.0),
    Goal(Operation.APPEND_BATCH, Contender.LIMIT, 0.5),
    Goal(Operation.APPEND_BATCH, Contender.PEER, 1.0),
    Goal(Operation.READ_ALL, Contender.PEER, 1.0),
)


@dataclass(frozen=True, slots=True)
class Rate:
    median: float
    low: float
    high: float

    @property
    def spread(self) -> float:
        """Half the range of the runs, relative to the median."""
        return (self.high - self.low) / 2 / self.median


@dataclass(slots=True)
class Results:
    counts: dict[Operation, int]
    _rates: dict[tuple[Backend, Operation, Contender], list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, backend: Backend, contender: Contender, timings: Timings) -> None:
        for operation, seconds in timings.items():
            self._rates[backend, operation, contender].append(self.counts[operation] / seconds)

    def rate(self, backend: Backend, operation: Operation, contender: Contender) -> Rate | None:
        rates = self._rates.get((backend, operation, contender))
        if not rates:
            return None
        return Rate(statistics.median(rates), min(rates), max(rates))

    def ratio(self, backend: Backend, operation: Operation, reference: Contender) -> float | None:
        ours = self.rate(backend, operation, Contender.OURS)
        other = self.rate(backend, operation, reference)
        if ours is None or other is None:
            return None
        return ours.median / other.median

    def met(self, backend: Backend, goal: Goal) -> bool | None:
        ratio = self.ratio(backend, goal.operation, goal.reference)
        return None if ratio is None else ratio >= goal.factor
