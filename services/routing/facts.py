"""The facts of a case that routing looks at: plain data, no personal data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What is known about a case when it is routed.

    ``in_municipality`` is what intake decided from the municipalities' PC4 areas; routing
    also treats a PC4 that lies in no configured wijk as outside the municipality.
    """

    gemeentecode: str
    pc4: str
    partner_types: frozenset[PartnerType]
    kinds: frozenset[SignalKind]
    total_amount: Decimal
    in_municipality: bool = True
    crisis: bool = False
    warm_handover: bool = False
    age_band: str | None = None
    earlier_outcomes: tuple[Outcome, ...] = ()
    """The outcomes of the household's earlier, closed cases."""
    project_load: Mapping[str, int] = field(default_factory=dict)
    """Households currently in each project (by project id), for projects with a capacity."""
