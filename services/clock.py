"""The municipality's calendar: dates are Dutch dates (a signal dated today in Almelo is not
"in the future" because UTC has not reached midnight yet)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

MUNICIPAL_TIME_ZONE = ZoneInfo("Europe/Amsterdam")


def today() -> date:
    return datetime.now(MUNICIPAL_TIME_ZONE).date()
