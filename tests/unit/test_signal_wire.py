"""A partner's signal on the wire into ``ReceiveSignal``, or every problem it has, in words."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.signals.wire import CLIENT_FIELDS, SIGNAL_FIELDS, WHOLE_RECORD, parse_signal
from events.catalogue.vocabulary import PartnerType, SignalKind
from services.intake.commands import FieldProblem, PersonalDetails, ReceiveSignal
from services.partners import WIRE_FIELDS, Partner
from tests.unit.test_signal_fields import bsns

TODAY = date(2024, 6, 30)
BETER_WONEN = Partner(
    id="beter-wonen",
    name="Beter Wonen",
    types=(PartnerType.RENT,),
    source="urn:nl:signaalhub:partner:beter-wonen",
)
ABSENT = object()
"""Marks a field to leave out of a record."""


def nested() -> dict[str, Any]:
    """A valid vroegsignaal as a CloudEvent's data would carry it (synthetic person)."""
    return {
        "signaalId": "BW-2024-0001",
        "signaalpartnerType": "Huur",
        "soort": "vroegsignaal",
        "bedrag": "1.234,56",
        "ontstaansdatum": "2024-03-01",
        "signaaldatum": "15-04-2024",
        "dagenAchterstand": 45,
        "crisissignaal": "nee",
        "warmeOverdracht": True,
        "klantnummer": "H-778812",
        "client": {
            "burgerservicenummer": "111222333",
            "voorletters": "Z.M.",
            "voorvoegsel": "van 't",
            "achternaam": "Hoff-Çelik",
            "geboortedatum": "1987-11-03",
            "straatnaam": "Wierdensestraat",
            "postcode": "7607 gz",
            "huisnummer": 12,
            "huisnummertoevoeging": "A",
            "plaatsnaam": "Almelo",
            "telefoonnummer": "06-12345678",
            "email": "zoe.vanthoff@example.nl",
        },
    }


def flat() -> dict[str, str]:
    """The same signal as a canonical CSV row: every value text, client fields at the top."""
    record = nested()
    client = record.pop("client")
    row = {**record, **client}
    return {name: "ja" if value is True else str(value) for name, value in row.items()}


EXPECTED = ReceiveSignal(
    partner_id="beter-wonen",
    partner_signal_id="BW-2024-0001",
    partner_type=PartnerType.RENT,
    kind=SignalKind.EARLY_SIGNAL,
    amount=Decimal("1234.56"),
    origin_date=date(2024, 3, 1),
    signal_date=date(2024, 4, 15),
    days_in_arrears=45,
    months_in_arrears=None,
    crisis=False,
    warm_handover=True,
    person=PersonalDetails(
        postcode="7607GZ",
        house_number=12,
        house_number_addition="A",
        bsn="111222333",
        initials="Z.M.",
        surname_prefix="van 't",
        surname="Hoff-Çelik",
        birth_date=date(1987, 11, 3),
        street="Wierdensestraat",
        city="Almelo",
        phone="0612345678",
        email="zoe.vanthoff@example.nl",
        customer_number="H-778812",
    ),
)


