"""The DDAS delivery: hand-made event histories → exact DDAS fragments, the schema's enums, the
validator on the national examples, the document header and the ``ddas.toml`` loader."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from events.base import DomainEvent
from events.catalogue.cases import (
    CaseCancelled,
    CaseClosed,
    CaseOpened,
    CaseSignalUpdated,
    CaseSignalWithdrawn,
    SignalAttachedToCase,
)
from events.catalogue.referrals import (
    ContactAttemptRecorded,
    ContactKind,
    PartOfDay,
    ReferralClaimed,
    ReferralClosed,
    ReferralReleased,
    ReferralRequested,
)
from events.catalogue.signals import SignalReceived, SignalUpdated, SignalWithdrawn
from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind
from events.envelope import EMPTY_METADATA, RecordedEvent
from services.config_files import ConfigError
from services.ddas.config import DdasConfig, load_ddas_config
from services.ddas.delivery import (
    NOT_YET_PICKED_UP,
    SIGNAL_STATUSES,
    DeliveryContent,
    Period,
    client_block,
    fold_delivery,
    vroegsignaal,
    vroegsignaalzaak,
    whole_euros,
)
from services.ddas.document import assemble_document, delivery_timestamp
from services.ddas.validation import (
    InvalidDeliveryError,
    ddas_schema,
    ddas_validator,
    inline_references,
    schema_problems,
    validate_delivery,
)

CONFIG = Path(__file__).resolve().parents[2] / "config"
NATIONAL = Path(__file__).resolve().parents[1] / "fixtures" / "ddas"
"""The national examples, with synthetic BSNs (tests/fixtures/ddas/README.md)."""
SHIPPED_SCHEMA = Path(__file__).resolve().parents[2] / "services" / "ddas"
JANUARY = Period(date(2026, 1, 1), date(2026, 1, 31))
FEBRUARY = Period(date(2026, 2, 1), date(2026, 2, 28))
DELIVERED_AT = datetime(2026, 2, 5, 10, 30, 15, 123456, tzinfo=UTC)
HOUSEHOLD = uuid.UUID("00000000-0000-4000-8000-00000000000a")

# Synthetic personal data in the JSON shape intake stores (``_person_json``).
PERSON: dict[str, Any] = {
    "bsn": "999990019",
    "birth_date": "1990-05-17",
    "city": "Almelo",
    "customer_number": "K-77",
    "email": "j.hoff@example.invalid",
    "house_number": 12,
    "house_number_addition": "B",
    "initials": "J.",
    "phone": "0600000000",
    "postcode": "7604AB",
    "street": "Grotestraat",
    "surname": "Hoff",
    "surname_prefix": "van 't",
}


def ids(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def enum(name: str) -> list[str]:
    values: list[str] = ddas_schema()["$defs"][name]["enum"]
    return values


class Log:
    """A hand-made event log: positions count up, each event recorded at a given moment."""

    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []

    def add(self, stream: str, event: DomainEvent, recorded_at: datetime) -> None:
        position = len(self.events) + 1
        self.events.append(
            RecordedEvent(
                position,
                stream,
                1,
                uuid.uuid4(),
                event.type_name(),
                1,
                event,
                EMPTY_METADATA,
                recorded_at,
            )
        )

    def signal(
        self,
        signal_id: uuid.UUID,
        case_id: uuid.UUID,
        on: date,
        *,
        amount: str = "450.50",
        opens: bool = True,
        gemeentecode: str = "0141",
        partner_type: PartnerType = PartnerType.ENERGY,
        crisis: bool = False,
        recorded_at: datetime | None = None,
    ) -> None:
        """A signal as intake records it: the signal, then the case opened or attached."""
        at = recorded_at or datetime(on.year, on.month, on.day, 8, tzinfo=UTC) + timedelta(days=1)
        self.add(
            f"signal-{signal_id}",
            SignalReceived(
                signal_id=signal_id,
                partner_id="enexis",
                partner_signal_id=f"P-{signal_id.int}",
                partner_type=partner_type,
                kind=SignalKind.EARLY_SIGNAL,
                amount=Decimal(amount),
                origin_date=on - timedelta(days=26),
                signal_date=on,
                crisis=crisis,
                household_id=HOUSEHOLD,
                gemeentecode=gemeentecode,
                pc4="7604",
            ),
            at,
        )
        if opens:
            self.add(
                f"case-{case_id}",
                CaseOpened(
                    case_id=case_id,
                    household_id=HOUSEHOLD,
                    gemeentecode=gemeentecode,
                    pc4="7604",
                    first_signal_id=signal_id,
                    partner_type=partner_type,
                    matching_window_starts=on,
                    matching_window_ends=on + timedelta(days=30),
                ),
                at,
            )
        else:
            self.add(
                f"case-{case_id}",
                SignalAttachedToCase(
                    case_id=case_id, signal_id=signal_id, partner_type=partner_type
                ),
                at,
            )

    def referral(self, referral_id: uuid.UUID, case_id: uuid.UUID, on: date) -> None:
        self.add(
            f"referral-{referral_id}",
            ReferralRequested(
                referral_id=referral_id,
                case_id=case_id,
                project="vroeg-erop-af",
                team="vroeg-erop-af-noord",
                urgent=False,
                requested_on=on,
                first_contact_due=on + timedelta(days=14),
                closure_due=on + timedelta(days=28),
                rule_id="vroeg-erop-af",
            ),
            _noon(on),
        )

    def on_referral(self, referral_id: uuid.UUID, event: DomainEvent, on: date) -> None:
        self.add(f"referral-{referral_id}", event, _noon(on))

    def on_case(self, case_id: uuid.UUID, event: DomainEvent, on: date) -> None:
        self.add(f"case-{case_id}", event, _noon(on))


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def attempt(
    referral_id: uuid.UUID,
    kind: ContactKind,
    reached: bool,
    on: date,
    part: PartOfDay | None = PartOfDay.MORNING,
) -> ContactAttemptRecorded:
    return ContactAttemptRecorded(
        referral_id=referral_id, kind=kind, reached=reached, attempted_on=on, part_of_day=part
    )


def worked_case() -> Log:
    """One household's January: signal, update, referral, claim, two attempts, closure."""
    log = Log()
    log.signal(ids(1), ids(100), date(2026, 1, 5))
    log.add(
        f"signal-{ids(1)}",
        SignalUpdated(
            signal_id=ids(1),
            amount=Decimal("480.49"),
            previous_amount=Decimal("450.50"),
            signal_date=date(2026, 1, 12),
        ),
        _noon(date(2026, 1, 12)),
    )
    log.on_case(
        ids(100),
        CaseSignalUpdated(case_id=ids(100), signal_id=ids(1), amount=Decimal("480.49")),
        date(2026, 1, 12),
    )
    log.referral(ids(200), ids(100), date(2026, 1, 6))
    # 23:30 UTC on the 9th is the 10th in Almelo: DDAS dates are the municipality's dates.
    log.on_referral(
        ids(200),
        ReferralClaimed(
            referral_id=ids(200),
            worker_id="w-17",
            claimed_at=datetime(2026, 1, 9, 23, 30, tzinfo=UTC),
        ),
        date(2026, 1, 10),
    )
    log.on_referral(
        ids(200),
        attempt(ids(200), ContactKind.HOME_VISIT, True, date(2026, 1, 15), PartOfDay.AFTERNOON),
        date(2026, 1, 15),
    )
    log.on_referral(
        ids(200), attempt(ids(200), ContactKind.PHONE, False, date(2026, 1, 10)), date(2026, 1, 15)
    )
    log.on_referral(
        ids(200),
        ReferralClosed(
            referral_id=ids(200), outcome=Outcome.NO_HELP_NEEDED, closed_on=date(2026, 1, 20)
        ),
        date(2026, 1, 20),
    )
    return log


