"""Events of a referral's stream: one case placed in one team's queue of one project (DESIGN §7).

No event carries personal data: the resident is reached through ``case_id``, the worker is
an opaque id, and reasons are short work notes (see ``Reason``).
"""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, StringConstraints

from events.base import DomainEvent
from events.catalogue.vocabulary import Outcome
from events.registry import catalogue


class ContactKind(StrEnum):
    """DDAS EnumContactsoort: how the municipality tried to reach the resident."""

    MAIL = "Mail"
    LETTER = "Brief"
    TEXT_MESSAGE = "SMS/Whatsapp"
    PHONE = "Telefoon"
    HOME_VISIT = "Huisbezoek"
    CARD = "Kaartje"
    OTHER = "Overige"
    ADMINISTRATIVE = "Administratief"


class PartOfDay(StrEnum):
    """DDAS EnumDagdeel."""

    MORNING = "Ochtend"
    AFTERNOON = "Middag"
    EVENING = "Avond"


WorkerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:@-]{1,64}$")]
"""An opaque id of a worker in the team's own system. No spaces are allowed, which keeps a
full name ("Jan de Vries") out of the event store by construction."""

Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]
"""Why a referral was released, rerouted or cancelled: a short work note, not a case file.
The state machine refuses a blank reason before an event is built."""

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
"""A project or team id as configured (``vroeg-erop-af``, ``wijkteam-noord``)."""


@catalogue.register
class ReferralRequested(DomainEvent):
    """Routing placed a case in a team's queue; the SLA due dates are fixed at this moment."""

    event_type = "ReferralRequested"

    referral_id: uuid.UUID
    case_id: uuid.UUID
    project: Slug
    team: Slug
    urgent: bool
    requested_on: date
    first_contact_due: date
    closure_due: date
    rule_id: str


@catalogue.register
class ReferralClaimed(DomainEvent):
    """A worker took the referral (DDAS datum opgepakt)."""

    event_type = "ReferralClaimed"

    referral_id: uuid.UUID
    worker_id: WorkerId
    claimed_at: AwareDatetime


@catalogue.register
class ContactAttemptRecorded(DomainEvent):
    """One try to reach the resident (DDAS contactpoging). ``part_of_day`` is optional, as in
    DDAS: an administrative attempt has none."""

    event_type = "ContactAttemptRecorded"

    referral_id: uuid.UUID
    kind: ContactKind
    reached: bool
    attempted_on: date
    part_of_day: PartOfDay | None = None


@catalogue.register
class ReferralClosed(DomainEvent):
    """The team finished the referral with a DDAS eindresultaat."""

    event_type = "ReferralClosed"

    referral_id: uuid.UUID
    outcome: Outcome
    closed_on: date


@catalogue.register
class ReferralReleased(DomainEvent):
    """The worker gave the referral back to the team queue."""

    event_type = "ReferralReleased"

    referral_id: uuid.UUID
    reason: Reason
    released_at: AwareDatetime


@catalogue.register
class ReferralRerouted(DomainEvent):
    """The referral belongs to another team or project; this referral ends here and routing
    places a new one in the target queue."""

    event_type = "ReferralRerouted"

    referral_id: uuid.UUID
    to_project: Slug
    to_team: Slug
    reason: Reason
    rerouted_at: AwareDatetime


@catalogue.register
class ReferralCancelled(DomainEvent):
    """The referral is no longer needed (signal withdrawn, debt paid) before any contact."""

    event_type = "ReferralCancelled"

    referral_id: uuid.UUID
    reason: Reason
    cancelled_at: AwareDatetime
