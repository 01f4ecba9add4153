"""A seeded generator of synthetic residents and households of a municipality like Almelo.

Only for the demo, tests and benchmarks: every person here is invented. Names are drawn from
lists of common Dutch, Twente, Turkish, Moroccan and other surnames found in the Netherlands,
with prefixes (voorvoegsel) and diacritics, and every name is encodable in cp1252 so that
partner files in that encoding can carry it. Street names are invented compounds, postcodes
use PC4 7600-7609 (never the letter pairs SA, SD or SS), e-mail addresses use only the
reserved domains ``example.nl`` and ``example.com``, and phone numbers are random digits in
the ``06-12345678`` style that must never be dialled.

Burgerservicenummers (BSNs) pass the eleven-test but are drawn only from 990000000-999999999:
by convention in this project that range is never issued to real people, so a synthetic BSN
can never point at a resident. Every person of one generator has a different BSN.

Households are not stored: household ``i`` is rebuilt on demand from ``(seed, i)``, so a
population of 200,000 households costs no memory. Addresses and BSNs come from seeded
bijections, which is what keeps them unique without remembering which ones were handed out.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from services.bsn import BSN_WEIGHTS as _BSN_WEIGHTS

PLAATSNAAM = "Almelo"
BSN_LOW = 990_000_000
BSN_HIGH = 999_999_999
EMAIL_DOMAINS: tuple[str, ...] = ("example.nl", "example.com")
DEFAULT_HOUSEHOLDS = 34_000  # about the number of households in Almelo
DEFAULT_REFERENCE_DATE = date(2026, 1, 1)

# Invented neighbourhoods, one per PC4; streets are spread over them round-robin.
WIJK_BY_PC4: dict[str, str] = {
    "7600": "Centrum",
    "7601": "Binnenstad-Oost",
    "7602": "Schelfhorst",
    "7603": "Kerkelanden",
    "7604": "Hofkamp",
    "7605": "Ossenkoppelerhoek",
    "7606": "Windmolenbroek",
    "7607": "De Riet",
    "7608": "Aalderinkshoek",
    "7609": "Nijrees",
}
_STREET_STEMS: tuple[str, ...] = (
    # trees
    "Eiken", "Beuken", "Linden", "Esdoorn", "Berken", "Wilgen", "Populieren", "Kastanje",
    "Meidoorn", "Vlier", "Hazelaar", "Lijsterbes", "Elzen", "Iepen", "Taxus", "Plataan",
    # flowers and plants
    "Rozen", "Tulpen", "Narcissen", "Krokus", "Anjer", "Lelie", "Iris", "Dahlia", "Aster",
    "Hyacinten", "Seringen", "Jasmijn", "Klaver", "Heide", "Lavendel", "Goudsbloem",
    # birds
    "Merel", "Lijster", "Vinken", "Spreeuwen", "Kievit", "Reiger", "Zwaluw", "Kwartel",
    "Leeuwerik", "Specht", "Roodborst", "Wielewaal", "Buizerd", "Havik", "Koekoek", "Fazant",
    # painters, writers, composers (a few with diacritics, as real Dutch streets have)
    "Rembrandt", "Vermeer", "Van Gogh", "Mondriaan", "Jan Steen", "Frans Hals", "Breitner",
    "Jozef Israëls", "Vondel", "Bredero", "Hooft", "Bilderdijk", "Tollens", "Gezelle",
    "Couperus", "Multatuli", "Hélène Swarth", "Gorter", "Nijhoff", "Händel", "Schönberg",
    "Chopin", "Sibelius", "Grieg", "Mozart", "Haydn", "Vivaldi", "Sweelinck",
    # Twente farms, fields and waters
    "Hofkamp", "Esch", "Marke", "Brink", "Rietveld", "Molenbelt", "Veldkamp", "Nijrees",
    "Aalderink", "Schelfhorst", "Kolkman", "Weezebeek", "Loolee", "Bolkshoek", "Doorneboom",
    "Groeneveld", "Sluiter", "Hagen", "Dollegoor", "Stokkum", "Rosink", "Wierden", "Twickel",
    "Bornerbroek", "Aadorp", "Mariaparochie", "Vriezenveen", "Ootmarsum", "Enter", "Rijssen",
    # trades
    "Smeden", "Wevers", "Spinners", "Bleekers", "Molenaars", "Kuipers", "Timmerlieden",
    "Schippers", "Bakkers", "Ververs", "Twijnders", "Scheerders",
)  # fmt: skip
_STREET_SUFFIXES: tuple[str, ...] = (
    "straat", "laan", "weg", "hof", "plein", "pad", "singel", "dreef", "kamp", "erf",
    "gaarde", "hoek", "veld", "horst",
)  # fmt: skip
# Dutch postcode letters: no F, I, O, Q, U or Y, and SA, SD and SS are never used.
_POSTCODE_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"
_FORBIDDEN_PAIRS = frozenset({"SA", "SD", "SS"})
LETTER_PAIRS: tuple[str, ...] = tuple(
    a + b for a in _POSTCODE_LETTERS for b in _POSTCODE_LETTERS if a + b not in _FORBIDDEN_PAIRS
)
_NUMBERS_PER_POSTCODE = 20
_ADDITION_SHARE = 0.06  # share of households whose address has a huisnummertoevoeging
_ADDITION_PAIRS: tuple[tuple[str, str], ...] = (("A", "B"), ("1", "2"), ("bis", "ter"))

# The first character is all that is used (voorletters); the list sets their frequency.
_FIRST_NAMES: tuple[str, ...] = (
    "Jan", "Johannes", "Hendrik", "Gerrit", "Maria", "Anna", "Johanna", "Willem", "Cornelis",
    "Petronella", "Theodorus", "Antonius", "Bernardus", "Geertruida", "Wilhelmina", "Daan",
    "Sem", "Lucas", "Emma", "Julia", "Sophie", "Zoë", "Noa", "Fleur", "Mohammed", "Ahmed",
    "Fatima", "Ayse", "Özlem", "Ömer", "Émilie", "Ilse", "Yusuf", "Hatice", "Eline", "Kevin",
    "Priscilla", "Xander", "Quinten", "Urszula", "Rik", "Ruben", "Lotte", "Sanne", "Mark",
    "Dennis", "Linda", "Monique", "Gerard", "Herman", "Bart", "Koen", "Tim", "Niels", "Esra",
    "Khadija", "Piotr", "Agnieszka", "Oksana", "Dmytro", "Chantal", "Kim", "Patrick", "Jeroen",
)  # fmt: skip
# (voorvoegsel, achternaam); Dutch names are listed more than once to weight them.
_SURNAMES: tuple[tuple[str, str], ...] = (
    ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("", "Bakker"),
    ("", "Janssen"), ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"),
    ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"), ("", "Peters"),
    ("", "Hendriks"), ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"),
    ("", "Dijkstra"), ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"), ("", "Hoekstra"),
    ("", "Kok"), ("van der", "Linden"), ("van 't", "Hof"), ("van 't", "Zand"),
    ("in 't", "Veld"), ("ter", "Horst"), ("te", "Riele"), ("ter", "Braak"), ("ten", "Brinke"),
    ("op de", "Weegh"), ("van de", "Kamp"), ("de", "Jong"), ("van", "Beek"), ("", "Nijhuis"),
    ("", "Kamphuis"), ("", "Wolters"), ("", "Lammertink"), ("", "Wessels"), ("", "Kroeze"),
    ("", "Oude Vrielink"), ("", "Pierik"), ("", "Morsink"), ("", "Brinkhuis"),
    ("", "Huisman"), ("", "Nijenhuis"), ("", "Bruggink"), ("", "Wiggers"), ("", "Jansen"),
    ("de", "Vries"), ("", "Nijhuis"), ("", "Kamphuis"), ("", "Smit"), ("", "Çelik"),
    ("", "Öztürk"), ("", "Yildiz"), ("", "Demir"), ("", "Kaya"), ("", "Koç"),
    ("", "Özdemir"), ("", "Güler"), ("", "El Amrani"), ("", "Bouzid"), ("", "Benali"),
    ("", "Al-Hassan"), ("", "Haddad"), ("", "Nowak"), ("", "Kowalski"), ("", "Müller"),
    ("", "Schröder"), ("", "Brüggemann"), ("", "Noë"), ("", "Ramdin"), ("", "Pattipeilohy"),
    ("", "Nguyen"), ("", "Smit-Öztürk"), ("", "Jansen-Çelik"), ("", "Dijkstra-Koç"),
)  # fmt: skip
# Age bands (youngest, oldest, weight); young adults are a group of their own in the signals.
_AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (18, 27, 0.22),
    (28, 55, 0.50),
    (56, 75, 0.22),
    (76, 90, 0.06),
)
_AGE_BANDS_CUMULATIVE = tuple(itertools.accumulate(band[2] for band in _AGE_BANDS))
_INITIALS = tuple(name[0] for name in _FIRST_NAMES)
_SINGLE_ADULT_SHARE = 0.5
_SHARE_PHONE = 0.9
_SHARE_EMAIL = 0.75
# Per residue mod 11 the (8th, 9th) digit pairs that complete a valid BSN; each has >= 9.
_BSN_TAILS: tuple[tuple[tuple[int, int], ...], ...] = tuple(
    tuple((d8, d9) for d8 in range(10) for d9 in range(10) if (2 * d8 - d9) % 11 == residue)
    for residue in range(11)
)
_BSN_TAILS_PER_MIDDLE = 9
BSN_CAPACITY = 100_000 * _BSN_TAILS_PER_MIDDLE  # five free middle digits times nine tails
_STREET_TABLE_SEED = 7600  # the streets are the town's, the same for every seed


@dataclass(frozen=True, slots=True)
class Address:
    straatnaam: str
    postcode: str
    huisnummer: int
    huisnummertoevoeging: str
    plaatsnaam: str
    wijk: str

    def key(self) -> tuple[str, int, str]:
        """The normalised address the hub matches households on."""
        return (self.postcode, self.huisnummer, self.huisnummertoevoeging)


@dataclass(frozen=True, slots=True)
class Person:
    person_id: int
    bsn: str
    voorletters: str
    voorvoegsel: str
    achternaam: str
    geboortedatum: date
    telefoonnummer: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Household:
    household_id: int
    address: Address
    adults: tuple[Person, ...]


@dataclass(frozen=True, slots=True)
class _Street:
    name: str
    pc4: str
    index_in_pc4: int
    numbers: int


def seeded_rng(seed: int) -> random.Random:
    """A reproducible generator: synthetic test data, never secrets, so no CSPRNG."""
    return random.Random(seed)  # noqa: S311


@lru_cache(maxsize=4096)  # few distinct names and initials: folding is the costly part
def ascii_fold(text: str) -> str:
    """Lowercase ASCII letters and digits only, for e-mail local parts ("Öztürk" → "ozturk")."""
    decomposed = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in decomposed.lower() if c.isalnum())


class AffinePermutation:
    """A seeded bijection of ``range(size)``: cheap, stateless and unique by construction."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self._size = size
        self._offset = rng.randrange(size)
        multiplier = rng.randrange(1, size) if size > 1 else 1
        while math.gcd(multiplier, size) != 1:
            multiplier += 1
        self._multiplier = multiplier

    def __call__(self, index: int) -> int:
        return (self._multiplier * index + self._offset) % self._size