def document_for(content: DeliveryContent, details: dict[uuid.UUID, Any] | None = None) -> Any:
    config = load_ddas_config(CONFIG)
    document, _ = assemble_document(content, details or {}, config, DELIVERED_AT)
    return document


# -- the fold: exact fragments ------------------------------------------------------------


def test_a_worked_case_gives_the_exact_ddas_fragments() -> None:
    content = fold_delivery(worked_case().events, JANUARY)

    [signal] = content.signals
    [case] = content.cases
    assert vroegsignaal(signal, PERSON) == {
        "ID": str(ids(1)),
        "crisissignaal": False,
        "warmeOverdracht": False,
        "bedrag": 480,  # the updated amount, in whole euros
        "ontstaansdatum": "2025-12-10",
        "signaaldatum": "2026-01-05",
        # picked up: EnumSignaalstatus has no value for it, so no status
        "signaalpartner": {"type": "Energie"},
        "client": {
            "Burgerservicenummer": "999990019",
            "Voorletters": "J.",
            "Voorvoegsel": "van 't",
            "Achternaam": "Hoff",
            "Geboortedatum": "1990-05-17",
            "Straatnaam": "Grotestraat",
            "Postcode": "7604AB",
            "Huisnummer": "12",
            "Huisnummertoevoeging": "B",
            "Plaatsnaam": "Almelo",
        },
    }
    assert vroegsignaalzaak(case) == {
        "resultaat": "Inwoner hoeft geen hulp vanuit vroegsignalering",
        "matchingsdatum": "2026-01-06",  # the day the hub recorded the case
        "startdatum_matchtingperiode": "2026-01-05",
        "datum_opgepakt": "2026-01-10",
        "einddatum_matchingperiode": "2026-02-04",
        "vroegsignalen": [{"ID": str(ids(1))}],
        "contactpogingen": [
            {"soort": "Telefoon", "bereikt": False, "datum": "2026-01-10", "dagdeel": "Ochtend"},
            {"soort": "Huisbezoek", "bereikt": True, "datum": "2026-01-15", "dagdeel": "Middag"},
        ],
    }
    assert content.contact_attempts == 2
    validate_delivery(document_for(content, {ids(1): PERSON}))


