"""The synthetic residents: reproducible, unique, and shaped like real Dutch personal data."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from services.bsn import is_valid_bsn
from services.synthetic_people import (
    BSN_HIGH,
    BSN_LOW,
    EMAIL_DOMAINS,
    Household,
    Person,
    SyntheticPeople,
    ascii_fold,
    max_households,
)

POSTCODE = re.compile(r"^76\d\d[A-Z]{2}$")
VOORLETTERS = re.compile(r"^(?:[^\W\d_]\.){1,3}$")
PHONE = re.compile(r"^06-[1-6]\d{7}$")
REFERENCE = date(2026, 1, 1)


def eleven_test(bsn: str) -> bool:
    """Written out here so the generator is not checked against its own helper."""
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return len(bsn) == 9 and sum(w * int(d) for w, d in zip(weights, bsn, strict=True)) % 11 == 0


def age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@pytest.fixture(scope="module")
def households() -> list[Household]:
    return list(SyntheticPeople(seed=11, households=5_000, reference_date=REFERENCE))


@pytest.fixture(scope="module")
def people(households: list[Household]) -> list[Person]:
    return [person for household in households for person in household.adults]


def test_the_same_seed_gives_the_same_households() -> None:
    first = SyntheticPeople(seed=3, households=2_000)
    second = SyntheticPeople(seed=3, households=2_000)
    indices = [0, 1, 17, 999, 1_999]
    assert [first.household(i) for i in indices] == [second.household(i) for i in indices]


def test_a_household_does_not_depend_on_the_order_it_is_asked_for() -> None:
    forwards = [SyntheticPeople(seed=3, households=500).household(i) for i in range(50)]
    reverse = SyntheticPeople(seed=3, households=500)
    backwards = [reverse.household(i) for i in reversed(range(50))]
    assert forwards == list(reversed(backwards))


def test_a_different_seed_gives_different_households() -> None:
    first = [SyntheticPeople(seed=3, households=1_000).household(i) for i in range(20)]
    second = [SyntheticPeople(seed=4, households=1_000).household(i) for i in range(20)]
    assert first != second
    assert {p.bsn for h in first for p in h.adults} != {p.bsn for h in second for p in h.adults}


def test_every_bsn_passes_the_eleven_test_and_lies_in_the_reserved_range(
    people: list[Person],
) -> None:
    for person in people:
        assert eleven_test(person.bsn), person.bsn
        assert BSN_LOW <= int(person.bsn) <= BSN_HIGH


def test_bsns_are_unique_per_person(people: list[Person]) -> None:
    assert len({person.bsn for person in people}) == len(people)


@pytest.mark.parametrize(
    ("bsn", "valid"),
    [("111222333", True), ("111222334", False), ("11122233", False), ("11122233x", False)],
)
def test_is_valid_bsn(bsn: str, valid: bool) -> None:
    assert is_valid_bsn(bsn) is valid


def test_postcodes_are_almelo_like_and_never_sa_sd_or_ss(households: list[Household]) -> None:
    pc4s = set()
    for household in households:
        postcode = household.address.postcode
        assert POSTCODE.match(postcode), postcode
        assert postcode[4:] not in {"SA", "SD", "SS"}
        pc4s.add(postcode[:4])
    assert pc4s == {str(pc4) for pc4 in range(7600, 7610)}


def test_every_household_has_its_own_address(households: list[Household]) -> None:
    keys = [household.address.key() for household in households]
    assert len(set(keys)) == len(keys)


def test_house_numbers_and_occasional_additions(households: list[Household]) -> None:
    numbers = [h.address.huisnummer for h in households]
    additions = Counter(h.address.huisnummertoevoeging for h in households)
    assert min(numbers) >= 1
    assert max(numbers) <= 250
    with_addition = len(households) - additions[""]
    assert 0.02 < with_addition / len(households) < 0.15
    assert set(additions) - {""} <= {"A", "B", "1", "2", "bis", "ter"}
    assert all(h.address.plaatsnaam == "Almelo" for h in households)


def test_households_have_one_or_two_adults(households: list[Household]) -> None:
    sizes = Counter(len(h.adults) for h in households)
    assert set(sizes) == {1, 2}
    assert all(p.person_id // 2 == h.household_id for h in households for p in h.adults)


def test_ages_are_18_to_90_with_young_adults(people: list[Person]) -> None:
    ages = [age(person.geboortedatum, REFERENCE) for person in people]
    assert min(ages) >= 18
    assert max(ages) <= 90
    assert sum(18 <= a <= 27 for a in ages) / len(ages) > 0.12


def test_names_have_dutch_prefixes_diacritics_and_initials(people: list[Person]) -> None:
    prefixes = {person.voorvoegsel for person in people}
    assert {"", "van", "de", "van der", "van 't"} <= prefixes
    assert any(not person.achternaam.isascii() for person in people)
    assert any("-" in person.achternaam for person in people)
    assert all(VOORLETTERS.match(person.voorletters) for person in people)


def test_everything_encodes_in_cp1252(households: list[Household]) -> None:
    for household in households:
        household.address.straatnaam.encode("cp1252")
        for person in household.adults:
            f"{person.voorletters} {person.voorvoegsel} {person.achternaam}".encode("cp1252")


def test_contact_details_are_synthetic(people: list[Person]) -> None:
    phones = [p.telefoonnummer for p in people if p.telefoonnummer]
    emails = [p.email for p in people if p.email]
    assert phones
    assert emails
    assert all(PHONE.match(phone) for phone in phones)
    assert {email.rsplit("@", 1)[1] for email in emails} == set(EMAIL_DOMAINS)
    assert all(email.isascii() for email in emails)


def test_ascii_fold_strips_diacritics_and_punctuation() -> None:
    assert ascii_fold("van 't Öztürk-Çelik") == "vantozturkcelik"


def test_population_limits_are_enforced() -> None:
    with pytest.raises(ValueError, match="households"):
        SyntheticPeople(seed=1, households=max_households() + 1)
    people = SyntheticPeople(seed=1, households=10)
    assert len(people) == 10
    with pytest.raises(IndexError):
        people.household(10)
