"""Synthetic partner files: the national mix, multi-signal households, repeats, and formats."""

from __future__ import annotations

import calendar
import csv
import itertools
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from events.catalogue.vocabulary import PartnerType, SignalKind
from services.partners import WIRE_FIELDS, FileMapping, Partner, Partners, load_partners
from services.synthetic_partner_files import (
    SignalRow,
    SyntheticMunicipality,
    write_canonical_csv,
    write_json_lines,
    write_month,
    write_partner_csv,
)

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
AMOUNT = re.compile(r"^\d+\.\d{2}$")
CLIENT_FIELDS = WIRE_FIELDS[WIRE_FIELDS.index("burgerservicenummer") :]
MONTH = (2025, 10)
NEXT_MONTH = (2025, 11)


def eleven_test(bsn: str) -> bool:
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return len(bsn) == 9 and sum(w * int(d) for w, d in zip(weights, bsn, strict=True)) % 11 == 0


@pytest.fixture(scope="module")
def partners() -> Partners:
    return load_partners(CONFIG_DIR)


@pytest.fixture(scope="module")
def two_months() -> tuple[list[SignalRow], list[SignalRow]]:
    municipality = SyntheticMunicipality(seed=5, households=20_000)
    october = municipality.month_of_signals(*MONTH, count=5_000)
    november = municipality.month_of_signals(*NEXT_MONTH, count=5_000)
    return october, november


@pytest.fixture(scope="module")
def october(two_months: tuple[list[SignalRow], list[SignalRow]]) -> list[SignalRow]:
    return two_months[0]


@pytest.fixture
def sint_joseph(partners: Partners) -> FileMapping:
    partner = partners.get("sint-joseph")
    assert partner is not None
    assert partner.file is not None
    return partner.file


def wire(rows: list[SignalRow]) -> list[dict[str, str]]:
    return [row.as_wire_dict() for row in rows]


def with_diacritics(rows: list[SignalRow]) -> list[SignalRow]:
    chosen = [row for row in rows if not row.person.achternaam.isascii()]
    assert chosen, "expected some surnames with diacritics"
    return chosen


# --- generation -----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_rows() -> None:
    first = SyntheticMunicipality(seed=9, households=2_000).month_of_signals(*MONTH, count=500)
    second = SyntheticMunicipality(seed=9, households=2_000).month_of_signals(*MONTH, count=500)
    assert wire(first) == wire(second)


def test_the_same_seed_gives_the_same_following_month() -> None:
    def november(seed: int) -> list[dict[str, str]]:
        municipality = SyntheticMunicipality(seed=seed, households=2_000)
        municipality.month_of_signals(*MONTH, count=500)
        return wire(municipality.month_of_signals(*NEXT_MONTH, count=500))

    assert november(9) == november(9)


def test_a_different_seed_gives_different_rows() -> None:
    first = SyntheticMunicipality(seed=9, households=2_000).month_of_signals(*MONTH, count=200)
    second = SyntheticMunicipality(seed=10, households=2_000).month_of_signals(*MONTH, count=200)
    assert wire(first) != wire(second)


def test_the_mix_per_partner_type_follows_the_national_picture(october: list[SignalRow]) -> None:
    shares = Counter(row.partner_type for row in october)
    total = len(october)
    expected = {
        PartnerType.HEALTH_INSURANCE: 0.41,
        PartnerType.RENT: 0.20,
        PartnerType.ENERGY: 0.20,
        PartnerType.WATER: 0.18,
    }
    for partner_type, share in expected.items():
        assert shares[partner_type] / total == pytest.approx(share, abs=0.03), partner_type
    small = (PartnerType.MORTGAGE, PartnerType.CAK_HEALTH_INSURANCE, PartnerType.OTHER)
    assert all(shares[t] > 0 for t in small)
    assert sum(shares[t] for t in small) / total < 0.025


