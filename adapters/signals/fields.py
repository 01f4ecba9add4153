"""Small pure parsers and validators for the values partners send (DESIGN §5).

The ``parse_*`` functions take whatever a channel delivers (CSV text or JSON values) and either
return the typed value or raise ``ValueError``. Their messages are written to follow a field
name ("bedrag: must not be negative …"), say what is accepted, and never contain the value
itself: a shifted CSV column can put a name or a BSN into any field.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

MAX_AMOUNT = Decimal(1_000_000)
CENT = Decimal("0.01")
EARLIEST_BIRTH_DATE = date(1900, 1, 1)

# ASCII classes throughout: Python's \d also matches Arabic-Indic and other digits, which
# int() would then happily convert.
_POSTCODE = re.compile(r"([1-9][0-9]{3}) ?([A-Za-z]{2})")
_AMOUNT = re.compile(r"(?:(?:€|eur)\s?)?([+-]?)([0-9]+(?:[.,][0-9]+)*)", re.IGNORECASE)
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DUTCH_DATE = re.compile(r"([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})")
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,12}")
_PHONE = re.compile(r"\+?[0-9](?:[0-9 -]*[0-9])?")
# Unicode categories Cc (U+0000-U+001F, U+007F-U+009F) and Cs (the surrogates), exactly.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_TRUE = frozenset({"true", "ja", "j", "yes", "1"})
_FALSE = frozenset({"false", "nee", "n", "no", "0"})

AMOUNT_FORMATS = "euros with at most 2 decimals, such as 1234.56, 1234,56 or 1.234,56"
DATE_FORMATS = "yyyy-mm-dd or dd-mm-yyyy"
BOOLEAN_FORMATS = "true or false (also ja/nee, j/n, yes/no, 1/0)"


def normalise_postcode(text: str) -> str | None:
    """``1234AB`` from ``1234ab``, ``1234 AB`` and such; ``None`` when it is no Dutch postcode."""
    match = _POSTCODE.fullmatch(text.strip())
    if match is None:
        return None
    return f"{match[1]}{match[2].upper()}"


def normalise_phone(text: str) -> str | None:
    """Digits with an optional leading ``+``, spaces and dashes removed; 10 to 15 digits."""
    text = text.strip()
    if _PHONE.fullmatch(text) is None:
        return None
    digits = "".join(character for character in text if character.isdigit())
    if not 10 <= len(digits) <= 15:
        return None
    return f"+{digits}" if text.startswith("+") else digits


def is_plausible_email(text: str) -> bool:
    """One ``@``, something before it, a dotted domain after it, no spaces, at most 254 long.

    Deliberately loose: the only way to know an address works is to write to it.
    """
    if len(text) > 254 or text.count("@") != 1 or not text.isprintable() or " " in text:
        return False
    local, domain = text.split("@")
    labels = domain.split(".")
    return bool(local) and len(labels) >= 2 and all(labels)


def has_unstorable_characters(text: str) -> bool:
    """Control characters (NUL, tab, line breaks) or lone surrogates.

    PostgreSQL refuses NUL in text and UTF-8 cannot encode a lone surrogate, and a line break
    would split a line of the rejects file; better to say so at the door.
    """
    return _UNSTORABLE.search(text) is not None


def parse_text(value: object, *, max_length: int) -> str:
    """Text of 1 to ``max_length`` characters (surrounding whitespace removed)."""
    if not isinstance(value, str):
        raise ValueError(f"must be text of at most {max_length} characters")
    text = value.strip()
    if has_unstorable_characters(text):
        raise ValueError("must not contain control characters such as tabs or line breaks")
    if not 1 <= len(text) <= max_length:
        raise ValueError(f"must be text of at most {max_length} characters")
    return text


def parse_identifier(value: object, *, max_length: int) -> str:
    """A partner's own id: printable text, or a JSON whole number (many systems number them)."""
    message = f"must be 1 to {max_length} printable characters (no tabs or line breaks)"
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > 4 * max_length:  # str() refuses huge ints; too long anyway
            raise ValueError(message)
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(message)
    text = value.strip()
    if not 1 <= len(text) <= max_length or not text.isprintable():
        raise ValueError(message)
    return text


def parse_whole_number(value: object, *, minimum: int, maximum: int) -> int:
    """A whole number in ``minimum..maximum`` from an int, an integral float or digits."""
    message = f"must be a whole number from {minimum} to {maximum}"
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        # JSON writers in some languages emit 12.0 for 12.
        number = int(value)
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or not minimum <= number <= maximum:
        raise ValueError(message)
    return number


