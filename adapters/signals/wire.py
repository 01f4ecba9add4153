"""A partner's signal on the wire (DESIGN §5, Dutch DDAS names) and its translation.

``parse_signal`` turns one record into the intake command ``ReceiveSignal`` or into every
``FieldProblem`` it has. A record is either nested (a CloudEvent's ``data`` or a JSON line:
signal fields at the top, the person's fields in ``client``) or flat (a CSV row: all
``WIRE_FIELDS`` at the top). It is pure and never raises: whatever a partner sends ends as a
command or as a list of reasons in words.

Validation runs in two steps. The pydantic models check each field on its own (type, format,
range). The rules that involve several fields (what ``soort`` requires, date order) run
afterwards on whatever did validate, so one signal's problems are all reported in one go.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, ValidationInfo

from adapters.signals.fields import (
    EARLIEST_BIRTH_DATE,
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
from events.catalogue.vocabulary import PartnerType, SignalKind
from services.bsn import is_valid_bsn
from services.intake.commands import FieldProblem, PersonalDetails, ReceiveSignal
from services.partners import WIRE_FIELDS, Partner

# WIRE_FIELDS lists the signal's own fields first, then the person's from the BSN on.
SIGNAL_FIELDS: tuple[str, ...] = WIRE_FIELDS[: WIRE_FIELDS.index("burgerservicenummer")]
"""The fields at the top of a signal."""

CLIENT_FIELDS: tuple[str, ...] = tuple(name for name in WIRE_FIELDS if name not in SIGNAL_FIELDS)
"""The person's fields: inside ``client`` in a nested record, at the top in a flat one."""

_SIGNAL_FIELD_SET = frozenset(SIGNAL_FIELDS)
_CLIENT_FIELD_SET = frozenset(CLIENT_FIELDS)

CLIENT = "client"
WHOLE_RECORD = "(signal)"
"""The ``FieldProblem.field`` for a record that is not an object at all."""

NAME_LENGTH = 200  # DDAS AN200
ADDITION_LENGTH = 4  # DDAS AN4
ID_LENGTH = 100
_KEY_LENGTH = 100

_VALUE_ERROR_PREFIX = "Value error, "
_ALWAYS_REQUIRED = ("signaalId", "signaalpartnerType", "soort", "signaaldatum")
_ADDRESS = ("client.postcode", "client.huisnummer")
_NEEDS_AMOUNT_AND_ADDRESS = frozenset(
    {SignalKind.EARLY_SIGNAL, SignalKind.FINAL_DELIVERY_SIGNAL, SignalKind.UPDATE}
)
_NEEDS_ORIGIN_DATE = frozenset({SignalKind.EARLY_SIGNAL, SignalKind.FINAL_DELIVERY_SIGNAL})


_Enum = TypeVar("_Enum", PartnerType, SignalKind)


@dataclass(frozen=True, slots=True)
class _Context:
    """What field validation needs beyond the value: passed as pydantic's validation context."""

    partner: Partner
    today: date
    decimal: str | None
    date_format: str | None


def _context(info: ValidationInfo) -> _Context:
    context = info.context
    if not isinstance(context, _Context):  # pragma: no cover - only parse_signal validates
        raise TypeError("validate wire models through parse_signal")
    return context


# Field validators. Each replaces pydantic's own validation of its field (PlainValidator), so
# every message a partner sees is one of ours.


def _signal_id(value: object) -> str:
    return parse_identifier(value, max_length=ID_LENGTH)


def _customer_number(value: object) -> str:
    return parse_identifier(value, max_length=ID_LENGTH)


def _partner_type(value: object, info: ValidationInfo) -> PartnerType:
    partner = _context(info).partner
    partner_type = _enum_member(value, PartnerType)
    if partner_type is None:
        raise ValueError(f"must be one of {_listing(PartnerType)} (any case)")
    if not partner.may_send(partner_type):
        registered = ", ".join(partner.types)
        raise ValueError(
            f"partner {partner.id} ({partner.name}) is registered for {registered} only, "
            f"not for {partner_type.value}"
        )
    return partner_type


