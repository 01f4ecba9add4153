"""Dutch number formatting for the HTML report: ``1.234`` for thousands, ``4,5`` for
decimals, ``75,0 %`` for rates, ``–`` for a figure that has no value (never ``0``)."""

from __future__ import annotations

NO_VALUE = "–"
NBSP = "\u00a0"


def whole(value: int | None) -> str:
    """An integer with a dot between thousands: ``73.000``."""
    if value is None:
        return NO_VALUE
    return f"{value:,}".replace(",", ".")


def one_decimal(value: float | None) -> str:
    """A figure to one decimal, without a trailing ``,0``: ``4,5``, ``4``, ``1.234,5``."""
    if value is None:
        return NO_VALUE
    text = f"{value:,.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return _dutch(text)


def percent(fraction: float | None) -> str:
    """A fraction as a percentage to one decimal: ``0.75`` → ``75,0 %``."""
    if fraction is None:
        return NO_VALUE
    return _dutch(f"{fraction * 100:,.1f}") + NBSP + "%"


def _dutch(english: str) -> str:
    # Swap the separators through a placeholder: "1,234.5" → "1.234,5".
    return english.replace(",", "\0").replace(".", ",").replace("\0", ".")