def parse_bool(value: object) -> bool:
    """true/false, ja/nee, j/n, yes/no, 1/0 in any case, or a JSON boolean or 0/1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ValueError(f"must be {BOOLEAN_FORMATS}")


def parse_date(value: object, *, date_format: str | None = None) -> date:
    """A date as ``yyyy-mm-dd`` or ``dd-mm-yyyy``, or in the partner's strptime ``date_format``."""
    accepted = DATE_FORMATS if date_format is None else f"{DATE_FORMATS} or {date_format}"
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be a date as {accepted}")
    text = value.strip()
    if match := _ISO_DATE.fullmatch(text):
        return _calendar_date(int(match[1]), int(match[2]), int(match[3]))
    if match := _DUTCH_DATE.fullmatch(text):
        return _calendar_date(int(match[3]), int(match[2]), int(match[1]))
    if date_format is not None and text.isascii():
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            pass
    raise ValueError(f"must be a date as {accepted}")


def _calendar_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError("is not a real calendar date") from None


def parse_amount(value: object, *, decimal: str | None = None) -> Decimal:
    """Euros from 0 to 1,000,000 with at most 2 decimals, returned with exactly 2 decimals.

    ``decimal`` is the partner's decimal separator (``","`` or ``"."``) when its file says so;
    without it a lone separator is read as the decimal separator.
    """
    if isinstance(value, bool):
        raise ValueError(f"must be an amount in {AMOUNT_FORMATS}")
    if isinstance(value, int):
        return _in_range(Decimal(value), fraction_digits=0)
    if isinstance(value, float | Decimal):
        return _number_amount(value)
    if isinstance(value, str):
        return _text_amount(value, decimal)
    raise ValueError(f"must be an amount in {AMOUNT_FORMATS}")


def _number_amount(value: float | Decimal) -> Decimal:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"must be an amount in {AMOUNT_FORMATS}")
        # repr gives the shortest decimal that reads back as this float: 1234.56, not its
        # binary expansion 1234.5599999999999454….
        value = Decimal(repr(value))
    if not value.is_finite():
        raise ValueError(f"must be an amount in {AMOUNT_FORMATS}")
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite, so not 'n', 'N' or 'F'
    return _in_range(value, fraction_digits=max(0, -exponent))


def _text_amount(text: str, decimal: str | None) -> Decimal:
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"must be an amount in {AMOUNT_FORMATS}")
    sign, number = match[1], match[2]
    whole, fraction = _split_amount(number, decimal)
    try:
        amount = Decimal(f"{sign}{whole}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError(f"must be an amount in {AMOUNT_FORMATS}") from None
    return _in_range(amount, fraction_digits=len(fraction))


def _split_amount(number: str, decimal: str | None) -> tuple[str, str]:
    """Whole digits and fraction digits, after deciding which separator is the decimal one."""
    separators = {character for character in number if character in ".,"}
    if not separators:
        return number, ""
    if len(separators) == 2:
        # Both occur: the last one separates the cents, the other groups thousands.
        decimal_separator = number[max(number.rfind("."), number.rfind(","))]
        whole, _, fraction = number.rpartition(decimal_separator)
        if decimal_separator in whole:
            raise ValueError(f"has its decimal separator more than once; use {AMOUNT_FORMATS}")
        return _ungroup(whole, "," if decimal_separator == "." else "."), fraction
    (separator,) = separators
    partner_says_grouping = decimal in (".", ",") and decimal != separator
    # 1.234.567 cannot be a decimal number, whatever the partner's setting says.
    if partner_says_grouping or (number.count(separator) > 1 and decimal != separator):
        return _ungroup(number, separator), ""
    if number.count(separator) > 1:
        raise ValueError(f"has its decimal separator more than once; use {AMOUNT_FORMATS}")
    whole, _, fraction = number.partition(separator)
    return whole, fraction


def _ungroup(whole: str, separator: str) -> str:
    if re.fullmatch(rf"[0-9]{{1,3}}(?:{re.escape(separator)}[0-9]{{3}})*", whole) is None:
        raise ValueError(
            f"has thousands separators that do not group by three; use {AMOUNT_FORMATS}"
        )
    return whole.replace(separator, "")


def _in_range(amount: Decimal, *, fraction_digits: int) -> Decimal:
    if amount < 0:
        raise ValueError("must not be negative; use an amount from 0 to 1,000,000 euros")
    if amount > MAX_AMOUNT:
        raise ValueError("must be at most 1,000,000 euros")
    if fraction_digits > 2:
        raise ValueError(f"has more than 2 decimals; use {AMOUNT_FORMATS}")
    # copy_abs: "-0" is zero, and should not be stored as -0.00.
    return amount.copy_abs().quantize(CENT)