def _kind(value: object) -> SignalKind:
    kind = _enum_member(value, SignalKind)
    if kind is None:
        raise ValueError(f"must be one of {_listing(SignalKind)} (any case)")
    return kind


def _amount(value: object, info: ValidationInfo) -> Decimal:
    return parse_amount(value, decimal=_context(info).decimal)


def _event_date(value: object, info: ValidationInfo) -> date:
    context = _context(info)
    parsed = parse_date(value, date_format=context.date_format)
    if parsed > context.today:
        raise ValueError("must not be in the future")
    return parsed


def _birth_date(value: object, info: ValidationInfo) -> date:
    parsed = _event_date(value, info)
    if parsed < EARLIEST_BIRTH_DATE:
        raise ValueError(f"must not be before {EARLIEST_BIRTH_DATE.isoformat()}")
    return parsed


def _days(value: object) -> int:
    return parse_whole_number(value, minimum=0, maximum=3650)


def _months(value: object) -> int:
    return parse_whole_number(value, minimum=0, maximum=120)


def _house_number(value: object) -> int:
    try:
        return parse_whole_number(value, minimum=1, maximum=99999)
    except ValueError as error:
        # The commonest mistake: "12a" in huisnummer.
        raise ValueError(f"{error}; put letters in huisnummertoevoeging") from None


def _name(value: object) -> str:
    return parse_text(value, max_length=NAME_LENGTH)


def _addition(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # "2" for a second floor arrives as a JSON number
    return parse_text(value, max_length=ADDITION_LENGTH)


def _postcode(value: object) -> str:
    postcode = normalise_postcode(value) if isinstance(value, str) else None
    if postcode is None:
        raise ValueError("must be a Dutch postcode: 4 digits (not starting with 0) and 2 letters")
    return postcode


def _bsn(value: object) -> str:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) != 9:
        raise ValueError("must be exactly 9 digits, as text (keep any leading zero)")
    if not is_valid_bsn(value):
        raise ValueError("is not a valid BSN (eleven-test fails)")
    return value


def _phone(value: object) -> str:
    phone = normalise_phone(value) if isinstance(value, str) else None
    if phone is None:
        raise ValueError(
            "must be a phone number of 10 to 15 digits, optionally with a leading + "
            "and spaces or dashes"
        )
    return phone


def _email(value: object) -> str:
    if not isinstance(value, str) or not is_plausible_email(value.strip()):
        raise ValueError("must be an e-mail address such as naam@example.nl (at most 254 long)")
    return value.strip()


def _enum_member(value: object, enum: type[_Enum]) -> _Enum | None:
    if not isinstance(value, str):
        return None
    members: dict[str, Any] = _FOLDED_MEMBERS[enum]
    return members.get(value.strip().casefold())


# Each enum's members by their case-folded value (the first member wins, as a scan would).
_FOLDED_MEMBERS: dict[type, dict[str, Any]] = {
    enum: {
        folded: member for member in reversed(list(enum)) for folded in [member.value.casefold()]
    }
    for enum in (PartnerType, SignalKind)
}


def _listing(values: Iterable[str]) -> str:
    return ", ".join(values)


SignalId = Annotated[str | None, PlainValidator(_signal_id)]
CustomerNumber = Annotated[str | None, PlainValidator(_customer_number)]
PartnerTypeValue = Annotated[PartnerType | None, PlainValidator(_partner_type)]
Kind = Annotated[SignalKind | None, PlainValidator(_kind)]
Amount = Annotated[Decimal | None, PlainValidator(_amount)]
EventDate = Annotated[date | None, PlainValidator(_event_date)]
BirthDate = Annotated[date | None, PlainValidator(_birth_date)]
Days = Annotated[int | None, PlainValidator(_days)]
Months = Annotated[int | None, PlainValidator(_months)]
Flag = Annotated[bool, PlainValidator(parse_bool)]
HouseNumber = Annotated[int | None, PlainValidator(_house_number)]
Name = Annotated[str | None, PlainValidator(_name)]
Addition = Annotated[str | None, PlainValidator(_addition)]
Postcode = Annotated[str | None, PlainValidator(_postcode)]
Bsn = Annotated[str | None, PlainValidator(_bsn)]
Phone = Annotated[str | None, PlainValidator(_phone)]
Email = Annotated[str | None, PlainValidator(_email)]

