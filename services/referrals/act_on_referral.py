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

Every action is recorded by ``act_in_one_unit_of_work`` as a batch of one, so these rules are
written once for the API and for bulk recording; here a refusal is raised instead of reported.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from events.catalogue.referrals import ContactKind, PartOfDay
from events.catalogue.vocabulary import Outcome
from events.store import SqlEventStore
from services.referrals import lifecycle
from services.referrals.act_in_batches import (
    CancelReferral,
    ClaimReferral,
    CloseReferral,
    RecordContactAttempt,
    ReleaseReferral,
    RerouteReferral,
    TeamAction,
    act_in_one_unit_of_work,
)
from services.referrals.lifecycle import Referral
from services.referrals.refusals import (
    MANUAL_REROUTE,
    NotYourReferral,
    ReferralNotFoundError,
    stream_of,
)
from services.routing.config import Projects

__all__ = [
    "MANUAL_REROUTE",
    "NotYourReferral",
    "ReferralActions",
    "ReferralNotFoundError",
    "stream_of",
]


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
        recorded = await self.store.read_stream(stream_of(referral_id))
        if not recorded:
            raise ReferralNotFoundError(referral_id)
        referral = lifecycle.fold(r.event for r in recorded)
        if referral.team != team:
            raise NotYourReferral(referral_id, team)
        return referral

    async def claim(
        self,
        team: str,
        referral_id: uuid.UUID,
        worker_id: str,
        *,
        correlation_id: str | None = None,
    ) -> Referral:
        action = ClaimReferral(team, referral_id, worker_id, self.clock())
        return await self._act(action, correlation_id)

    async def release(
        self,
        team: str,
        referral_id: uuid.UUID,
        reason: str | None,
        *,
        correlation_id: str | None = None,
    ) -> Referral:
        action = ReleaseReferral(team, referral_id, reason, self.clock())
        return await self._act(action, correlation_id)

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
        action = RecordContactAttempt(team, referral_id, kind, reached, attempted_on, part_of_day)
        return await self._act(action, correlation_id)

    async def close(
        self,
        team: str,
        referral_id: uuid.UUID,
        outcome: Outcome,
        closed_on: date,
        *,
        correlation_id: str | None = None,
    ) -> Referral:
        action = CloseReferral(team, referral_id, outcome, closed_on)
        return await self._act(action, correlation_id)

    async def cancel(
        self,
        team: str,
        referral_id: uuid.UUID,
        reason: str | None,
        *,
        correlation_id: str | None = None,
    ) -> Referral:
        """The referral is no longer needed before any contact (debt paid, signal wrong)."""
        action = CancelReferral(team, referral_id, reason, self.clock())
        return await self._act(action, correlation_id)

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
        action = RerouteReferral(team, referral_id, to_project, to_team, reason, self.clock())
        return await self._act(action, correlation_id)

    async def _act(self, action: TeamAction, correlation_id: str | None) -> Referral:
        result = await act_in_one_unit_of_work(
            self.store, [action], projects=self.projects, correlation_id=correlation_id
        )
        if result.refused:
            [(_, refusal)] = result.refused
            raise refusal
        return result.referrals[action.referral_id].referral
