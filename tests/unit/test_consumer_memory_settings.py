"""The long-running consumer's garbage-collector settings (adapters.broker.signal_intake)."""

from __future__ import annotations

import gc

from adapters.broker.signal_intake import (
    YOUNG_OBJECTS_BEFORE_A_COLLECTION,
    settle_long_lived_objects,
)


def test_settling_freezes_what_is_alive_and_collects_the_young_less_often() -> None:
    threshold = gc.get_threshold()
    try:
        settle_long_lived_objects()

        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_OBJECTS_BEFORE_A_COLLECTION, *threshold[1:])
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
