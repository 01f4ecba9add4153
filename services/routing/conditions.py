"""The condition language of routing rules: a small table of fields, each with one meaning.

A rule's ``when`` is a table of these fields; all of them must hold. Each field knows how to
test the facts and how to tell whether one value implies another (``check_rules`` uses that to
find rules that an earlier rule always shadows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind
from services.routing.facts import CaseFacts


@dataclass(frozen=True, slots=True)
class Situation:
    """The facts plus what routing derived from configuration before testing rules."""

    facts: CaseFacts
    in_municipality: bool
    has_capacity: Callable[[str], bool]


Predicate = Callable[[Situation], bool]


def _subset(narrow: Any, wide: Any) -> bool:
    return set(narrow) <= set(wide)


def _equal(narrow: Any, wide: Any) -> bool:
    return bool(narrow == wide)


def _at_least(narrow: Any, wide: Any) -> bool:
    return bool(narrow >= wide)


def _at_most(narrow: Any, wide: Any) -> bool:
    return bool(narrow <= wide)


@dataclass(frozen=True, slots=True)
class ConditionField:
    meaning: str
    test: Callable[[Any], Predicate]
    """Given the configured value, the predicate over a situation."""
    implies: Callable[[Any, Any], bool]
    """``implies(b, a)``: every case that meets ``b`` also meets ``a``."""


CONDITION_FIELDS: dict[str, ConditionField] = {
    "gemeentecode_in": ConditionField(
        "the case's CBS gemeentecode is one of these",
        lambda v: lambda s: s.facts.gemeentecode in v,
        _subset,
    ),
    "in_municipality": ConditionField(
        "the address lies (true) or does not lie (false) in a wijk of the gemeente",
        lambda v: lambda s: s.in_municipality is v,
        _equal,
    ),
    "total_amount_below": ConditionField(
        "the sum of the case's signal amounts (euros) is below this",
        lambda v: lambda s: s.facts.total_amount < v,
        _at_most,
    ),
    "partner_types_any": ConditionField(
        "at least one signal comes from one of these DDAS partner types",
        lambda v: lambda s: not s.facts.partner_types.isdisjoint(v),
        _subset,
    ),
    "distinct_partner_types_min": ConditionField(
        "the signals come from at least this many different partner types",
        lambda v: lambda s: len(s.facts.partner_types) >= v,
        _at_least,
    ),
    "kinds_any": ConditionField(
        "at least one signal has one of these kinds (soort)",
        lambda v: lambda s: not s.facts.kinds.isdisjoint(v),
        _subset,
    ),
    "crisis": ConditionField(
        "a signal is (true) or none is (false) a crisis signal",
        lambda v: lambda s: s.facts.crisis is v,
        _equal,
    ),
    "warm_handover": ConditionField(
        "a partner asked (true) or nobody asked (false) for a warm handover",
        lambda v: lambda s: s.facts.warm_handover is v,
        _equal,
    ),
    "age_band_in": ConditionField(
        "the person's age band is one of these (0-17, 18-27, 28-44, 45-66, 67+)",
        lambda v: lambda s: s.facts.age_band in v,
        _subset,
    ),
    "earlier_outcomes_any": ConditionField(
        "an earlier case of the household closed with one of these DDAS outcomes",
        lambda v: lambda s: not v.isdisjoint(s.facts.earlier_outcomes),
        _subset,
    ),
    "project_has_capacity": ConditionField(
        "this project still has room for another household",
        lambda v: lambda s: s.has_capacity(v),
        _equal,
    ),
}


class Conditions(BaseModel):
    """A rule's ``when``: the fields of ``CONDITION_FIELDS``; unset fields are not tested."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gemeentecode_in: frozenset[str] | None = Field(default=None, min_length=1)
    in_municipality: bool | None = None
    total_amount_below: Decimal | None = Field(default=None, ge=0)
    partner_types_any: frozenset[PartnerType] | None = Field(default=None, min_length=1)
    distinct_partner_types_min: int | None = Field(default=None, ge=1)
    kinds_any: frozenset[SignalKind] | None = Field(default=None, min_length=1)
    crisis: bool | None = None
    warm_handover: bool | None = None
    age_band_in: frozenset[str] | None = Field(default=None, min_length=1)
    earlier_outcomes_any: frozenset[Outcome] | None = Field(default=None, min_length=1)
    project_has_capacity: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        # pydantic's own "extra inputs are not permitted" does not say what is allowed.
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(CONDITION_FIELDS))
            if unknown:
                raise ValueError(
                    f"unknown condition field(s) {', '.join(unknown)}; "
                    f"known: {', '.join(CONDITION_FIELDS)}"
                )
        return data

    def items(self) -> dict[str, Any]:
        """The set fields and their values, in the table's order."""
        return {
            name: value for name in CONDITION_FIELDS if (value := getattr(self, name)) is not None
        }

    def predicates(self) -> tuple[Predicate, ...]:
        return tuple(CONDITION_FIELDS[name].test(value) for name, value in self.items().items())

    def implied_by(self, other: Conditions) -> bool:
        """Whether every case that meets ``other`` also meets these conditions."""
        mine, theirs = self.items(), other.items()
        return all(
            name in theirs and CONDITION_FIELDS[name].implies(theirs[name], value)
            for name, value in mine.items()
        )

    def describe(self) -> str:
        parts = []
        for name, value in self.items().items():
            if isinstance(value, frozenset):
                value = "[" + ", ".join(sorted(str(v) for v in value)) + "]"
            elif isinstance(value, bool):
                value = str(value).lower()
            parts.append(f"{name} = {value}")
        return ", ".join(parts) or "(always)"