def test_the_delivery_shows_the_state_at_the_end_of_the_period() -> None:
    early = Period(date(2026, 1, 1), date(2026, 1, 9))

    content = fold_delivery(worked_case().events, early)

    [signal] = content.signals
    [case] = content.cases
    assert (signal.status, whole_euros(signal.amount)) == (NOT_YET_PICKED_UP, 451)
    assert vroegsignaalzaak(case) == {
        "matchingsdatum": "2026-01-06",
        "startdatum_matchtingperiode": "2026-01-05",
        "einddatum_matchingperiode": "2026-02-04",
        "vroegsignalen": [{"ID": str(ids(1))}],
        "contactpogingen": [],
    }


def test_a_signal_belongs_to_the_period_of_its_signal_date_a_case_to_each_active_period() -> None:
    log = Log()
    log.signal(ids(1), ids(100), date(2025, 12, 20))
    log.signal(ids(2), ids(100), date(2026, 1, 8), opens=False)
    log.signal(ids(3), ids(101), date(2025, 12, 22))  # nothing happens to it in January
    log.referral(ids(200), ids(100), date(2025, 12, 21))
    claimed = ReferralClaimed(
        referral_id=ids(200), worker_id="w-1", claimed_at=datetime(2026, 2, 2, 9, tzinfo=UTC)
    )
    log.on_referral(ids(200), claimed, date(2026, 2, 2))

    december = fold_delivery(log.events, Period(date(2025, 12, 1), date(2025, 12, 31)))
    january = fold_delivery(log.events, JANUARY)
    february = fold_delivery(log.events, FEBRUARY)

    assert [s.signal_id for s in december.signals] == [ids(1), ids(3)]
    assert [c.case_id for c in december.cases] == [ids(100), ids(101)]
    assert [c.signal_ids for c in december.cases] == [(ids(1),), (ids(3),)]
    assert [s.signal_id for s in january.signals] == [ids(2)]
    assert [(c.case_id, c.signal_ids, c.picked_up_on) for c in january.cases] == [
        (ids(100), (ids(1), ids(2)), None)
    ]
    assert february.signals == ()
    assert [(c.case_id, c.picked_up_on) for c in february.cases] == [(ids(100), date(2026, 2, 2))]