@lru_cache(maxsize=1)
def _street_table() -> tuple[_Street, ...]:
    """Streets in the order a growing town uses them: plain '-straat' and '-laan' names first."""
    rng = seeded_rng(_STREET_TABLE_SEED)
    pc4s = tuple(WIJK_BY_PC4)
    streets: list[_Street] = []
    per_pc4 = dict.fromkeys(pc4s, 0)
    for suffix in _STREET_SUFFIXES:
        for stem in _STREET_STEMS:
            pc4 = pc4s[len(streets) % len(pc4s)]
            # Streets in one PC4 start their postcode letters at distinct offsets (see
            # _postcode), which holds while a PC4 has at most len(LETTER_PAIRS) streets.
            assert per_pc4[pc4] < len(LETTER_PAIRS)
            numbers = 12 + int(238 * rng.random() ** 1.3)  # mostly short streets, up to 250
            streets.append(_Street(f"{stem}{suffix}", pc4, per_pc4[pc4], numbers))
            per_pc4[pc4] += 1
    return tuple(streets)


@lru_cache(maxsize=1)
def _street_offsets() -> tuple[int, ...]:
    """Cumulative house-number counts: plain address slot → street by bisection."""
    total = 0
    offsets = [0]
    for street in _street_table():
        total += street.numbers
        offsets.append(total)
    return tuple(offsets)