def test_each_partner_sends_only_its_registered_types(
    october: list[SignalRow], partners: Partners
) -> None:
    for row in october:
        partner = partners.get(row.partner_id)
        assert partner is not None
        assert partner.may_send(row.partner_type)
    assert {row.partner_id for row in october} == {partner.id for partner in partners}


def test_kinds_and_flags(october: list[SignalRow]) -> None:
    total = len(october)
    kinds = Counter(row.kind for row in october)
    assert kinds[SignalKind.EARLY_SIGNAL] / total > 0.95
    finals = [row for row in october if row.kind is SignalKind.FINAL_DELIVERY_SIGNAL]
    assert finals
    assert {row.partner_type for row in finals} <= {PartnerType.ENERGY, PartnerType.WATER}
    assert 0.01 < sum(row.crisis for row in october) / total < 0.035
    assert 0.003 < sum(row.warm_handover for row in october) / total < 0.02


def test_about_seventy_percent_carry_a_valid_bsn(october: list[SignalRow]) -> None:
    bsns = [row.bsn for row in october if row.bsn is not None]
    assert len(bsns) / len(october) == pytest.approx(0.70, abs=0.05)
    assert all(eleven_test(bsn) and bsn.startswith("99") for bsn in bsns)


def test_some_households_are_signalled_by_several_partners(october: list[SignalRow]) -> None:
    partners_per_household: dict[int, set[str]] = defaultdict(set)
    for row in october:
        partners_per_household[row.household_id].add(row.partner_id)
    multi = [h for h, ids in partners_per_household.items() if len(ids) >= 2]
    assert len(multi) > 0.05 * len(partners_per_household)
    # The same household means the same address in the files, which is what the hub matches.
    addresses = {row.household.address.key() for row in october if row.household_id == multi[0]}
    assert len(addresses) == 1


def test_the_next_month_repeats_signals_with_an_amount_not_higher(
    two_months: tuple[list[SignalRow], list[SignalRow]],
) -> None:
    october, november = two_months
    by_id = {row.signal_id: row for row in october}
    repeats = [row for row in november if row.repeat_of is not None]
    assert len(repeats) > 0.03 * len(november)
    for repeat in repeats:
        assert repeat.repeat_of is not None
        earlier = by_id[repeat.repeat_of]
        assert repeat.partner_id == earlier.partner_id
        assert repeat.household.address == earlier.household.address
        assert repeat.customer_number == earlier.customer_number
        assert Decimal(repeat.as_wire_dict()["bedrag"]) <= Decimal(earlier.as_wire_dict()["bedrag"])
    assert not [row for row in october if row.repeat_of is not None]


def test_signal_ids_are_unique_per_partner_across_months(
    two_months: tuple[list[SignalRow], list[SignalRow]],
) -> None:
    keys = [(row.partner_id, row.signal_id) for rows in two_months for row in rows]
    assert len(set(keys)) == len(keys)


def test_dates_are_consistent(october: list[SignalRow]) -> None:
    first, last = date(2025, 10, 1), date(2025, 10, 31)
    for row in october:
        values = row.as_wire_dict()
        origin = date.fromisoformat(values["ontstaansdatum"])
        signalled = date.fromisoformat(values["signaaldatum"])
        assert origin <= signalled
        assert first <= signalled <= last
        assert int(values["dagenAchterstand"]) == (signalled - origin).days
        assert 30 <= (signalled - origin).days <= 120
    assert [row.signal_date for row in october] == sorted(row.signal_date for row in october)


def test_wire_values_are_canonical_strings(october: list[SignalRow]) -> None:
    for values in wire(october[:1_000]):
        assert tuple(values) == WIRE_FIELDS
        assert AMOUNT.match(values["bedrag"])
        assert Decimal(values["bedrag"]) > 0
        assert values["crisissignaal"] in {"true", "false"}
        assert values["warmeOverdracht"] in {"true", "false"}
        assert values["maandenAchterstand"] == ""
        assert re.match(r"^76\d\d[A-Z]{2}$", values["postcode"])
        assert values["postcode"][4:] not in {"SA", "SD", "SS"}
        email = values["email"]
        assert not email or email.endswith(("@example.nl", "@example.com"))