def test_a_release_and_reclaim_keeps_the_first_pick_up_date() -> None:
    log = Log()
    log.signal(ids(1), ids(100), date(2026, 1, 5))
    log.referral(ids(200), ids(100), date(2026, 1, 5))
    first = datetime(2026, 1, 6, 9, tzinfo=UTC)
    log.on_referral(
        ids(200),
        ReferralClaimed(referral_id=ids(200), worker_id="a", claimed_at=first),
        date(2026, 1, 6),
    )
    log.on_referral(
        ids(200),
        ReferralReleased(
            referral_id=ids(200), reason="verlof", released_at=first + timedelta(days=1)
        ),
        date(2026, 1, 7),
    )
    log.on_referral(
        ids(200),
        ReferralClaimed(referral_id=ids(200), worker_id="b", claimed_at=first + timedelta(days=3)),
        date(2026, 1, 9),
    )

    [case] = fold_delivery(log.events, JANUARY).cases

    assert case.picked_up_on == date(2026, 1, 6)


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Outcome.REPEAT_SIGNAL, "Niet opgepakt: herhaalde melding"),
        (Outcome.UNJUSTIFIED_SIGNAL, "Niet opgepakt: onterecht signaal"),
        (Outcome.NOT_A_RESIDENT, "Persoon is geen inwoner (meer) in de gemeente"),
        (Outcome.DECEASED, "Inwoner is overleden"),
        (Outcome.NOT_PICKED_UP_OTHER, "Niet opgepakt: andere reden"),
        (Outcome.KNOWN_TO_DEBT_SERVICES, "Niet opgepakt: andere reden"),
    ],
)
def test_a_case_closed_unclaimed_gives_its_signals_a_status(outcome: Outcome, status: str) -> None:
    log = Log()
    log.signal(ids(1), ids(100), date(2026, 1, 5))
    closed = CaseClosed(case_id=ids(100), outcome=outcome, closed_on=date(2026, 1, 6), reason="r")
    log.on_case(ids(100), closed, date(2026, 1, 6))

    content = fold_delivery(log.events, JANUARY)

    assert vroegsignaal(content.signals[0], None)["status"] == status
    assert vroegsignaalzaak(content.cases[0])["resultaat"] == outcome.value
    assert "datum_opgepakt" not in vroegsignaalzaak(content.cases[0])
    validate_delivery(document_for(content))


def test_withdrawn_signals_and_cancelled_cases_are_not_picked_up_for_another_reason() -> None:
    log = Log()
    log.signal(ids(1), ids(100), date(2026, 1, 5))
    log.signal(ids(2), ids(100), date(2026, 1, 6), opens=False)
    log.signal(ids(3), ids(101), date(2026, 1, 7))
    for signal_id, case_id, left, on in ((ids(1), ids(100), 1, 10), (ids(3), ids(101), 0, 11)):
        day = date(2026, 1, on)
        log.add(
            f"signal-{signal_id}", SignalWithdrawn(signal_id=signal_id, signal_date=day), _noon(day)
        )
        log.on_case(
            case_id,
            CaseSignalWithdrawn(case_id=case_id, signal_id=signal_id, signals_left=left),
            day,
        )
    log.on_case(ids(101), CaseCancelled(case_id=ids(101), reason="ingetrokken"), date(2026, 1, 11))

    content = fold_delivery(log.events, JANUARY)

    assert [(str(s.signal_id), s.status) for s in content.signals] == [
        (str(ids(1)), "Niet opgepakt: andere reden"),  # withdrawn, its case still open
        (str(ids(2)), NOT_YET_PICKED_UP),
        (str(ids(3)), "Niet opgepakt: andere reden"),  # its case was cancelled
    ]
    assert [vroegsignaalzaak(c).get("resultaat") for c in content.cases] == [
        None,
        "Niet opgepakt: andere reden",
    ]
    # As at the 9th neither withdrawal had happened.
    before = fold_delivery(log.events, Period(date(2026, 1, 1), date(2026, 1, 9)))
    assert [s.status for s in before.signals] == [NOT_YET_PICKED_UP] * 3


def test_a_case_without_activity_in_the_period_is_not_delivered() -> None:
    log = Log()
    log.signal(ids(1), ids(100), date(2026, 1, 5))

    assert fold_delivery(log.events, FEBRUARY).cases == ()
    assert [c.case_id for c in fold_delivery(log.events, JANUARY).cases] == [ids(100)]


# -- every value the hub has maps to a schema enum ----------------------------------------


@pytest.mark.parametrize("outcome", list(Outcome))
def test_every_outcome_is_a_ddas_eindresultaat(outcome: Outcome) -> None:
    log = Log()
    log.signal(ids(1), ids(100), date(2026, 1, 5))
    log.referral(ids(200), ids(100), date(2026, 1, 5))
    claimed = ReferralClaimed(
        referral_id=ids(200), worker_id="w", claimed_at=datetime(2026, 1, 6, 9, tzinfo=UTC)
    )
    log.on_referral(ids(200), claimed, date(2026, 1, 6))
    closed = ReferralClosed(referral_id=ids(200), outcome=outcome, closed_on=date(2026, 1, 7))
    log.on_referral(ids(200), closed, date(2026, 1, 7))

    content = fold_delivery(log.events, JANUARY)

    assert vroegsignaalzaak(content.cases[0])["resultaat"] in enum("EnumEindresultaat")
    validate_delivery(document_for(content))


