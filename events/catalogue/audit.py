"""Events of the audit trail (``audit-<yyyy-mm-dd>`` streams, DESIGN §9, issue 6 item 4).

Changes are events already, each with its actor in the metadata; a *read* of personal data
changes nothing, so it is recorded here as an event of its own. No personal data: the case
and referral ids, the purpose the reader gave, and the actor (``team:<id>`` with an opaque
worker id, ``beheerder:<id>``) in the metadata.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import StringConstraints

from events.base import DomainEvent
from events.registry import catalogue

Purpose = Annotated[str, StringConstraints(min_length=1, max_length=200)]


@catalogue.register
class PersonalDataViewed(DomainEvent):
    """Someone was shown the personal data of a case (the resident's details and signals)."""

    event_type = "PersonalDataViewed"
    case_id: uuid.UUID
    referral_id: uuid.UUID | None = None
    resource: str
    """What was read, as the API names it (``verwijzing``, ``zaak``)."""
    purpose: Purpose
    """Doelbinding: why it was read, as the reader said (or the default of its role)."""