_WIRE_CONFIG = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


class ClientWire(BaseModel):
    """DDAS ``Client``: the person the signal is about."""

    model_config = _WIRE_CONFIG

    burgerservicenummer: Bsn = None
    voorletters: Name = None
    voorvoegsel: Name = None
    achternaam: Name = None
    geboortedatum: BirthDate = None
    straatnaam: Name = None
    postcode: Postcode = None
    huisnummer: HouseNumber = None
    huisnummertoevoeging: Addition = None
    plaatsnaam: Name = None
    telefoonnummer: Phone = None
    email: Email = None


class SignalWire(BaseModel):
    """DDAS ``Vroegsignaal`` plus what partners send in practice. Every field is optional
    here: which ones are required depends on ``soort`` and is checked by ``_rule_problems``."""

    model_config = _WIRE_CONFIG

    signaal_id: SignalId = Field(default=None, alias="signaalId")
    signaalpartner_type: PartnerTypeValue = Field(default=None, alias="signaalpartnerType")
    soort: Kind = None
    bedrag: Amount = None
    ontstaansdatum: EventDate = None
    signaaldatum: EventDate = None
    dagen_achterstand: Days = Field(default=None, alias="dagenAchterstand")
    maanden_achterstand: Months = Field(default=None, alias="maandenAchterstand")
    crisissignaal: Flag = False
    warme_overdracht: Flag = Field(default=False, alias="warmeOverdracht")
    klantnummer: CustomerNumber = None
    client: ClientWire | None = None


def parse_signal(
    record: Mapping[str, object],
    partner: Partner,
    *,
    today: date,
    decimal: str | None = None,
    date_format: str | None = None,
) -> ReceiveSignal | list[FieldProblem]:
    """The command for one partner's record, or every problem it has (never both, never empty).

    ``decimal`` and ``date_format`` are the partner's file settings (``FileMapping``), for
    files that use them; ``today`` bounds every date (nothing is dated in the future).
    """
    if not isinstance(record, Mapping):
        return [FieldProblem(WHOLE_RECORD, "must be an object with the signal's fields")]
    shaped, problems = _shape(record)
    context = _Context(partner=partner, today=today, decimal=decimal, date_format=date_format)
    wire, field_problems = _validate(shaped, context)
    problems += field_problems
    failed = {problem.field for problem in problems}
    problems += _rule_problems(wire, failed)
    if problems:
        return _in_wire_order(problems)
    return _command(wire, partner)


# Shaping: from a nested or flat record to the nested dict the models read, keeping only
# present values and reporting every key that is not a wire field.


def _shape(record: Mapping[Any, object]) -> tuple[dict[str, object], list[FieldProblem]]:
    if CLIENT in record:
        return _shape_nested(record)
    return _shape_flat(record)


def _shape_flat(record: Mapping[Any, object]) -> tuple[dict[str, object], list[FieldProblem]]:
    top: dict[str, object] = {}
    client: dict[str, object] = {}
    problems: list[FieldProblem] = []
    for key, value in record.items():
        if key in _SIGNAL_FIELD_SET:
            target = top
        elif key in _CLIENT_FIELD_SET:
            target = client
        else:
            problems.append(_unknown(str(key), WIRE_FIELDS, prefix=""))
            continue
        _keep(target, key, value)
    if client:
        top[CLIENT] = client
    return top, problems


def _shape_nested(record: Mapping[Any, object]) -> tuple[dict[str, object], list[FieldProblem]]:
    top: dict[str, object] = {}
    problems: list[FieldProblem] = []
    for key, value in record.items():
        if key == CLIENT:
            client, client_problems = _shape_client(value)
            problems += client_problems
            if client:
                top[CLIENT] = client
        elif key in _SIGNAL_FIELD_SET:
            _keep(top, key, value)
        elif key in _CLIENT_FIELD_SET:
            problems.append(FieldProblem(key, "is a client field; put it inside client"))
        else:
            problems.append(_unknown(str(key), (*SIGNAL_FIELDS, CLIENT), prefix=""))
    return top, problems


