"""The small parsers behind signal validation: each rule, its accepted forms and its messages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.signals.fields import (
    is_plausible_email,
    normalise_phone,
    normalise_postcode,
    parse_amount,
    parse_bool,
    parse_date,
    parse_identifier,
    parse_text,
    parse_whole_number,
)
from services.bsn import is_valid_bsn

BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)


def bsn_check_digit(eight: str) -> int:
    """The ninth digit that makes ``eight`` + it pass the eleven-test (10 means: none does)."""
    return sum(weight * int(digit) for weight, digit in zip(BSN_WEIGHTS, eight, strict=True)) % 11


def bsns() -> st.SearchStrategy[str]:
    """Synthetic BSNs: eight random digits and the check digit that makes them pass."""
    return (
        st.text(alphabet="0123456789", min_size=8, max_size=8)
        .filter(lambda eight: bsn_check_digit(eight) < 10 and eight != "00000000")
        .map(lambda eight: f"{eight}{bsn_check_digit(eight)}")
    )


# Postcode


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7601AB", "7601AB"),
        ("7601ab", "7601AB"),
        ("7601 aB", "7601AB"),
        (" 7609 ZZ ", "7609ZZ"),
        ("1000AA", "1000AA"),
    ],
)
def test_postcode_is_normalised(text: str, expected: str) -> None:
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "0601AB",  # first digit is 1-9
        "7601  AB",  # one space at most
        "760AB",
        "76011AB",
        "7601A",
        "7601ABC",
        "7601-AB",
        "AB7601",
        "٧٦٠١AB",  # Arabic-Indic digits are digits to Python, not to PostNL
        "7601ÄB",
        "",
    ],
)
def test_postcode_rejects(text: str) -> None:
    assert normalise_postcode(text) is None


@given(
    digits=st.integers(min_value=1000, max_value=9999),
    letters=st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2
    ),
    space=st.sampled_from(["", " "]),
)
def test_any_valid_postcode_normalises_to_six_characters(
    digits: int, letters: str, space: str
) -> None:
    assert normalise_postcode(f"{digits}{space}{letters}") == f"{digits}{letters.upper()}"


# BSN


@pytest.mark.parametrize("bsn", ["111222333", "123456782", "999999990", "012345672"])
def test_bsn_passing_the_eleven_test(bsn: str) -> None:
    assert is_valid_bsn(bsn)


@pytest.mark.parametrize(
    "text",
    [
        "111222334",  # last digit off by one
        "123456789",
        "000000000",  # passes the arithmetic, but is no number
        "12345678",  # eight digits: a leading zero lost in a spreadsheet
        "0123456782",
        "12345678a",
        "١١١٢٢٢٣٣٣",  # Arabic-Indic digits
        "",
    ],
)
def test_bsn_failing(text: str) -> None:
    assert not is_valid_bsn(text)


@given(bsn=bsns(), position=st.integers(min_value=0, max_value=8), change=st.integers(1, 9))
def test_eleven_test_catches_every_single_digit_error(bsn: str, position: int, change: int) -> None:
    assert is_valid_bsn(bsn)
    digit = (int(bsn[position]) + change) % 10
    altered = f"{bsn[:position]}{digit}{bsn[position + 1 :]}"
    assert not is_valid_bsn(altered)


# Amounts


@pytest.mark.parametrize(
    ("value", "decimal", "expected"),
    [
        ("1234.56", None, "1234.56"),
        ("1234,56", None, "1234.56"),
        ("1.234,56", None, "1234.56"),
        ("1,234.56", None, "1234.56"),
        ("€ 1.234,56", None, "1234.56"),
        ("€1234,5", None, "1234.50"),
        ("EUR 12", None, "12.00"),
        ("0", None, "0.00"),
        ("-0", None, "0.00"),
        ("1000000", None, "1000000.00"),
        ("1.000.000,00", None, "1000000.00"),
        ("1.234.567", None, None),  # above the maximum, see the rejects below
        ("1.234", ",", "1234.00"),  # partner: decimal comma, so the point groups thousands
        ("1,234", ".", "1234.00"),
        ("12.5", ".", "12.50"),
        ("12,5", ",", "12.50"),
        (1234, None, "1234.00"),
        (1234.56, None, "1234.56"),
        (0.1, None, "0.10"),
        (Decimal("99.90"), None, "99.90"),
    ],
)
def test_amount_accepts(value: object, decimal: str | None, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="at most 1,000,000"):
            parse_amount(value, decimal=decimal)
        return
    amount = parse_amount(value, decimal=decimal)
    assert amount == Decimal(expected)
    assert str(amount) == expected  # always exactly two decimals


@pytest.mark.parametrize(
    ("value", "decimal", "fragment"),
    [
        ("-12,50", None, "must not be negative"),
        (-1, None, "must not be negative"),
        ("1000000,01", None, "at most 1,000,000"),
        (1e300, None, "at most 1,000,000"),
        ("1.2345", None, "more than 2 decimals"),
        ("12.500", None, "more than 2 decimals"),
        (0.001, None, "more than 2 decimals"),
        ("1.234", None, "more than 2 decimals"),  # a lone point is the decimal point by default
        ("12,34.56", None, "do not group by three"),
        ("1234.56", ",", "do not group by three"),
        ("1.23.45", ",", "do not group by three"),
        ("1,234,56", ",", "decimal separator more than once"),
        ("1.234.56,7.8", None, "decimal separator more than once"),
        ("twaalf", None, "must be an amount"),
        ("12 euro", None, "must be an amount"),
        ("1 234,56", None, "must be an amount"),
        ("1234.", None, "must be an amount"),
        (",50", None, "must be an amount"),
        ("١٢", None, "must be an amount"),
        (True, None, "must be an amount"),
        (float("nan"), None, "must be an amount"),
        (float("inf"), None, "must be an amount"),
        (Decimal("NaN"), None, "must be an amount"),
        ([12], None, "must be an amount"),
        (None, None, "must be an amount"),
    ],
)
def test_amount_rejects(value: object, decimal: str | None, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_amount(value, decimal=decimal)


def _dutch(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


AMOUNT_STYLES: dict[str, Callable[[Decimal], str]] = {
    "point": lambda amount: f"{amount:.2f}",
    "comma": lambda amount: f"{amount:.2f}".replace(".", ","),
    "grouped point": lambda amount: f"{amount:,.2f}",
    "grouped comma": _dutch,
    "euro sign": lambda amount: f"€ {_dutch(amount)}",
}


@given(
    amount=st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False),
    style=st.sampled_from(sorted(AMOUNT_STYLES)),
)
def test_amount_round_trips_exactly_in_every_style(amount: Decimal, style: str) -> None:
    assert parse_amount(AMOUNT_STYLES[style](amount)) == amount


@given(st.one_of(st.text(), st.floats(), st.integers(), st.booleans(), st.none()))
def test_amount_parser_raises_only_value_errors(value: object) -> None:
    try:
        amount = parse_amount(value)
    except ValueError:
        return
    assert Decimal(0) <= amount <= Decimal(1_000_000)


# Dates


@pytest.mark.parametrize(
    ("text", "date_format", "expected"),
    [
        ("2024-03-01", None, date(2024, 3, 1)),
        ("01-03-2024", None, date(2024, 3, 1)),
        ("1-3-2024", None, date(2024, 3, 1)),
        (" 2024-02-29 ", None, date(2024, 2, 29)),
        ("01/03/2024", "%d/%m/%Y", date(2024, 3, 1)),
        ("20240301", "%Y%m%d", date(2024, 3, 1)),
        ("2024-03-01", "%d/%m/%Y", date(2024, 3, 1)),  # the standard forms stay accepted
    ],
)
def test_date_accepts(text: str, date_format: str | None, expected: date) -> None:
    assert parse_date(text, date_format=date_format) == expected


@pytest.mark.parametrize(
    ("value", "date_format", "fragment"),
    [
        ("2023-02-29", None, "not a real calendar date"),
        ("31-04-2024", None, "not a real calendar date"),
        ("0000-01-01", None, "not a real calendar date"),
        ("2024/03/01", None, "yyyy-mm-dd or dd-mm-yyyy"),
        ("20240301", None, "yyyy-mm-dd or dd-mm-yyyy"),  # ISO basic: not accepted
        ("2024-03-01T10:00:00", None, "yyyy-mm-dd or dd-mm-yyyy"),
        ("1 maart 2024", None, "yyyy-mm-dd or dd-mm-yyyy"),
        ("01.03.2024", "%d/%m/%Y", "or %d/%m/%Y"),
        ("01/03/2024", "%Q", "yyyy-mm-dd"),  # a broken partner format is no crash
        (20240301, None, "yyyy-mm-dd or dd-mm-yyyy"),
        (None, None, "yyyy-mm-dd"),
    ],
)
def test_date_rejects(value: object, date_format: str | None, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_date(value, date_format=date_format)


@given(st.dates())
def test_date_round_trips_in_both_forms(day: date) -> None:
    assert parse_date(f"{day.year:04d}-{day.month:02d}-{day.day:02d}") == day
    assert parse_date(f"{day.day:02d}-{day.month:02d}-{day.year:04d}") == day


# Booleans, whole numbers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *((word, True) for word in ["true", "TRUE", "Ja", "j", "J", "yes", "Yes", "1", " ja "]),
        *((word, False) for word in ["false", "False", "nee", "NEE", "n", "no", "0"]),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
    ],
)
def test_boolean_accepts(value: object, expected: bool) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", ["misschien", "y", "2", "waar", 2, 1.0, None, []])
def test_boolean_rejects(value: object) -> None:
    with pytest.raises(ValueError, match=r"true or false \(also ja/nee"):
        parse_bool(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (" 7 ", 7), ("0", 0), (3650, 3650), (12.0, 12), ("+5", 5), ("007", 7)],
)
def test_whole_number_accepts(value: object, expected: int) -> None:
    assert parse_whole_number(value, minimum=0, maximum=3650) == expected


@pytest.mark.parametrize(
    "value", ["-1", -1, 3651, "3651", "12.5", 12.5, "12a", "", "1" * 5000, True, None, "١٢"]
)
def test_whole_number_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="must be a whole number from 0 to 3650"):
        parse_whole_number(value, minimum=0, maximum=3650)


# Phone, e-mail, text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0612345678", "0612345678"),
        ("06-12345678", "0612345678"),
        ("+31 6 1234 5678", "+31612345678"),
        ("053 - 123 45 67", "0531234567"),
        ("+123456789012345", "+123456789012345"),
    ],
)
def test_phone_accepts_and_normalises(text: str, expected: str) -> None:
    assert normalise_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    ["061234567", "+1234567890123456", "(053) 1234567", "06 1234 567x", "+-0612345678", "06++"],
)
def test_phone_rejects(text: str) -> None:
    assert normalise_phone(text) is None


@pytest.mark.parametrize("text", ["zoe@example.nl", "j.van.t.hoff@post.example.com", "a+b@c.nl"])
def test_plausible_email(text: str) -> None:
    assert is_plausible_email(text)


@pytest.mark.parametrize(
    "text",
    [
        "zoe.example.nl",
        "zoe@@example.nl",
        "zoe@example",
        "@example.nl",
        "zoe@.nl",
        "zoe@example.",
        "zoe @example.nl",
        f"{'a' * 250}@b.nl",
    ],
)
def test_implausible_email(text: str) -> None:
    assert not is_plausible_email(text)


def test_text_is_trimmed_and_limited() -> None:
    assert parse_text("  Zoë  ", max_length=4) == "Zoë"
    with pytest.raises(ValueError, match="at most 4 characters"):
        parse_text("Zoëtje", max_length=4)
    with pytest.raises(ValueError, match="control characters"):
        parse_text("van\t't Hoff", max_length=200)
    with pytest.raises(ValueError, match="control characters"):
        parse_text("Ba\x00kker", max_length=200)
    with pytest.raises(ValueError, match="text of at most 200"):
        parse_text(12, max_length=200)


def test_identifier_accepts_numbers_and_printable_text() -> None:
    assert parse_identifier(" BW-2024-0001 ", max_length=100) == "BW-2024-0001"
    assert parse_identifier(20240001, max_length=100) == "20240001"
    for bad in ["a\nb", "x" * 101, True, 1.5, 10**5000]:
        with pytest.raises(ValueError, match="1 to 100 printable characters"):
            parse_identifier(bad, max_length=100)