def changed(record: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """A copy of ``record`` with the field at ``path`` (``client.postcode``) set or left out."""
    result = copy.deepcopy(record)
    target = result
    name = path
    if path.startswith("client.") and "client" in result:
        target, name = result["client"], path.removeprefix("client.")
    elif path.startswith("client."):
        name = path.removeprefix("client.")  # a flat record
    if value is ABSENT:
        target.pop(name, None)
    else:
        target[name] = value
    return result


def parse(record: Any, partner: Partner = BETER_WONEN, **settings: Any) -> Any:
    return parse_signal(record, partner, today=TODAY, **settings)


def problems_of(record: Any, **settings: Any) -> list[FieldProblem]:
    result = parse(record, **settings)
    assert isinstance(result, list), f"expected problems, got {result}"
    return result


def accepted(record: Any, **settings: Any) -> ReceiveSignal:
    result = parse(record, **settings)
    assert isinstance(result, ReceiveSignal), f"expected a command, got {result}"
    return result


def person(command: ReceiveSignal) -> PersonalDetails:
    assert command.person is not None
    return command.person


def test_field_lists_partition_the_canonical_header() -> None:
    assert set(SIGNAL_FIELDS) | set(CLIENT_FIELDS) == set(WIRE_FIELDS)
    assert not set(SIGNAL_FIELDS) & set(CLIENT_FIELDS)


def test_a_nested_signal_becomes_the_command() -> None:
    assert accepted(nested()) == EXPECTED


def test_a_flat_csv_row_becomes_the_same_command() -> None:
    assert accepted(flat()) == EXPECTED


# One bad value: exactly one problem, on that field, saying what is wrong.

REJECTS: list[tuple[str, object, str]] = [
    ("signaalId", "x" * 101, "must be 1 to 100 printable characters"),
    ("signaalId", "BW\t0001", "printable characters"),
    ("signaalId", ["BW-1"], "printable characters"),
    ("signaalpartnerType", "Huurder", "must be one of Energie, Huur, Hypotheek"),
    ("signaalpartnerType", 3, "must be one of"),
    ("signaalpartnerType", "zorg", "beter-wonen (Beter Wonen) is registered for Huur only"),
    ("soort", "signaal", "must be one of vroegsignaal, eindeleveringssignaal, update, intrekking"),
    ("bedrag", "-12,50", "must not be negative"),
    ("bedrag", "1000000,01", "must be at most 1,000,000 euros"),
    ("bedrag", 1_000_001, "must be at most 1,000,000 euros"),
    ("bedrag", "12,345", "more than 2 decimals"),
    ("bedrag", "12,34.56", "do not group by three"),
    ("bedrag", "twaalf euro", "must be an amount in euros"),
    ("bedrag", False, "must be an amount in euros"),
    ("ontstaansdatum", "2024-07-01", "must not be in the future"),
    ("ontstaansdatum", "2024-04-16", "must be on or before signaaldatum"),
    ("ontstaansdatum", "01/03/2024", "must be a date as yyyy-mm-dd or dd-mm-yyyy"),
    ("signaaldatum", "31-02-2024", "is not a real calendar date"),
    ("signaaldatum", "2024-07-01", "must not be in the future"),
    ("dagenAchterstand", 3651, "must be a whole number from 0 to 3650"),
    ("dagenAchterstand", "4.5", "must be a whole number from 0 to 3650"),
    ("dagenAchterstand", -1, "must be a whole number from 0 to 3650"),
    ("maandenAchterstand", 121, "must be a whole number from 0 to 120"),
    ("maandenAchterstand", "twee", "must be a whole number from 0 to 120"),
    ("crisissignaal", "misschien", "must be true or false (also ja/nee, j/n, yes/no, 1/0)"),
    ("warmeOverdracht", 2, "must be true or false"),
    ("klantnummer", "k" * 101, "must be 1 to 100 printable characters"),
    ("client.burgerservicenummer", "111222334", "is not a valid BSN (eleven-test fails)"),
    ("client.burgerservicenummer", "000000000", "eleven-test"),
    ("client.burgerservicenummer", "11122233", "must be exactly 9 digits"),
    ("client.burgerservicenummer", 111222333, "as text (keep any leading zero)"),
    ("client.voorletters", "Z" * 201, "at most 200 characters"),
    ("client.voorvoegsel", "v" * 201, "at most 200 characters"),
    ("client.achternaam", "Ö" * 201, "at most 200 characters"),
    ("client.achternaam", "Bak\nker", "must not contain control characters"),
    ("client.achternaam", 42, "must be text"),
    ("client.straatnaam", "s" * 201, "at most 200 characters"),
    ("client.plaatsnaam", "p" * 201, "at most 200 characters"),
    ("client.geboortedatum", "1899-12-31", "must not be before 1900-01-01"),
    ("client.geboortedatum", "2024-07-01", "must not be in the future"),
    ("client.geboortedatum", "3-11-87", "yyyy-mm-dd or dd-mm-yyyy"),
    ("client.postcode", "0607GZ", "must be a Dutch postcode: 4 digits (not starting with 0)"),
    ("client.postcode", "7607  GZ", "must be a Dutch postcode"),
    ("client.postcode", "7607", "must be a Dutch postcode"),
    ("client.postcode", 7607, "must be a Dutch postcode"),
    ("client.huisnummer", 0, "must be a whole number from 1 to 99999"),
    ("client.huisnummer", "100000", "must be a whole number from 1 to 99999"),
    ("client.huisnummer", "12a", "put letters in huisnummertoevoeging"),
    ("client.huisnummertoevoeging", "bis-2", "at most 4 characters"),
    ("client.telefoonnummer", "06-1234", "10 to 15 digits"),
    ("client.telefoonnummer", "(053) 123 45 67", "10 to 15 digits"),
    ("client.email", "zoe.vanthoff.example.nl", "must be an e-mail address"),
    ("client.email", "zoe@example", "must be an e-mail address"),
]


@pytest.mark.parametrize("shape", ["nested", "flat"])
@pytest.mark.parametrize(("path", "value", "fragment"), REJECTS)
def test_one_bad_value_gives_one_problem_on_its_field(
    shape: str, path: str, value: object, fragment: str
) -> None:
    record = nested() if shape == "nested" else flat()
    problems = problems_of(changed(record, path, value))

    assert [problem.field for problem in problems] == [path]
    assert fragment in problems[0].problem
    assert not problems[0].problem.startswith("Value error")


# Accepted forms, and what they are normalised to.

ACCEPTS: list[tuple[str, object, Callable[[ReceiveSignal], object], object]] = [
    ("signaalId", "  BW-2024-0001 ", lambda c: c.partner_signal_id, "BW-2024-0001"),
    ("signaalId", 20240001, lambda c: c.partner_signal_id, "20240001"),
    ("signaalpartnerType", "HUUR", lambda c: c.partner_type, PartnerType.RENT),
    ("soort", "Eindeleveringssignaal", lambda c: c.kind, SignalKind.FINAL_DELIVERY_SIGNAL),
    ("bedrag", "1234.56", lambda c: c.amount, Decimal("1234.56")),
    ("bedrag", "1234,56", lambda c: c.amount, Decimal("1234.56")),
    ("bedrag", "1,234.56", lambda c: c.amount, Decimal("1234.56")),
    ("bedrag", "€ 1.234,56", lambda c: c.amount, Decimal("1234.56")),
    ("bedrag", 1234.5, lambda c: c.amount, Decimal("1234.50")),
    ("bedrag", 0, lambda c: c.amount, Decimal("0.00")),
    ("bedrag", "1000000", lambda c: c.amount, Decimal("1000000.00")),
    ("ontstaansdatum", "15-04-2024", lambda c: c.origin_date, date(2024, 4, 15)),
    ("signaaldatum", "2024-06-30", lambda c: c.signal_date, TODAY),
    ("dagenAchterstand", ABSENT, lambda c: c.days_in_arrears, None),
    ("maandenAchterstand", "3", lambda c: c.months_in_arrears, 3),
    ("maandenAchterstand", 120, lambda c: c.months_in_arrears, 120),
    ("crisissignaal", "J", lambda c: c.crisis, True),
    ("crisissignaal", "YES", lambda c: c.crisis, True),
    ("crisissignaal", 1, lambda c: c.crisis, True),
    ("crisissignaal", "", lambda c: c.crisis, False),
    ("warmeOverdracht", None, lambda c: c.warm_handover, False),
    ("warmeOverdracht", ABSENT, lambda c: c.warm_handover, False),
    ("warmeOverdracht", "N", lambda c: c.warm_handover, False),
    ("klantnummer", ABSENT, lambda c: person(c).customer_number, None),
    ("client.postcode", "7607GZ", lambda c: person(c).postcode, "7607GZ"),
    ("client.postcode", " 7607gz ", lambda c: person(c).postcode, "7607GZ"),
    ("client.postcode", "7607 Gz", lambda c: person(c).postcode, "7607GZ"),
    ("client.huisnummer", " 99999 ", lambda c: person(c).house_number, 99999),
    ("client.huisnummertoevoeging", 2, lambda c: person(c).house_number_addition, "2"),
    ("client.huisnummertoevoeging", "", lambda c: person(c).house_number_addition, None),
    ("client.burgerservicenummer", "", lambda c: person(c).bsn, None),
    ("client.burgerservicenummer", "012345672", lambda c: person(c).bsn, "012345672"),
    ("client.voorvoegsel", "van der", lambda c: person(c).surname_prefix, "van der"),
    ("client.achternaam", "Zoë " * 50, lambda c: person(c).surname, ("Zoë " * 50).strip()),
    ("client.geboortedatum", "29-02-1952", lambda c: person(c).birth_date, date(1952, 2, 29)),
    ("client.geboortedatum", "1900-01-01", lambda c: person(c).birth_date, date(1900, 1, 1)),
    ("client.telefoonnummer", "+31 6 1234 5678", lambda c: person(c).phone, "+31612345678"),
    ("client.email", " zoe@example.nl ", lambda c: person(c).email, "zoe@example.nl"),
    ("client.email", ABSENT, lambda c: person(c).email, None),
]


@pytest.mark.parametrize(("path", "value", "read", "expected"), ACCEPTS)
def test_accepted_values_are_normalised(
    path: str, value: object, read: Callable[[ReceiveSignal], object], expected: object
) -> None:
    assert read(accepted(changed(nested(), path, value))) == expected


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("bedrag", "1.234", Decimal("1234.00")),  # the point groups thousands for this partner
        ("bedrag", "1234,5", Decimal("1234.50")),
        ("signaaldatum", "15/04/2024", date(2024, 4, 15)),
        ("signaaldatum", "2024-04-15", date(2024, 4, 15)),
    ],
)
def test_a_partners_file_settings_are_honoured(path: str, value: str, expected: object) -> None:
    command = accepted(changed(flat(), path, value), decimal=",", date_format="%d/%m/%Y")
    assert expected in (command.amount, command.signal_date)