def _shape_client(value: object) -> tuple[dict[str, object], list[FieldProblem]]:
    if _absent(value):
        return {}, []
    if not isinstance(value, Mapping):
        message = f"must be an object with the client's fields ({_listing(CLIENT_FIELDS)})"
        return {}, [FieldProblem(CLIENT, message)]
    client: dict[str, object] = {}
    problems: list[FieldProblem] = []
    for key, field_value in value.items():
        if key in _CLIENT_FIELD_SET:
            _keep(client, key, field_value)
        elif key in _SIGNAL_FIELD_SET:
            message = "is a signal field; put it at the top level, not inside client"
            problems.append(FieldProblem(f"{CLIENT}.{key}", message))
        else:
            problems.append(_unknown(str(key), CLIENT_FIELDS, prefix=f"{CLIENT}."))
    return client, problems


def _keep(target: dict[str, object], key: str, value: object) -> None:
    # What "not _absent(value)" decides, stripping a text value once.
    if isinstance(value, str):
        value = value.strip()
        if value:
            target[key] = value
    elif value is not None:
        target[key] = value


def _absent(value: object) -> bool:
    # A CSV has no null: an empty cell, or one with only spaces, is the absent value.
    return value is None or (isinstance(value, str) and not value.strip())


def _unknown(key: str, known: tuple[str, ...], *, prefix: str) -> FieldProblem:
    # A field name, but from outside: keep reports readable (a CSV header ending in the
    # delimiter has an empty name).
    key = key[:_KEY_LENGTH] or "(empty name)"
    guess = _closest(key, known)
    hint = f"did you mean {prefix}{guess}? " if guess else ""
    return FieldProblem(
        f"{prefix}{key}", f"unknown field; {hint}known fields are {', '.join(known)}"
    )


def _closest(key: str, known: tuple[str, ...]) -> str | None:
    folded = {name.casefold(): name for name in known}
    if key.casefold() in folded:
        return folded[key.casefold()]
    matches = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    return matches[0] if matches else None


# Field validation.


def _validate(
    shaped: dict[str, object], context: _Context
) -> tuple[SignalWire, list[FieldProblem]]:
    try:
        return SignalWire.model_validate(shaped, context=context), []
    except ValidationError as error:
        problems = [_problem(detail["loc"], detail["msg"]) for detail in error.errors()]
    # Validate again without the fields that failed, so the rules spanning several fields
    # can still run on the rest and the partner hears about everything at once.
    failed = {problem.field for problem in problems}
    return SignalWire.model_validate(_without(shaped, failed), context=context), problems


def _problem(location: tuple[int | str, ...], message: str) -> FieldProblem:
    field = ".".join(str(part) for part in location)
    return FieldProblem(field, message.removeprefix(_VALUE_ERROR_PREFIX))


def _without(shaped: dict[str, object], failed: set[str]) -> dict[str, object]:
    kept = {key: value for key, value in shaped.items() if key not in failed}
    client = shaped.get(CLIENT)
    if isinstance(client, dict):
        kept[CLIENT] = {
            key: value for key, value in client.items() if f"{CLIENT}.{key}" not in failed
        }
    return kept


# Rules that span fields. A field that already failed is not reported as missing as well.


def _rule_problems(wire: SignalWire, failed: set[str]) -> list[FieldProblem]:
    values = _flat_values(wire)

    def missing(name: str) -> bool:
        return values.get(name) is None and name not in failed and not _client_failed(name, failed)

    problems = [FieldProblem(name, "is required") for name in _ALWAYS_REQUIRED if missing(name)]
    kind = wire.soort
    for name in _required_for(kind, values):
        if missing(name):
            problems.append(FieldProblem(name, _required_message(kind)))
    if wire.ontstaansdatum and wire.signaaldatum and wire.ontstaansdatum > wire.signaaldatum:
        problems.append(FieldProblem("ontstaansdatum", "must be on or before signaaldatum"))
    return problems


