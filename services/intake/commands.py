"""The intake command, in the hub's English domain vocabulary.

Adapters translate a partner's wire message (Dutch DDAS field names) into ``ReceiveSignal``,
or into a list of ``FieldProblem`` that name the wire field and say what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from events.catalogue.vocabulary import PartnerType, SignalKind


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with one field, in the partner's words: ``field`` is the wire name
    (``client.postcode``, ``bedrag``), ``problem`` a sentence a partner engineer understands."""

    field: str
    problem: str


@dataclass(frozen=True, slots=True)
class PersonalDetails:
    """Everything that identifies or reaches a person. Never in events, logs or read models."""

    postcode: str  # normalised: 1234AB
    house_number: int
    house_number_addition: str | None = None
    bsn: str | None = None
    initials: str | None = None
    surname_prefix: str | None = None
    surname: str | None = None
    birth_date: date | None = None
    street: str | None = None
    city: str | None = None
    phone: str | None = None
    email: str | None = None
    customer_number: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiveSignal:
    """A validated signal of one partner about one person.

    For ``SignalKind.WITHDRAWAL`` only the identity fields matter; amounts, dates and the
    person are carried when the partner sends them (``person`` may then be ``None``).
    """

    partner_id: str
    partner_signal_id: str
    partner_type: PartnerType
    kind: SignalKind
    amount: Decimal | None
    origin_date: date | None
    signal_date: date
    days_in_arrears: int | None
    months_in_arrears: int | None
    crisis: bool
    warm_handover: bool
    person: PersonalDetails | None