def test_without_file_settings_a_lone_point_is_the_decimal_point() -> None:
    problems = problems_of(changed(flat(), "bedrag", "1.234"))
    assert problems == [FieldProblem("bedrag", problems[0].problem)]
    assert "more than 2 decimals" in problems[0].problem


# What each soort requires.

ALL_KINDS = ("vroegsignaal", "eindeleveringssignaal", "update", "intrekking")


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("path", ["signaalId", "signaalpartnerType", "signaaldatum"])
def test_always_required(kind: str, path: str) -> None:
    record = changed(changed(nested(), "soort", kind), path, ABSENT)
    assert problems_of(record) == [FieldProblem(path, "is required")]


@pytest.mark.parametrize(
    ("kind", "path", "required"),
    [
        (kind, path, path in required)
        for kind, required in [
            ("vroegsignaal", {"bedrag", "ontstaansdatum", "client.postcode", "client.huisnummer"}),
            (
                "eindeleveringssignaal",
                {"bedrag", "ontstaansdatum", "client.postcode", "client.huisnummer"},
            ),
            ("update", {"bedrag", "client.postcode", "client.huisnummer"}),
            ("intrekking", set()),
        ]
        for path in ["bedrag", "ontstaansdatum", "client.postcode", "client.huisnummer"]
        if kind != "intrekking" or path not in ("client.postcode", "client.huisnummer")
    ],
)
def test_required_by_soort(kind: str, path: str, required: bool) -> None:
    for empty in (ABSENT, "", "  ", None):
        record = changed(changed(nested(), "soort", kind), path, empty)
        result = parse(record)
        if required:
            assert result == [FieldProblem(path, f"is required for soort {kind}")]
        else:
            assert isinstance(result, ReceiveSignal)