def test_the_month_is_produced_lazily() -> None:
    municipality = SyntheticMunicipality(seed=1, households=1_000)
    rows = municipality.iter_month_of_signals(*MONTH, count=10**9)
    assert len(list(itertools.islice(rows, 10))) == 10


def test_count_zero_and_negative() -> None:
    municipality = SyntheticMunicipality(seed=1, households=100)
    assert municipality.month_of_signals(*MONTH, count=0) == []
    with pytest.raises(ValueError, match="count"):
        municipality.iter_month_of_signals(*MONTH, count=-1)
    with pytest.raises(calendar.IllegalMonthError):
        municipality.iter_month_of_signals(2025, 13, count=1)


def test_the_roster_can_come_from_the_configuration(partners: Partners) -> None:
    municipality = SyntheticMunicipality(seed=1, households=100, partners=partners)
    assert municipality.partner_ids == {partner.id for partner in partners}
    only_rent = [p for p in partners if PartnerType.RENT in p.types]
    rows = SyntheticMunicipality(seed=1, households=100, partners=only_rent).month_of_signals(
        *MONTH, count=50
    )
    assert {row.partner_type for row in rows} == {PartnerType.RENT}


# --- writers --------------------------------------------------------------------------------


def test_canonical_csv_round_trips(october: list[SignalRow], tmp_path: Path) -> None:
    rows = october[:300]
    path = tmp_path / "canonical.csv"
    assert write_canonical_csv(rows, path) == len(rows)
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream, delimiter=";")
        assert tuple(reader.fieldnames or ()) == WIRE_FIELDS
        assert list(reader) == wire(rows)


def test_canonical_csv_with_a_comma(october: list[SignalRow], tmp_path: Path) -> None:
    path = tmp_path / "canonical.csv"
    write_canonical_csv(october[:50], path, delimiter=",")
    with path.open(encoding="utf-8", newline="") as stream:
        assert list(csv.DictReader(stream, delimiter=",")) == wire(october[:50])


def test_partner_csv_uses_the_mapping(
    october: list[SignalRow], sint_joseph: FileMapping, tmp_path: Path
) -> None:
    rows = [row for row in october if row.partner_id == "sint-joseph"][:300]
    path = tmp_path / "sint-joseph.csv"
    write_partner_csv(rows, path, sint_joseph)
    with path.open(encoding="cp1252", newline="") as stream:
        reader = csv.DictReader(stream, delimiter=";")
        assert list(reader.fieldnames or ()) == list(sint_joseph.columns.values())
        read = list(reader)
    assert len(read) == len(rows)
    to_wire = {column: field for field, column in sint_joseph.columns.items()}
    for line, row in zip(read, rows, strict=True):
        expected = row.as_wire_dict()
        values = {to_wire[column]: value for column, value in line.items()}
        assert values["bedrag"] == expected["bedrag"].replace(".", ",")
        for field in ("ontstaansdatum", "signaaldatum", "geboortedatum"):
            parsed = datetime.strptime(values[field], "%d-%m-%Y").date()
            assert parsed.isoformat() == expected[field]
        unchanged = set(values) - {"bedrag", "ontstaansdatum", "signaaldatum", "geboortedatum"}
        assert {f: values[f] for f in unchanged} == {f: expected[f] for f in unchanged}