@pytest.mark.parametrize("kind", list(ContactKind))
@pytest.mark.parametrize("part", [*PartOfDay, None])
def test_every_contact_kind_and_part_of_day_is_a_ddas_value(
    kind: ContactKind, part: PartOfDay | None
) -> None:
    log = Log()
    log.signal(ids(1), ids(100), date(2026, 1, 5))
    log.referral(ids(200), ids(100), date(2026, 1, 5))
    log.on_referral(
        ids(200), attempt(ids(200), kind, False, date(2026, 1, 8), part), date(2026, 1, 8)
    )

    content = fold_delivery(log.events, JANUARY)

    [poging] = vroegsignaalzaak(content.cases[0])["contactpogingen"]
    assert poging["soort"] in enum("EnumContactsoort")
    assert poging.get("dagdeel") == (part.value if part else None)
    validate_delivery(document_for(content))


def test_every_partner_type_and_signal_status_is_a_ddas_value() -> None:
    assert {p.value for p in PartnerType} == set(enum("EnumSignaalpartner"))
    assert set(SIGNAL_STATUSES) == set(enum("EnumSignaalstatus"))
    assert {o.value for o in Outcome} == set(enum("EnumEindresultaat"))
    assert {k.value for k in ContactKind} == set(enum("EnumContactsoort"))
    assert {p.value for p in PartOfDay} == set(enum("EnumDagdeel"))


# -- the client block ---------------------------------------------------------------------


def test_erased_personal_data_leaves_an_empty_but_valid_client() -> None:
    log = Log()
    log.signal(ids(1), ids(100), date(2026, 1, 5))
    log.signal(ids(2), ids(101), date(2026, 1, 6))
    log.signal(ids(3), ids(102), date(2026, 1, 7))
    content = fold_delivery(log.events, JANUARY)
    config = load_ddas_config(CONFIG)
    erased = dict.fromkeys(PERSON)  # every field erased, the row still there
    details = {ids(1): None, ids(2): erased, ids(3): PERSON}

    document, [counts] = assemble_document(content, details, config, DELIVERED_AT)

    validate_delivery(document)
    clients = [s["client"] for s in document["leveringen"][0]["vroegsignalen"]]
    assert clients[:2] == [{}, {}]
    assert clients[2]["Achternaam"] == "Hoff"
    assert (counts.signals, counts.signals_without_client) == (3, 2)


def test_erased_fields_are_left_out_and_contact_details_never_exported() -> None:
    partly = {**PERSON, "bsn": None, "surname_prefix": "", "birth_date": None}

    block = client_block(partly)

    assert "Burgerservicenummer" not in block
    assert "Voorvoegsel" not in block
    assert "Geboortedatum" not in block
    assert block["Achternaam"] == "Hoff"
    exported = json.dumps(client_block(PERSON))
    for secret in ("0600000000", "j.hoff@example.invalid", "K-77"):
        assert secret not in exported


def test_amounts_are_whole_euros_rounded_half_up() -> None:
    assert [whole_euros(Decimal(a)) for a in ("0.49", "0.50", "450.50", "1200.00", "99.99")] == [
        0,
        1,
        451,
        1200,
        100,
    ]


# -- the document -------------------------------------------------------------------------