def test_missing_soort_is_one_problem_not_a_guess_at_what_it_requires() -> None:
    record = changed(changed(nested(), "soort", ABSENT), "bedrag", ABSENT)
    assert problems_of(record) == [FieldProblem("soort", "is required")]


def test_a_vroegsignaal_without_client_misses_the_address() -> None:
    for empty in (ABSENT, None, ""):
        record = changed(nested(), "client", empty)
        assert problems_of(record) == [
            FieldProblem("client.postcode", "is required for soort vroegsignaal"),
            FieldProblem("client.huisnummer", "is required for soort vroegsignaal"),
        ]


def test_a_withdrawal_may_leave_out_the_person() -> None:
    record = {
        "signaalId": "BW-2024-0001",
        "signaalpartnerType": "Huur",
        "soort": "intrekking",
        "signaaldatum": "2024-05-01",
    }
    command = accepted(record)
    assert command.kind is SignalKind.WITHDRAWAL
    assert command.person is None
    assert command.amount is None
    assert command.origin_date is None


def test_a_flat_withdrawal_with_empty_client_columns_has_no_person() -> None:
    row = dict.fromkeys(WIRE_FIELDS, "")
    row |= {"signaalId": "BW-1", "signaalpartnerType": "Huur", "soort": "Intrekking"}
    row |= {"signaaldatum": "01-05-2024"}
    assert accepted(row).person is None


