"""A team acts on one of its referrals: the use case behind the teams' HTTP API (DESIGN §7).

Each action loads the referral's stream (``referral-<id>``), folds it, runs the pure
lifecycle command of ``services.referrals.lifecycle`` and appends the resulting events with
the version it read as the expected version. A change in between (a colleague's action, or
intake rerouting the unclaimed case) makes the append fail with ``ConcurrencyError``, which
the API answers with 409; nothing is written then.

A claim also marks the case picked up (``household_cases.picked_up``) in the same unit of
work, so later signals for the household no longer re-route it (issue 4, item 2): intake
decides under the store's append lock, and the expected version makes a claim and a
re-route of the same referral exclude each other. A release does not clear the mark: the case
was picked up once (DDAS datum opgepakt stays), and its team keeps it, back in its queue.

Closing or cancelling the referral ends its case in intake's state in the same unit of work
(``household_cases.status`` closed with the outcome, or cancelled): the case's state is derived
from its referral's events, so a later signal of the household opens a new case (and routing
sees the earlier outcome) instead of attaching to a case nobody works on any more.

Ownership is enforced here, not in the adapter: a referral of another team raises
``NotYourReferral`` before any command runs (a team sees and touches only its own queue,
DESIGN §9).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import update

from events.base import DomainEvent
from events.catalogue.referrals import ContactKind, PartOfDay
from events.catalogue.vocabulary import Outcome
from events.envelope import Metadata, NewEvent, StreamState
from events.store import SqlEventStore
from services.intake.tables import household_cases
from services.referrals import lifecycle
from services.referrals.lifecycle import Referral
from services.routing.config import Projects


class ReferralNotFoundError(LookupError):
    """No referral has this id (HTTP 404)."""

    def __init__(self, referral_id: uuid.UUID) -> None:
        self.referral_id = referral_id
        super().__init__(f"referral {referral_id} does not exist")


class NotYourReferral(PermissionError):  # noqa: N818 -- the name issue 4's API uses
    """The referral is in another team's queue (HTTP 403). The message does not say which."""

    def __init__(self, referral_id: uuid.UUID, team: str) -> None:
        self.referral_id = referral_id
        self.team = team
        super().__init__(f"referral {referral_id} is not in the queue of team {team}")


def stream_of(referral_id: uuid.UUID) -> str:
    return f"referral-{referral_id}"