def test_one_levering_per_municipality_numbered_by_teller() -> None:
    log = Log()
    log.signal(ids(1), ids(100), date(2026, 1, 5), gemeentecode="0153")
    log.signal(ids(2), ids(101), date(2026, 1, 6), gemeentecode="0141")
    content = fold_delivery(log.events, JANUARY)
    config = DdasConfig.model_validate(
        {
            **load_ddas_config(CONFIG).model_dump(),
            "gemeente": {
                "0153": {
                    "aanleverende_organisatie": {
                        "naam": "Gemeente Buurdorp (synthetisch)",
                        "kvk_nummer": "00000001",
                        "contactpersonen": [
                            {
                                "naam": "Team vroegsignalering",
                                "telefoonnummer": "0000-000001",
                                "email": "team@buurdorp.invalid",
                                "functietitel": "Teamleider",
                            }
                        ],
                    }
                }
            },
        }
    )

    document, counts = assemble_document(
        content, {}, config, DELIVERED_AT, served_gemeentecodes=["0141", "0999"]
    )

    validate_delivery(document)
    leveringen = document["leveringen"]
    assert [(lev["teller"], lev["gemeentecode"]) for lev in leveringen] == [
        (1, "0141"),
        (2, "0153"),
        (3, "0999"),
    ]
    assert [len(lev["vroegsignalen"]) for lev in leveringen] == [1, 1, 0]
    assert leveringen[1]["aanleverende_organisatie"]["naam"] == "Gemeente Buurdorp (synthetisch)"
    assert leveringen[0]["aanleverende_organisatie"]["kvk-nummer"] == "00000000"
    assert [(c.gemeentecode, c.signals, c.cases) for c in counts] == [
        ("0141", 1, 1),
        ("0153", 1, 1),
        ("0999", 0, 0),
    ]
    assert {k: document[k] for k in document if k != "leveringen"} == {
        "codeGegevensleverancier": "SIGNAALHUB-DEMO",
        "startdatumLevering": "2026-01-01",
        "einddatumLevering": "2026-01-31",
        "aanleverdatumEnTijd": "2026-02-05T10:30:15Z",
    }


def test_an_empty_period_without_served_municipalities_is_still_valid() -> None:
    content = fold_delivery([], JANUARY)

    document = document_for(content)

    assert "leveringen" not in document  # the schema wants one or more when present
    validate_delivery(document)


def test_the_delivery_time_is_utc_with_z() -> None:
    amsterdam_winter = timezone(timedelta(hours=1))
    moment = datetime(2026, 2, 5, 11, 30, 0, tzinfo=amsterdam_winter)

    assert delivery_timestamp(moment) == "2026-02-05T10:30:00Z"
    with pytest.raises(ValueError, match="time zone"):
        delivery_timestamp(datetime(2026, 2, 5, 11, 30))


# -- the validator ------------------------------------------------------------------------


@pytest.mark.parametrize("example", ["enkelvoudigVoorbeeld.json", "meervoudigVoorbeeld.json"])
def test_the_national_examples_validate(example: str) -> None:
    document = json.loads((NATIONAL / example).read_text(encoding="utf-8"))

    assert schema_problems(document) == []
    validate_delivery(document)


def test_the_shipped_schema_is_the_national_one() -> None:
    raw = (SHIPPED_SCHEMA / "json_schema_Uitwisselmodel.json").read_bytes()
    origin = (SHIPPED_SCHEMA / "SCHEMA_ORIGIN.md").read_text(encoding="utf-8")
    [recorded] = re.findall(r"SHA-256 of the copy: `([0-9a-f]{64})`", origin)

    assert hashlib.sha256(raw).hexdigest() == recorded  # unchanged since it was copied
    assert json.loads(raw) == ddas_schema()


def test_a_broken_document_fails_with_json_paths() -> None:
    document = json.loads((NATIONAL / "meervoudigVoorbeeld.json").read_text(encoding="utf-8"))
    broken = copy.deepcopy(document)
    broken["leveringen"][1]["vroegsignalen"][0]["bedrag"] = "300"
    broken["leveringen"][0]["vroegsignaalzaken"][1]["contactpogingen"][0]["soort"] = "Duif"
    del broken["leveringen"][0]["vroegsignalen"][1]["client"]
    broken["aanleverdatumEnTijd"] = "2025-02-05 10:30"
    broken["startdatumLevering"] = "2025-13-01"

    with pytest.raises(InvalidDeliveryError) as raised:
        validate_delivery(broken)

    found = {(p.path, p.message.split(" ")[0]) for p in raised.value.problems}
    assert {path for path, _ in found} == {
        "$.aanleverdatumEnTijd",
        "$.startdatumLevering",
        "$.leveringen[0].vroegsignalen[1]",
        "$.leveringen[0].vroegsignaalzaken[1].contactpogingen[0].soort",
        "$.leveringen[1].vroegsignalen[0].bedrag",
    }
    assert "'client' is a required property" in str(raised.value)
    problems = {p.path: p.message for p in raised.value.problems}
    assert problems["$.leveringen[1].vroegsignalen[0].bedrag"] == "must be of type integer"
    assert problems["$.startdatumLevering"] == "is not a valid date"


