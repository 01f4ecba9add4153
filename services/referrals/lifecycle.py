"""The referral state machine (DESIGN §7): pure functions over plain data, no I/O.

States::

    requested ──claim──▶ claimed ──contact attempt──▶ in_progress ──close──▶ closed
        ▲                   │                              │
        └──────release──────┴──────────release─────────────┘
    requested / claimed / in_progress ──reroute──▶ rerouted
    requested / claimed               ──cancel───▶ cancelled

Decisions:

* **Release** is a transition, not a state: the referral is ``requested`` again, back in the
  team queue. Its contact attempts stay (they happened, and bereik counts them), so a
  re-claim of a referral with attempts goes straight to ``in_progress``. ``claimed`` thus
  always means "taken, no contact attempt yet". SLA due dates do not restart.
* **Contact attempts** need a worker: they are refused while ``requested``.
* **Close** needs a claim (``claimed`` or ``in_progress``): an outcome is a worker's
  judgement, and DDAS reports a pick-up date for it. Outcomes that presuppose contact are
  refused without it; see ``close``.
* **Reroute** is allowed from every open state (a team may find out late that the case is
  not theirs); it ends this referral, and routing creates a new one for the target queue.
* **Cancel** (signal withdrawn, paid before pick-up) is allowed only before any contact
  attempt (``requested`` or ``claimed``). Once the municipality has tried to reach the
  resident, the episode is on record and must end with a DDAS outcome instead, e.g.
  "Inwoner heeft zelf al betaald/betalingsregeling getroffen", so that it is reported.
* ``closed``, ``rerouted`` and ``cancelled`` are final: every command is refused. A
  correction is a new event (its shape is not designed yet), never a change of this state.

Every command returns the events to append; ``apply`` folds an event into the state.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from events.base import DomainEvent
from events.catalogue.referrals import (
    ContactAttemptRecorded,
    ContactKind,
    PartOfDay,
    ReferralCancelled,
    ReferralClaimed,
    ReferralClosed,
    ReferralReleased,
    ReferralRequested,
    ReferralRerouted,
)
from events.catalogue.vocabulary import Outcome
from services.referrals.sla import DEFAULT_SLA, SlaTerms, due_dates


class ReferralState(StrEnum):
    REQUESTED = "requested"
    CLAIMED = "claimed"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    REROUTED = "rerouted"
    CANCELLED = "cancelled"


class Command(StrEnum):
    CLAIM = "claim"
    RECORD_CONTACT_ATTEMPT = "record_contact_attempt"
    CLOSE = "close"
    RELEASE = "release"
    REROUTE = "reroute"
    CANCEL = "cancel"


FINAL_STATES = frozenset({ReferralState.CLOSED, ReferralState.REROUTED, ReferralState.CANCELLED})

ALLOWED: dict[ReferralState, frozenset[Command]] = {
    ReferralState.REQUESTED: frozenset({Command.CLAIM, Command.REROUTE, Command.CANCEL}),
    ReferralState.CLAIMED: frozenset(
        {
            Command.RECORD_CONTACT_ATTEMPT,
            Command.CLOSE,
            Command.RELEASE,
            Command.REROUTE,
            Command.CANCEL,
        }
    ),
    ReferralState.IN_PROGRESS: frozenset(
        {Command.RECORD_CONTACT_ATTEMPT, Command.CLOSE, Command.RELEASE, Command.REROUTE}
    ),
    ReferralState.CLOSED: frozenset(),
    ReferralState.REROUTED: frozenset(),
    ReferralState.CANCELLED: frozenset(),
}
"""Which command each state accepts; everything else is refused with ``TransitionRefused``."""

OUTCOMES_NEEDING_REACHED_CONTACT = frozenset(
    {
        Outcome.ADVICE_OR_QUICK_FIX,
        Outcome.FOLLOW_UP_FINANCIAL,
        Outcome.FOLLOW_UP_NON_FINANCIAL,
        Outcome.NO_RESPONSE_AFTER_CONTACT,
    }
)
"""Help was accepted, or "no reply after earlier contact": both say the resident was reached.
Hulpacceptatie (DESIGN §8) divides the three help outcomes by the cases with a reaching
attempt; without this rule it could exceed 100 %."""

OUTCOMES_NEEDING_UNANSWERED_ATTEMPT = frozenset({Outcome.NO_CONTACT})
""""Definitief geen contact kunnen krijgen" needs at least one attempt (nobody can give up
without trying) and none that reached the resident (then it is "Geen reactie na eerder
contact"); this keeps the no-contact rate and bereik from contradicting each other."""

_WORKER_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class ReferralError(ValueError):
    """A referral command cannot be carried out."""


class TransitionRefused(ReferralError):  # noqa: N818 -- the name issue 4 uses
    """The command is not allowed in the referral's current state (HTTP 409)."""

    def __init__(
        self, referral_id: uuid.UUID, state: ReferralState, command: Command, detail: str = ""
    ) -> None:
        self.referral_id = referral_id
        self.state = state
        self.command = command
        self.allowed = ALLOWED[state]
        allowed = ", ".join(sorted(self.allowed)) or "nothing (the referral is final)"
        because = f" because {detail}" if detail else ""
        super().__init__(
            f"referral {referral_id} is {state}: {command} is refused{because}; "
            f"allowed from {state}: {allowed}"
        )


class InvalidCommandError(ReferralError):
    """A command's input is wrong whatever the state (HTTP 400); ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class MissingReasonError(InvalidCommandError):
    def __init__(self, command: Command) -> None:
        super().__init__("reason", f"a reason is required to {command} a referral")


@dataclass(frozen=True, slots=True)
class ContactAttempt:
    kind: ContactKind
    reached: bool
    attempted_on: date
    part_of_day: PartOfDay | None


@dataclass(frozen=True, slots=True)
class Referral:
    """A referral as its events left it."""

    referral_id: uuid.UUID
    case_id: uuid.UUID
    project: str
    team: str
    urgent: bool
    rule_id: str
    requested_on: date
    first_contact_due: date
    closure_due: date
    state: ReferralState = ReferralState.REQUESTED
    worker_id: str | None = None
    claimed_at: datetime | None = None
    # DDAS datum opgepakt is the first pick-up; a release and re-claim does not move it.
    first_claimed_at: datetime | None = None
    attempts: tuple[ContactAttempt, ...] = ()
    release_count: int = 0
    outcome: Outcome | None = None
    closed_on: date | None = None
    end_reason: str | None = None
    rerouted_to: tuple[str, str] | None = None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def reached(self) -> bool:
        return any(attempt.reached for attempt in self.attempts)

    @property
    def allowed_commands(self) -> frozenset[Command]:
        return ALLOWED[self.state]


# -- commands ---------------------------------------------------------------------------


def request(
    *,
    referral_id: uuid.UUID,
    case_id: uuid.UUID,
    project: str,
    team: str,
    urgent: bool,
    requested_on: date,
    rule_id: str,
    policy: SlaTerms = DEFAULT_SLA,
) -> list[DomainEvent]:
    """Place a case in a team's queue, with due dates from the project's SLA."""
    due = due_dates(requested_on, urgent=urgent, policy=policy)
    return [
        ReferralRequested(
            referral_id=referral_id,
            case_id=case_id,
            project=project,
            team=team,
            urgent=urgent,
            requested_on=requested_on,
            first_contact_due=due.first_contact_due,
            closure_due=due.closure_due,
            rule_id=rule_id,
        )
    ]


def claim(referral: Referral, worker_id: str, at: datetime) -> list[DomainEvent]:
    """A worker takes the referral. Only from ``requested``: taking over a claimed referral
    from a colleague is a release followed by a claim, so the hand-over is on record."""
    _require(referral, Command.CLAIM)
    if not _WORKER_ID.fullmatch(worker_id):
        raise InvalidCommandError(
            "worker_id", "must be an opaque id (letters, digits, . _ : @ -), never a name"
        )
    _require_aware("at", at)
    return [ReferralClaimed(referral_id=referral.referral_id, worker_id=worker_id, claimed_at=at)]


def record_contact_attempt(
    referral: Referral,
    kind: ContactKind,
    reached: bool,
    attempted_on: date,
    part_of_day: PartOfDay | None = None,
) -> list[DomainEvent]:
    """Record one try to reach the resident; the first one moves ``claimed`` to
    ``in_progress``."""
    _require(referral, Command.RECORD_CONTACT_ATTEMPT)
    if attempted_on < referral.requested_on:
        raise InvalidCommandError(
            "attempted_on", f"must not be before the request on {referral.requested_on}"
        )
    return [
        ContactAttemptRecorded(
            referral_id=referral.referral_id,
            kind=kind,
            reached=reached,
            attempted_on=attempted_on,
            part_of_day=part_of_day,
        )
    ]


def close(referral: Referral, outcome: Outcome, closed_on: date) -> list[DomainEvent]:
    """Finish the referral with a DDAS eindresultaat.

    Refused while ``requested`` (nobody has taken responsibility for it yet). An outcome in
    ``OUTCOMES_NEEDING_REACHED_CONTACT`` needs an attempt that reached the resident, and
    "Definitief geen contact kunnen krijgen" needs attempts none of which reached them: an
    outcome that contradicts the recorded attempts would make the bereik, hulpacceptatie
    and no-contact figures of DESIGN §8 inconsistent.
    """
    _require(referral, Command.CLOSE)
    if outcome in OUTCOMES_NEEDING_REACHED_CONTACT and not referral.reached:
        raise TransitionRefused(
            referral.referral_id,
            referral.state,
            Command.CLOSE,
            f"outcome {outcome.value!r} needs a contact attempt that reached the resident",
        )
    if outcome in OUTCOMES_NEEDING_UNANSWERED_ATTEMPT:
        if not referral.attempts:
            raise TransitionRefused(
                referral.referral_id,
                referral.state,
                Command.CLOSE,
                f"outcome {outcome.value!r} needs at least one contact attempt",
            )
        if referral.reached:
            raise TransitionRefused(
                referral.referral_id,
                referral.state,
                Command.CLOSE,
                f"outcome {outcome.value!r} contradicts an attempt that reached the resident "
                f"(use {Outcome.NO_RESPONSE_AFTER_CONTACT.value!r})",
            )
    earliest = max([referral.requested_on, *(a.attempted_on for a in referral.attempts)])
    if closed_on < earliest:
        raise InvalidCommandError(
            "closed_on", f"must not be before {earliest} (the request or the last attempt)"
        )
    return [ReferralClosed(referral_id=referral.referral_id, outcome=outcome, closed_on=closed_on)]


def release(referral: Referral, reason: str | None, at: datetime) -> list[DomainEvent]:
    """Give the referral back to the team queue (``requested`` again)."""
    _require(referral, Command.RELEASE)
    text = _require_reason(reason, Command.RELEASE)
    _require_aware("at", at)
    return [ReferralReleased(referral_id=referral.referral_id, reason=text, released_at=at)]


def reroute(
    referral: Referral, to_project: str, to_team: str, reason: str | None, at: datetime
) -> list[DomainEvent]:
    """End this referral because it belongs in another team's or project's queue."""
    _require(referral, Command.REROUTE)
    text = _require_reason(reason, Command.REROUTE)
    _require_aware("at", at)
    for field, value in (("to_project", to_project), ("to_team", to_team)):
        if not _SLUG.fullmatch(value):
            raise InvalidCommandError(field, "must be a configured id (lower case, digits, -)")
    if (to_project, to_team) == (referral.project, referral.team):
        raise InvalidCommandError("to_team", "must differ from the current team or project")
    return [
        ReferralRerouted(
            referral_id=referral.referral_id,
            to_project=to_project,
            to_team=to_team,
            reason=text,
            rerouted_at=at,
        )
    ]


def cancel(referral: Referral, reason: str | None, at: datetime) -> list[DomainEvent]:
    """Withdraw the referral before any contact attempt (see the module docstring)."""
    _require(referral, Command.CANCEL)
    text = _require_reason(reason, Command.CANCEL)
    _require_aware("at", at)
    return [ReferralCancelled(referral_id=referral.referral_id, reason=text, cancelled_at=at)]


# -- folding events into state ------------------------------------------------------------


def apply(referral: Referral | None, event: DomainEvent) -> Referral:
    """The state after ``event``. Events are facts that passed a command once, so they are
    not checked again here; only a stream that does not start with ``ReferralRequested`` is
    rejected."""
    if isinstance(event, ReferralRequested):
        if referral is not None:
            raise ValueError(f"referral {referral.referral_id} was already requested")
        return Referral(
            referral_id=event.referral_id,
            case_id=event.case_id,
            project=event.project,
            team=event.team,
            urgent=event.urgent,
            rule_id=event.rule_id,
            requested_on=event.requested_on,
            first_contact_due=event.first_contact_due,
            closure_due=event.closure_due,
        )
    if referral is None:
        raise ValueError(f"a referral stream must start with ReferralRequested, not {event!r}")
    return _apply_change(referral, event)


def _apply_change(referral: Referral, event: DomainEvent) -> Referral:
    match event:
        case ReferralClaimed(worker_id=worker_id, claimed_at=claimed_at):
            return replace(
                referral,
                state=ReferralState.IN_PROGRESS if referral.attempts else ReferralState.CLAIMED,
                worker_id=worker_id,
                claimed_at=claimed_at,
                first_claimed_at=referral.first_claimed_at or claimed_at,
            )
        case ContactAttemptRecorded():
            attempt = ContactAttempt(
                kind=event.kind,
                reached=event.reached,
                attempted_on=event.attempted_on,
                part_of_day=event.part_of_day,
            )
            return replace(
                referral,
                state=ReferralState.IN_PROGRESS,
                attempts=(*referral.attempts, attempt),
            )
        case ReferralClosed(outcome=outcome, closed_on=closed_on):
            return replace(
                referral, state=ReferralState.CLOSED, outcome=outcome, closed_on=closed_on
            )
        case ReferralReleased():
            return replace(
                referral,
                state=ReferralState.REQUESTED,
                worker_id=None,
                claimed_at=None,
                release_count=referral.release_count + 1,
                end_reason=None,
            )
        case ReferralRerouted(to_project=to_project, to_team=to_team, reason=reason):
            return replace(
                referral,
                state=ReferralState.REROUTED,
                end_reason=reason,
                rerouted_to=(to_project, to_team),
            )
        case ReferralCancelled(reason=reason):
            return replace(referral, state=ReferralState.CANCELLED, end_reason=reason)
    raise ValueError(f"{type(event).__name__} is not a referral event")


def fold(events: Iterable[DomainEvent]) -> Referral:
    """The referral a stream of events describes."""
    referral: Referral | None = None
    for event in events:
        referral = apply(referral, event)
    if referral is None:
        raise ValueError("an empty stream describes no referral")
    return referral


# -- guards -------------------------------------------------------------------------------


def _require(referral: Referral, command: Command) -> None:
    if command not in ALLOWED[referral.state]:
        raise TransitionRefused(referral.referral_id, referral.state, command)


def _require_reason(reason: str | None, command: Command) -> str:
    text = (reason or "").strip()
    if not text:
        raise MissingReasonError(command)
    if len(text) > 500:
        raise InvalidCommandError("reason", "must be at most 500 characters (a work note, no file)")
    return text


def _require_aware(field: str, moment: datetime) -> None:
    # A naive time is ambiguous around the DST switch; the store keeps instants.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidCommandError(field, "must carry a time zone")