def test_a_partial_mapping_keeps_the_other_wire_names(
    october: list[SignalRow], tmp_path: Path
) -> None:
    mapping = FileMapping(delimiter=",", columns={"signaalId": "Referentie"})
    path = tmp_path / "partial.csv"
    write_partner_csv(october[:20], path, mapping)
    with path.open(encoding="utf-8-sig", newline="") as stream:
        header = next(csv.reader(stream, delimiter=","))
    # maandenAchterstand is left out: the generator sends dagenAchterstand instead.
    assert header == ["Referentie", *(f for f in WIRE_FIELDS[1:] if f != "maandenAchterstand")]


def test_diacritics_survive_utf8_and_cp1252(
    october: list[SignalRow], sint_joseph: FileMapping, tmp_path: Path
) -> None:
    rows = with_diacritics(october)[:50]
    names = {row.person.achternaam for row in rows}
    canonical, partner = tmp_path / "canonical.csv", tmp_path / "partner.csv"
    write_canonical_csv(rows, canonical)
    write_partner_csv(rows, partner, sint_joseph)
    for path, encoding, column in (
        (canonical, "utf-8", "achternaam"),
        (partner, "cp1252", "Achternaam"),
    ):
        with path.open(encoding=encoding, newline="") as stream:
            read = {line[column] for line in csv.DictReader(stream, delimiter=";")}
        assert read == names
    assert not partner.read_bytes().decode("cp1252").isascii()
    with pytest.raises(UnicodeDecodeError):
        partner.read_bytes().decode("utf-8")  # really cp1252, not UTF-8 by accident


def test_json_lines_nest_the_client(october: list[SignalRow], tmp_path: Path) -> None:
    rows = with_diacritics(october)[:20] + october[:200]
    path = tmp_path / "signals.jsonl"
    assert write_json_lines(rows, path) == len(rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(rows)
    for line, row in zip(lines, rows, strict=True):
        document = json.loads(line)
        expected = row.as_wire_dict()
        client = document["client"]
        assert set(client) <= set(CLIENT_FIELDS)
        assert not set(document) & set(CLIENT_FIELDS)
        assert document["signaalId"] == expected["signaalId"]
        assert Decimal(str(document["bedrag"])) == Decimal(expected["bedrag"])
        assert isinstance(document["dagenAchterstand"], int)
        assert isinstance(document["crisissignaal"], bool)
        assert client["huisnummer"] == int(expected["huisnummer"])
        assert client["achternaam"] == expected["achternaam"]
        assert client.get("burgerservicenummer", "") == expected["burgerservicenummer"]
    assert "Ö" in path.read_text(encoding="utf-8") or "Ç" in path.read_text(encoding="utf-8")


def test_write_month_writes_one_file_per_partner(partners: Partners, tmp_path: Path) -> None:
    municipality = SyntheticMunicipality(seed=2, households=5_000)
    paths = write_month(municipality, *MONTH, count=2_000, out_dir=tmp_path, partners=partners)
    assert sorted(p.name for p in paths) == sorted(f"2025-10-{p.id}.csv" for p in partners)
    total = 0
    for partner, path in zip(partners, paths, strict=True):
        mapping = partner.file
        encoding = mapping.encoding if mapping else "utf-8"
        with path.open(encoding=encoding, newline="") as stream:
            reader = csv.DictReader(stream, delimiter=";")
            header = list(reader.fieldnames or ())
            lines = list(reader)
        type_column = "signaalpartnerType"
        if mapping:
            assert header == list(mapping.columns.values())
            type_column = mapping.columns["signaalpartnerType"]
        else:
            assert tuple(header) == WIRE_FIELDS
        assert {line[type_column] for line in lines} <= {t.value for t in partner.types}
        total += len(lines)
    assert total == 2_000


def test_write_month_refuses_partners_missing_from_the_configuration(
    partners: Partners, tmp_path: Path
) -> None:
    without_cak: list[Partner] = [p for p in partners if p.id != "cak"]
    municipality = SyntheticMunicipality(seed=2, households=100)
    with pytest.raises(ValueError, match="cak"):
        write_month(municipality, *MONTH, count=10, out_dir=tmp_path, partners=without_cak)