def max_households() -> int:
    """The largest population the street table can house at one household per address."""
    plain_capacity = _street_offsets()[-1]
    by_addresses = int(plain_capacity / (1 - _ADDITION_SHARE))
    return min(by_addresses, BSN_CAPACITY // 2)  # two person slots per household


def _postcode(street: _Street, huisnummer: int) -> str:
    # Consecutive number blocks of a street get consecutive letter pairs. Street k of a PC4
    # starts at pair 7k (397 pairs is prime), so for each block position the streets of a
    # PC4 use distinct pairs: postcode + huisnummer is unique even where streets share a pair.
    block = (huisnummer - 1) // _NUMBERS_PER_POSTCODE
    pair = LETTER_PAIRS[(street.index_in_pc4 * 7 + block) % len(LETTER_PAIRS)]
    return f"{street.pc4}{pair}"


def _plain_address(slot: int) -> tuple[_Street, int]:
    street_index = bisect.bisect_right(_street_offsets(), slot) - 1
    street = _street_table()[street_index]
    return street, slot - _street_offsets()[street_index] + 1


class SyntheticPeople:
    """A seeded population of ``households`` households, each with 1-2 adults.

    Household ``i`` (``0 <= i < households``) is the same for the same seed, in any order
    and in any process. Its adults have person ids ``2i`` and ``2i + 1``.
    """

    def __init__(
        self,
        seed: int,
        households: int = DEFAULT_HOUSEHOLDS,
        reference_date: date = DEFAULT_REFERENCE_DATE,
    ) -> None:
        limit = max_households()
        if not 1 <= households <= limit:
            raise ValueError(f"households must be between 1 and {limit}, not {households}")
        self.seed = seed
        self.households = households
        self.reference_date = reference_date
        digest = hashlib.sha256(f"signaalhub-people:{seed}".encode()).digest()
        self._base = int.from_bytes(digest[:8], "big") << 32
        setup = seeded_rng(self._base)
        self._address_slots = AffinePermutation(households, setup)
        self._with_addition = round(households * _ADDITION_SHARE)
        self._plain = households - self._with_addition
        self._addition_stride = AffinePermutation(self._plain, setup)
        self._bsn_slots = AffinePermutation(BSN_CAPACITY, setup)
        # Bounded, so a million signals over a large population stay in constant memory.
        self._cached = lru_cache(maxsize=16_384)(self._build_household)

    def __len__(self) -> int:
        return self.households

    def __iter__(self) -> Iterator[Household]:
        return (self.household(index) for index in range(self.households))

    def household(self, index: int) -> Household:
        """Household ``index``; cached, since signals keep coming back to the same ones."""
        return self._cached(index)

    def _build_household(self, index: int) -> Household:
        if not 0 <= index < self.households:
            raise IndexError(f"household {index} outside 0..{self.households - 1}")
        rng = seeded_rng(self._base + index)
        first = self._person(2 * index, rng, surname=None, near_age=None)
        adults: tuple[Person, ...] = (first,)
        if rng.random() >= _SINGLE_ADULT_SHARE:
            second = self._person(
                2 * index + 1, rng, surname=_partner_surname(first, rng), near_age=first
            )
            adults = (first, second)
        return Household(index, self._address(index), adults)

    def _address(self, index: int) -> Address:
        slot = self._address_slots(index)
        addition = ""
        if slot >= self._plain:
            # Addition slots come in pairs on one plain address ("12A" and "12B").
            extra = slot - self._plain
            base = self._addition_stride(extra // 2)
            kind = _ADDITION_PAIRS[(extra // 2) % len(_ADDITION_PAIRS)]
            addition = kind[extra % 2]
            slot = base
        street, huisnummer = _plain_address(slot)
        return Address(
            straatnaam=street.name,
            postcode=_postcode(street, huisnummer),
            huisnummer=huisnummer,
            huisnummertoevoeging=addition,
            plaatsnaam=PLAATSNAAM,
            wijk=WIJK_BY_PC4[street.pc4],
        )

    def _person(
        self,
        person_id: int,
        rng: random.Random,
        surname: tuple[str, str] | None,
        near_age: Person | None,
    ) -> Person:
        voorvoegsel, achternaam = surname or rng.choice(_SURNAMES)
        voorletters = _voorletters(rng)
        geboortedatum = _birth_date(rng, self.reference_date, near_age)
        # Dutch mobile numbers start 06-1 to 06-6; random digits, never to be dialled.
        phone = f"06-{rng.randint(10_000_000, 69_999_999)}" if rng.random() < _SHARE_PHONE else None
        email = (
            _email(rng, voorletters, voorvoegsel, achternaam, geboortedatum)
            if rng.random() < _SHARE_EMAIL
            else None
        )
        return Person(
            person_id=person_id,
            bsn=self.bsn(person_id),
            voorletters=voorletters,
            voorvoegsel=voorvoegsel,
            achternaam=achternaam,
            geboortedatum=geboortedatum,
            telefoonnummer=phone,
            email=email,
        )

    def bsn(self, person_id: int) -> str:
        """The BSN of person ``person_id``: unique per person, eleven-proof, 99xxxxxxx."""
        middle, tail_index = divmod(self._bsn_slots(person_id), _BSN_TAILS_PER_MIDDLE)
        digits = [9, 9, *(int(d) for d in f"{middle:05d}")]
        partial = sum(w * d for w, d in zip(_BSN_WEIGHTS, digits, strict=False))
        d8, d9 = _BSN_TAILS[(-partial) % 11][tail_index]
        return "".join(str(d) for d in digits) + f"{d8}{d9}"


def _voorletters(rng: random.Random) -> str:
    draw = rng.random()
    count = 1 if draw < 0.45 else 2 if draw < 0.85 else 3
    return "".join(f"{rng.choice(_INITIALS)}." for _ in range(count))


def _partner_surname(first: Person, rng: random.Random) -> tuple[str, str]:
    """Partners share a surname, carry a double one ("Smit-Öztürk") or keep their own."""
    draw = rng.random()
    if draw < 0.45:
        return first.voorvoegsel, first.achternaam
    own_prefix, own = rng.choice(_SURNAMES)
    if draw < 0.55 and "-" not in first.achternaam and "-" not in own and not own_prefix:
        return first.voorvoegsel, f"{first.achternaam}-{own}"
    return own_prefix, own


def _birth_date(rng: random.Random, reference: date, near: Person | None) -> date:
    if near is None:
        youngest, oldest, _ = rng.choices(_AGE_BANDS, cum_weights=_AGE_BANDS_CUMULATIVE)[0]
        age = rng.randint(youngest, oldest)
    else:
        age = min(90, max(18, _age(near.geboortedatum, reference) + rng.randint(-8, 8)))
    # Born after the (age+1)th birthday before the reference date, on or before the age-th.
    earliest = _years_before(reference, age + 1) + timedelta(days=1)
    latest = _years_before(reference, age)
    return earliest + timedelta(days=rng.randrange((latest - earliest).days + 1))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _email(
    rng: random.Random, voorletters: str, voorvoegsel: str, achternaam: str, born: date
) -> str:
    local = f"{ascii_fold(voorletters)}.{ascii_fold(voorvoegsel + achternaam)}"
    if rng.random() < 0.5:
        local += f"{born.year % 100:02d}"
    domain = EMAIL_DOMAINS[0] if rng.random() < 0.7 else EMAIL_DOMAINS[1]
    return f"{local}@{domain}"
