"""Pausing Python's cyclic garbage collector while a batch builds many long-lived objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_garbage_collection() -> Iterator[None]:
    """Building a batch allocates thousands of objects that all stay alive; the cyclic
    collector would scan them again and again meanwhile, for nothing (reference counting
    still frees whatever is dropped). Paused for the batch only."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