MANUAL_REROUTE = "handmatig-doorverwezen"
"""The rule id on a referral that a team placed by hand."""


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ReferralActions:
    """The commands a team may give on its own referrals, each returning the new state."""

    store: SqlEventStore
    clock: Callable[[], datetime] = field(default=_now)
    projects: Projects | None = None
    """For a reroute: the target project's status and SLA (without: default SLA, no check)."""

    async def load(self, team: str, referral_id: uuid.UUID) -> Referral:
        """The referral as its events left it; only for the team whose queue it is in."""
        referral, _ = await self._load(team, referral_id)
        return referral

    async def claim(
        self,
        team: str,
        referral_id: uuid.UUID,
        worker_id: str,
        *,
        correlation_id: str | None = None,
    ) -> Referral:
        at = self.clock()
        return await self._act(
            team,
            referral_id,
            lambda r: lifecycle.claim(r, worker_id, at),
            correlation_id=correlation_id,
            marks_picked_up=True,
        )

    async def release(
        self,
        team: str,
        referral_id: uuid.UUID,
        reason: str | None,
        *,
        correlation_id: str | None = None,
    ) -> Referral:
        at = self.clock()
        return await self._act(
            team,
            referral_id,
            lambda r: lifecycle.release(r, reason, at),
            correlation_id=correlation_id,
        )

    async def record_contact_attempt(
        self,
        team: str,
        referral_id: uuid.UUID,
        kind: ContactKind,
        reached: bool,
        attempted_on: date,
        part_of_day: PartOfDay | None = None,
        *,
        correlation_id: str | None = None,
    ) -> Referral:
        return await self._act(
            team,
            referral_id,
            lambda r: lifecycle.record_contact_attempt(r, kind, reached, attempted_on, part_of_day),
            correlation_id=correlation_id,
        )

    async def close(
        self,
        team: str,
        referral_id: uuid.UUID,
        outcome: Outcome,
        closed_on: date,
        *,
        correlation_id: str | None = None,
    ) -> Referral:
        return await self._act(
            team,
            referral_id,
            lambda r: lifecycle.close(r, outcome, closed_on),
            correlation_id=correlation_id,
            case_change={"status": "closed", "outcome": outcome.value},
        )

    async def cancel(
        self,
        team: str,
        referral_id: uuid.UUID,
        reason: str | None,
        *,
        correlation_id: str | None = None,
    ) -> Referral:
        """The referral is no longer needed before any contact (debt paid, signal wrong)."""
        at = self.clock()
        return await self._act(
            team,
            referral_id,
            lambda r: lifecycle.cancel(r, reason, at),
            correlation_id=correlation_id,
            case_change={"status": "cancelled"},
        )

    async def reroute(
        self,
        team: str,
        referral_id: uuid.UUID,
        to_project: str,
        to_team: str,
        reason: str | None,
        *,
        correlation_id: str | None = None,
    ) -> Referral:
        """Move the referral to another team's or project's queue, by hand.

        In one transaction: this referral ends (``ReferralRerouted``), a new one is requested
        in the target queue with the target project's SLA, and the case now points at the new
        referral and counts as picked up, so a later signal does not route it again: a person
        decided where it belongs. The target project must exist and be "in uitvoering".
        """
        at = self.clock()
        referral, version = await self._load(team, referral_id)
        ended = lifecycle.reroute(referral, to_project, to_team, reason, at)
        project = self.projects.get(to_project) if self.projects is not None else None
        if self.projects is not None and (project is None or not project.receives_referrals):
            raise lifecycle.InvalidCommandError(
                "to_project", "is not a project that receives referrals (in uitvoering)"
            )
        new_id = uuid.uuid4()
        requested = lifecycle.request(
            referral_id=new_id,
            case_id=referral.case_id,
            project=to_project,
            team=to_team,
            urgent=referral.urgent,
            requested_on=at.date(),
            rule_id=MANUAL_REROUTE,
            **({"policy": project.sla} if project is not None else {}),
        )
        metadata = Metadata(correlation_id=correlation_id, actor=f"team:{team}")
        async with self.store.unit_of_work() as uow:
            await uow.append(
                stream_of(referral_id),
                [NewEvent(event, metadata) for event in ended],
                expected_version=version,
            )
            await uow.append(
                stream_of(new_id),
                [NewEvent(event, metadata) for event in requested],
                expected_version=StreamState.NO_STREAM,
            )
            await uow.connection.execute(
                update(household_cases)
                .where(household_cases.c.referral_id == referral_id)
                .values(project=to_project, team=to_team, referral_id=new_id, picked_up=True)
            )
        for event in ended:
            referral = lifecycle.apply(referral, event)
        return referral

    # -- the one way every command goes -------------------------------------------------------

    async def _load(self, team: str, referral_id: uuid.UUID) -> tuple[Referral, int]:
        recorded = await self.store.read_stream(stream_of(referral_id))
        if not recorded:
            raise ReferralNotFoundError(referral_id)
        referral = lifecycle.fold(r.event for r in recorded)
        if referral.team != team:
            raise NotYourReferral(referral_id, team)
        return referral, recorded[-1].stream_version

    async def _act(
        self,
        team: str,
        referral_id: uuid.UUID,
        decide: Callable[[Referral], list[DomainEvent]],
        *,
        correlation_id: str | None,
        marks_picked_up: bool = False,
        case_change: dict[str, str] | None = None,
    ) -> Referral:
        referral, version = await self._load(team, referral_id)
        events = decide(referral)
        metadata = Metadata(correlation_id=correlation_id, actor=f"team:{team}")
        async with self.store.unit_of_work() as uow:
            await uow.append(
                stream_of(referral_id),
                [NewEvent(event, metadata) for event in events],
                expected_version=version,
            )
            if marks_picked_up:
                await uow.connection.execute(
                    update(household_cases)
                    .where(household_cases.c.referral_id == referral_id)
                    .values(picked_up=True)
                )
            if case_change:
                await uow.connection.execute(
                    update(household_cases)
                    .where(household_cases.c.referral_id == referral_id)
                    .values(**case_change)
                )
        for event in events:
            referral = lifecycle.apply(referral, event)
        return referral