def test_problems_never_repeat_the_value_found() -> None:
    document = json.loads((NATIONAL / "enkelvoudigVoorbeeld.json").read_text(encoding="utf-8"))
    client = document["leveringen"][0]["vroegsignalen"][0]["client"]
    client["Geboortedatum"] = "1985-02-30"
    client["Burgerservicenummer"] = 123456789  # a number where the schema wants a string

    problems = schema_problems(document)

    assert {p.path for p in problems} == {
        "$.leveringen[0].vroegsignalen[0].client.Geboortedatum",
        "$.leveringen[0].vroegsignalen[0].client.Burgerservicenummer",
    }
    shown = " ".join(str(p) for p in problems)
    assert "1985-02-30" not in shown
    assert "123456789" not in shown


def test_the_inlined_schema_finds_exactly_what_the_original_finds() -> None:
    original = Draft202012Validator(ddas_schema(), format_checker=ddas_validator().format_checker)
    document = json.loads((NATIONAL / "meervoudigVoorbeeld.json").read_text(encoding="utf-8"))
    broken = copy.deepcopy(document)
    levering = broken["leveringen"][0]
    levering["vroegsignalen"][0].update(bedrag=1.5, status="Opgepakt", signaaldatum="1-1-2025")
    levering["vroegsignalen"][0]["client"]["Geboortedatum"] = "1985-02-30"
    levering["vroegsignalen"][1]["signaalpartner"]["type"] = "Bank"
    levering["vroegsignaalzaken"][0]["vroegsignalen"] = []
    levering["vroegsignaalzaken"][1]["contactpogingen"][0]["dagdeel"] = "Nacht"
    levering["aanleverende_organisatie"]["contactpersoonen"][0]["email"] = "geen-adres"
    broken["leveringen"][1]["teller"] = "2"

    def found(errors: Any) -> set[tuple[str, str]]:
        return {(e.json_path, e.message) for e in errors}

    expected = found(original.iter_errors(broken))
    assert len(expected) == 9
    assert found(ddas_validator().iter_errors(broken)) == expected
    assert "$ref" not in json.dumps(inline_references(ddas_schema()))


def test_only_local_references_are_inlined() -> None:
    with pytest.raises(ValueError, match="cannot inline"):
        inline_references({"properties": {"a": {"$ref": "https://example.invalid/s.json"}}})
    both = inline_references(
        {
            "$defs": {"n": {"type": "integer"}},
            "properties": {"a": {"$ref": "#/$defs/n", "type": "string"}},
        }
    )
    assert both["properties"]["a"] == {"allOf": [{"type": "integer"}, {"type": "string"}]}


def test_date_times_need_a_zone() -> None:
    document = json.loads((NATIONAL / "enkelvoudigVoorbeeld.json").read_text(encoding="utf-8"))
    for good in ("2025-02-05T10:30:00Z", "2025-02-05T10:30:00.5+01:00"):
        assert schema_problems({**document, "aanleverdatumEnTijd": good}) == []
    for bad in ("2025-02-05T10:30:00", "2025-02-30T10:30:00Z", "2025-02-05T25:30:00Z"):
        [problem] = schema_problems({**document, "aanleverdatumEnTijd": bad})
        assert problem.path == "$.aanleverdatumEnTijd"


# -- ddas.toml ----------------------------------------------------------------------------


def test_the_shipped_header_configuration_loads() -> None:
    config = load_ddas_config(CONFIG)

    assert config.code_gegevensleverancier == "SIGNAALHUB-DEMO"
    organisation = config.organisation_for("0141").as_ddas()
    assert set(organisation) == {"naam", "kvk-nummer", "contactpersoonen"}
    assert organisation["contactpersoonen"][0]["email"].endswith(".invalid")


def test_a_wrong_header_configuration_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "ddas.toml").write_text(
        'code_gegevensleverancier = "X"\n'
        "[aanleverende_organisatie]\n"
        'naam = "Gemeente"\n'
        'kvk_nummer = "12"\n'
        "contactpersonen = []\n",
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as raised:
        load_ddas_config(tmp_path)

    message = str(raised.value)
    assert "ddas.toml" in message
    assert "aanleverende_organisatie.kvk_nummer" in message
    assert "aanleverende_organisatie.contactpersonen" in message


def test_a_missing_header_key_is_named(tmp_path: Path) -> None:
    (tmp_path / "ddas.toml").write_text('code_gegevensleverancier = "X"\n', encoding="utf-8")

    with pytest.raises(ConfigError, match="aanleverende_organisatie: Field required"):
        load_ddas_config(tmp_path)