def test_a_withdrawal_with_client_details_needs_the_whole_address() -> None:
    record = changed(changed(nested(), "soort", "intrekking"), "client.postcode", ABSENT)
    record = changed(record, "client.huisnummer", ABSENT)
    problems = problems_of(record)
    assert [problem.field for problem in problems] == ["client.postcode", "client.huisnummer"]
    assert all("when client details are given" in problem.problem for problem in problems)


def test_a_withdrawal_with_an_address_carries_the_person() -> None:
    command = accepted(changed(nested(), "soort", "intrekking"))
    assert person(command).postcode == "7607GZ"


# Fields that do not belong.


@pytest.mark.parametrize(
    ("key", "value", "field", "fragment"),
    [
        ("signaalID", "x", "signaalID", "unknown field; did you mean signaalId?"),
        ("bedragg", "1", "bedragg", "did you mean bedrag?"),
        ("opmerking", "x", "opmerking", "unknown field; known fields are signaalId, "),
        ("postcode", "7607GZ", "postcode", "is a client field; put it inside client"),
        ("", "x", "(empty name)", "unknown field"),
    ],
)
def test_unknown_top_level_fields_of_a_nested_record(
    key: str, value: object, field: str, fragment: str
) -> None:
    record = nested() | {key: value}
    problems = problems_of(record)
    assert [problem.field for problem in problems] == [field]
    assert fragment in problems[0].problem


@pytest.mark.parametrize(
    ("key", "field", "fragment"),
    [
        ("gemeente", "client.gemeente", "unknown field; known fields are burgerservicenummer"),
        ("huisnr", "client.huisnr", "unknown field; did you mean client.huisnummer?"),
        ("Postcode", "client.Postcode", "did you mean client.postcode?"),
        ("bedrag", "client.bedrag", "is a signal field; put it at the top level"),
    ],
)
def test_unknown_fields_inside_client(key: str, field: str, fragment: str) -> None:
    record = nested()
    record["client"][key] = "12"
    problems = problems_of(record)
    assert [problem.field for problem in problems] == [field]
    assert fragment in problems[0].problem


@pytest.mark.parametrize("key", ["Huisnummer", "huisnr", "client_postcode", "signaal_id"])
def test_a_flat_record_with_an_unknown_key_is_a_problem(key: str) -> None:
    problems = problems_of(flat() | {key: ""})  # even an empty value: nothing goes unnoticed
    assert [problem.field for problem in problems] == [key]
    assert "unknown field" in problems[0].problem


def test_flat_unknown_key_lists_every_canonical_column() -> None:
    (problem,) = problems_of(flat() | {"Huisnummer": "12"})
    assert "did you mean huisnummer?" in problem.problem
    assert ", ".join(WIRE_FIELDS) in problem.problem


@pytest.mark.parametrize("client", ["7607GZ 12", ["7607GZ", 12], 12, True])
def test_a_client_that_is_not_an_object(client: object) -> None:
    problems = problems_of(nested() | {"client": client})
    # The address is not reported missing on top: the one problem is that client is wrong.
    assert [problem.field for problem in problems] == ["client"]
    assert "must be an object with the client's fields" in problems[0].problem


@pytest.mark.parametrize("record", [[], "signaal", 12, None, [nested()]])
def test_a_record_that_is_not_an_object(record: object) -> None:
    assert problems_of(record) == [
        FieldProblem(WHOLE_RECORD, "must be an object with the signal's fields")
    ]


# All at once, and nothing personal in the words.