def _required_for(kind: SignalKind | None, values: Mapping[str, object]) -> tuple[str, ...]:
    if kind in _NEEDS_ORIGIN_DATE:
        return ("bedrag", "ontstaansdatum", *_ADDRESS)
    if kind in _NEEDS_AMOUNT_AND_ADDRESS:
        return ("bedrag", *_ADDRESS)
    if kind is SignalKind.WITHDRAWAL:
        # A withdrawal may leave the person out, but not half of them: a person without an
        # address cannot be recorded, and dropping the details silently would hide a mistake.
        has_client = any(
            value is not None for name, value in values.items() if name.startswith("client.")
        )
        return _ADDRESS if has_client else ()
    return ()  # soort missing or invalid: what it would require is anyone's guess


def _required_message(kind: SignalKind | None) -> str:
    if kind is SignalKind.WITHDRAWAL:
        return "is required when client details are given (an intrekking may leave out client)"
    return f"is required for soort {kind}"


def _client_failed(name: str, failed: set[str]) -> bool:
    return name.startswith(f"{CLIENT}.") and CLIENT in failed


def _flat_values(wire: SignalWire) -> dict[str, object]:
    # What model_dump(by_alias=True) gives, read off the attributes: dumping costs more than
    # the validation itself.
    values: dict[str, object] = {
        wire_name: getattr(wire, name) for name, wire_name in _SIGNAL_ATTRIBUTES
    }
    if wire.client is not None:
        client = wire.client
        for name, wire_name in _CLIENT_ATTRIBUTES:
            values[wire_name] = getattr(client, name)
    return values


_SIGNAL_ATTRIBUTES = tuple(
    (name, field.alias or name) for name, field in SignalWire.model_fields.items() if name != CLIENT
)
_CLIENT_ATTRIBUTES = tuple((name, f"{CLIENT}.{name}") for name in ClientWire.model_fields)

_WIRE_ORDER = {
    name: index
    for index, name in enumerate(
        (*SIGNAL_FIELDS, CLIENT, *(f"{CLIENT}.{name}" for name in CLIENT_FIELDS))
    )
}


def _in_wire_order(problems: list[FieldProblem]) -> list[FieldProblem]:
    # Unknown fields last, in the order they came (sorted() is stable).
    return sorted(problems, key=lambda problem: _WIRE_ORDER.get(problem.field, len(_WIRE_ORDER)))


# Translation into the English domain command.


def _command(wire: SignalWire, partner: Partner) -> ReceiveSignal:
    # _rule_problems has checked these; the asserts tell mypy.
    assert wire.signaal_id is not None
    assert wire.signaalpartner_type is not None
    assert wire.soort is not None
    assert wire.signaaldatum is not None
    return ReceiveSignal(
        partner_id=partner.id,
        partner_signal_id=wire.signaal_id,
        partner_type=wire.signaalpartner_type,
        kind=wire.soort,
        amount=wire.bedrag,
        origin_date=wire.ontstaansdatum,
        signal_date=wire.signaaldatum,
        days_in_arrears=wire.dagen_achterstand,
        months_in_arrears=wire.maanden_achterstand,
        crisis=wire.crisissignaal,
        warm_handover=wire.warme_overdracht,
        person=_person(wire.client, wire.klantnummer),
    )


def _person(client: ClientWire | None, customer_number: str | None) -> PersonalDetails | None:
    if client is None or client.postcode is None or client.huisnummer is None:
        return None
    return PersonalDetails(
        postcode=client.postcode,
        house_number=client.huisnummer,
        house_number_addition=client.huisnummertoevoeging,
        bsn=client.burgerservicenummer,
        initials=client.voorletters,
        surname_prefix=client.voorvoegsel,
        surname=client.achternaam,
        birth_date=client.geboortedatum,
        street=client.straatnaam,
        city=client.plaatsnaam,
        phone=client.telefoonnummer,
        email=client.email,
        customer_number=customer_number,
    )
