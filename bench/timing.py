"""What is measured and how: named operations and a stopwatch around only the timed part."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum


class Operation(Enum):
    APPEND_ONE = "append_one"
    APPEND_BATCH = "append_batch"
    READ_ALL = "read_all"


@dataclass(slots=True)
class Stopwatch:
    seconds: float = field(default=0.0)


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    """Times the block; set-up and clean-up stay outside it.

    Collects garbage first so that one contender's leftovers do not slow the next one down.
    """
    gc.collect()
    watch = Stopwatch()
    start = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start


Timings = dict[Operation, float]
"""Seconds per operation for one measurement of one contender."""