def test_one_signal_with_many_errors_reports_all_of_them_at_once() -> None:
    record: dict[str, Any] = {
        "signaalId": "",
        "signaalpartnerType": "Energie",
        "soort": "vroegsignaal",
        "bedrag": "1.234,567",
        "ontstaansdatum": "2024-05-01",
        "signaaldatum": "2024-04-01",
        "dagenAchterstand": "veel",
        "crisissignaal": "misschien",
        "opmerking": "bel eerst",
        "client": {
            "burgerservicenummer": "111222334",
            "achternaam": "x" * 201,
            "geboortedatum": "1899-01-01",
            "postcode": "760 GZ",
            "huisnummertoevoeging": "bis-2",
            "telefoonnummer": "06",
            "email": "geen",
            "huisnr": "12",
        },
    }
    problems = problems_of(record)
    assert [problem.field for problem in problems] == [
        "signaalId",
        "signaalpartnerType",
        "bedrag",
        "ontstaansdatum",
        "dagenAchterstand",
        "crisissignaal",
        "client.burgerservicenummer",
        "client.achternaam",
        "client.geboortedatum",
        "client.postcode",
        "client.huisnummer",
        "client.huisnummertoevoeging",
        "client.telefoonnummer",
        "client.email",
        "opmerking",
        "client.huisnr",
    ]
    by_field = {problem.field: problem.problem for problem in problems}
    assert by_field["signaalId"] == "is required"
    assert "registered for Huur only, not for Energie" in by_field["signaalpartnerType"]
    assert by_field["ontstaansdatum"] == "must be on or before signaaldatum"
    assert by_field["client.huisnummer"] == "is required for soort vroegsignaal"


PERSONAL_VALUES = [
    ("client.burgerservicenummer", "111222334"),
    ("client.burgerservicenummer", "11122233"),
    ("client.achternaam", "Zoë van 't Hoff" * 20),
    ("client.geboortedatum", "1899-12-31"),
    ("client.geboortedatum", "31-02-1987"),
    ("client.postcode", "0607GZ"),
    ("client.huisnummer", "123456"),
    ("client.telefoonnummer", "0612"),
    ("client.email", "zoë@voorbeeld"),
    ("klantnummer", "H" * 101),
    ("bedrag", "111222334"),  # a shifted CSV column puts a BSN where the amount belongs
    ("soort", "111222333"),
    ("signaalpartnerType", "Zoë van 't Hoff"),
]


@pytest.mark.parametrize(("path", "value"), PERSONAL_VALUES)
def test_problems_never_repeat_the_value(path: str, value: str) -> None:
    problems = problems_of(changed(flat(), path, value))
    assert [problem.field for problem in problems] == [path]
    assert value not in problems[0].problem
    assert value[:6] not in problems[0].problem


# Properties: never an exception, never silence; valid signals round-trip.

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
wire_keys = st.sampled_from([*WIRE_FIELDS, "client", "Postcode", ""]) | st.text(max_size=8)


def assert_an_outcome(result: object) -> None:
    if isinstance(result, ReceiveSignal):
        return
    assert isinstance(result, list)
    assert result, "a rejection without reasons"
    for problem in result:
        assert isinstance(problem, FieldProblem)
        assert problem.field
        assert problem.problem
        assert not problem.problem.startswith("Value error")


@given(json_values)
def test_any_json_value_ends_as_a_command_or_problems(record: object) -> None:
    assert_an_outcome(parse(record))


@given(
    st.dictionaries(wire_keys, json_values, max_size=12),
    st.dictionaries(wire_keys, json_values, max_size=12) | json_values,
)
def test_any_nested_record_ends_as_a_command_or_problems(
    top: dict[str, object], client: object
) -> None:
    assert_an_outcome(parse(top | {"client": client}))


@given(st.dictionaries(st.sampled_from(WIRE_FIELDS), st.text(max_size=30)))
def test_any_csv_row_ends_as_a_command_or_problems(row: dict[str, str]) -> None:
    assert_an_outcome(parse(row))


PLAUSIBLE_TEXT: dict[str, list[str]] = {
    "signaalpartnerType": ["Huur", "huur", "Zorg", "Overige"],
    "soort": [*ALL_KINDS, "UPDATE"],
    "bedrag": ["0", "12,50", "1.234,56", "1,234.56", "-1", "1e3"],
    "ontstaansdatum": ["2024-01-01", "01-01-2024", "2024-12-31", "30-02-2024"],
    "signaaldatum": ["2024-02-01", "01-06-2024", "2030-01-01"],
    "crisissignaal": ["ja", "nee", "J", "x"],
    "postcode": ["7607GZ", "7607 gz", "0607GZ"],
    "huisnummer": ["1", "12", "0", "12a"],
    "burgerservicenummer": ["111222333", "111222334"],
    "geboortedatum": ["1987-11-03", "1899-01-01"],
}


@given(
    st.fixed_dictionaries(
        {},
        optional={
            name: st.sampled_from(PLAUSIBLE_TEXT.get(name, ["Zoë", "van 't Hoff"])) | st.text()
            for name in WIRE_FIELDS
        },
    )
)
@settings(max_examples=300)
def test_any_mix_of_plausible_and_broken_columns_ends_as_a_command_or_problems(
    row: dict[str, str],
) -> None:
    assert_an_outcome(parse(row))


