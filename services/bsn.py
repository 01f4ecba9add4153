"""The burgerservicenummer (BSN) eleven-test."""

from __future__ import annotations

BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)


def is_valid_bsn(text: str) -> bool:
    """Nine digits passing the eleven-test (the last digit weighs -1), and not all zeros."""
    if len(text) != 9 or not text.isascii() or not text.isdigit() or text == "000000000":
        return False
    return (
        sum(weight * int(digit) for weight, digit in zip(BSN_WEIGHTS, text, strict=True)) % 11 == 0
    )
