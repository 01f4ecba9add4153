"""Privacy events (``personal-data-<owner id>`` streams, DESIGN §9, issue 6).

Erasing personal data is crypto-shredding: the owner's data key is destroyed, the sealed
records stay unreadable, and every other event stays as it was — counts and outcomes do not
change. This event records that it happened, why, and under which rule. No personal data:
the household id (random), the number of records, an opaque actor id.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import StringConstraints

from events.base import DomainEvent
from events.registry import catalogue

Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]


@catalogue.register
class PersonalDataErased(DomainEvent):
    """A household's (or a rejected input's) data key was erased: its records are gone."""

    event_type = "PersonalDataErased"

    household_id: uuid.UUID
    """The key owner: a household, or for a rejected input its rejection id."""
    reason: Reason
    rule: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    """The retention rule that expired (``default``, ``outcome:<name>``, ``cancelled``,
    ``rejected``), or ``verzoek`` for a request of the person (AVG art. 17)."""
    records: int
    """How many personal-data records became unreadable."""
    requested_by: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    """Who asked: an opaque actor id such as ``cli:<os user>`` or ``retention``, not a name."""