GIVEN_NAMES = ["Zoë", "Daan", "Fenna", "Sem", "Noë", "Ayşe", "Joris", "Lotte", "Mehmet", "Inge"]
PREFIXES = ["", "van", "de", "van der", "van 't", "ter", "in 't"]
SURNAMES = ["Hoff", "Bakker", "Ruiterkamp", "Smeenk", "Brüggemann", "Yılmaz", "Oude Luttikhuis"]
LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
KINDS_WITH_AMOUNT = [
    SignalKind.EARLY_SIGNAL,
    SignalKind.FINAL_DELIVERY_SIGNAL,
    SignalKind.UPDATE,
]


def _dutch(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")


def _formatted_date(draw: st.DrawFn, day: date) -> str:
    if draw(st.booleans()):
        return day.isoformat()
    return f"{day.day:02d}-{day.month:02d}-{day.year:04d}"


@st.composite
def valid_signals(draw: st.DrawFn) -> tuple[dict[str, Any], ReceiveSignal]:
    """A valid signal in some shape and spelling, and the command it must become."""
    signal_date = draw(st.dates(min_value=date(2015, 1, 1), max_value=TODAY))
    origin_date = signal_date - timedelta(days=draw(st.integers(0, 3000)))
    amount = draw(st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False))
    digits = draw(st.integers(7600, 7609))
    letters = draw(st.text(alphabet=LETTERS, min_size=2, max_size=2))
    house_number = draw(st.integers(1, 99999))
    bsn = draw(st.none() | bsns())
    kind = draw(st.sampled_from(KINDS_WITH_AMOUNT))
    initials = draw(st.sampled_from(GIVEN_NAMES))[0] + "."
    prefix = draw(st.sampled_from(PREFIXES))
    surname = draw(st.sampled_from(SURNAMES))
    days = draw(st.none() | st.integers(0, 3650))
    crisis = draw(st.booleans())
    signal_id = draw(st.text(alphabet=f"{LETTERS}0123456789-/_", min_size=1, max_size=100))

    client: dict[str, Any] = {
        "postcode": f"{digits}{draw(st.sampled_from(['', ' ']))}{letters}",
        "huisnummer": draw(st.sampled_from([house_number, str(house_number)])),
        "burgerservicenummer": bsn,
        "voorletters": initials,
        "voorvoegsel": prefix,
        "achternaam": surname,
    }
    record: dict[str, Any] = {
        "signaalId": signal_id,
        "signaalpartnerType": draw(st.sampled_from(["Huur", "huur", "HUUR"])),
        "soort": draw(st.sampled_from([kind.value, kind.value.upper(), kind.value.title()])),
        "bedrag": draw(
            st.sampled_from([str(amount), _dutch(amount), f"€ {_dutch(amount)}", f"{amount:,}"])
        ),
        "ontstaansdatum": _formatted_date(draw, origin_date),
        "signaaldatum": _formatted_date(draw, signal_date),
        "dagenAchterstand": days,
        "crisissignaal": draw(st.sampled_from(["ja", "J", "true", "1"] if crisis else ["nee", ""])),
    }
    if draw(st.booleans()):
        record["client"] = client
    else:
        record |= {name: "" if value is None else str(value) for name, value in client.items()}
    expected = ReceiveSignal(
        partner_id=BETER_WONEN.id,
        partner_signal_id=signal_id,
        partner_type=PartnerType.RENT,
        kind=kind,
        amount=amount,
        origin_date=origin_date,
        signal_date=signal_date,
        days_in_arrears=days,
        months_in_arrears=None,
        crisis=crisis,
        warm_handover=False,
        person=PersonalDetails(
            postcode=f"{digits}{letters.upper()}",
            house_number=house_number,
            bsn=bsn,
            initials=initials,
            surname_prefix=prefix or None,
            surname=surname,
        ),
    )
    return record, expected


@given(valid_signals())
def test_valid_signals_round_trip(case: tuple[dict[str, Any], ReceiveSignal]) -> None:
    record, expected = case
    command = accepted(record)
    assert command == expected
    assert command.amount is not None
    assert command.amount.as_tuple().exponent == -2  # exactly cents
