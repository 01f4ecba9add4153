"""Routing a case inside intake's transaction: facts from intake's state, a pure decision,
and the events that follow (DESIGN §6, §7).

A case is (re)routed when it opens and whenever a later signal attaches while nobody has
picked it up; a claimed case stays where it is and its team simply sees the new signal.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from events.base import DomainEvent
from events.catalogue.cases import CaseClosed
from events.catalogue.referrals import ReferralCancelled, ReferralRerouted
from events.catalogue.routing import CaseRouted
from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind
from services.intake.decide import CaseState, HouseholdHistory
from services.referrals.lifecycle import request
from services.routing.config import (
    Projects,
    RoutingRules,
    Wijken,
    load_projects,
    load_routing_rules,
    load_wijken,
)
from services.routing.decide import route
from services.routing.facts import CaseFacts


@dataclass(frozen=True)
class RoutedCase:
    """What routing did to a case: events for the case's stream and for referral streams."""

    case_events: list[DomainEvent]
    referral_events: dict[uuid.UUID, list[DomainEvent]]


@dataclass(frozen=True)
class CaseRouter:
    rules: RoutingRules
    projects: Projects
    wijken: Wijken

    @classmethod
    def from_config(cls, config_dir: Path) -> CaseRouter:
        projects = load_projects(config_dir)
        return cls(
            load_routing_rules(config_dir / "routing.toml"),
            projects,
            load_wijken(config_dir, projects),
        )

    def route_case(
        self,
        case: CaseState,
        history: HouseholdHistory,
        project_load: dict[str, int],
        on: date,
        at: datetime | None = None,
    ) -> RoutedCase | None:
        """Route ``case`` and change it in place; None when nothing changes. ``at`` stamps a
        reroute or cancel (default: now); intake passes the store's clock, so the stamp agrees
        with the events' ``recorded_at`` in a simulation too."""
        if case.status != "open" or case.picked_up:
            return None
        decision = route(
            self.facts(case, history, project_load), self.rules, self.projects, self.wijken
        )
        if decision.project == case.project and decision.team == case.team and not decision.outcome:
            return None
        now = at or datetime.now(UTC)
        routed = CaseRouted(
            case_id=case.case_id,
            project=decision.project,
            team=decision.team,
            outcome=decision.outcome,
            urgent=decision.urgent,
            rule_id=decision.rule_id,
            rules_version=decision.rules_version,
            explanation=decision.explanation,
            facts=decision.facts,
            passed_over=decision.passed_over,
        )
        case_events: list[DomainEvent] = [routed]
        referral_events: dict[uuid.UUID, list[DomainEvent]] = {}
        previous = case.referral_id
        if decision.outcome is not None:
            if previous is not None:
                referral_events[previous] = [
                    ReferralCancelled(
                        referral_id=previous, reason=decision.explanation, cancelled_at=now
                    )
                ]
            case_events.append(
                CaseClosed(
                    case_id=case.case_id,
                    outcome=decision.outcome,
                    closed_on=on,
                    reason=decision.explanation,
                )
            )
            self._leave_project(case, project_load)
            case.status, case.outcome, case.referral_id = "closed", decision.outcome.value, None
            case.project = case.team = None
            return RoutedCase(case_events, referral_events)
        assert decision.project is not None
        assert decision.team is not None
        referral_id = uuid.uuid4()
        if previous is not None:
            referral_events[previous] = [
                ReferralRerouted(
                    referral_id=previous,
                    to_project=decision.project,
                    to_team=decision.team,
                    reason=decision.explanation,
                    rerouted_at=now,
                )
            ]
        project = self.projects.get(decision.project)
        referral_events[referral_id] = request(
            referral_id=referral_id,
            case_id=case.case_id,
            project=decision.project,
            team=decision.team,
            urgent=decision.urgent,
            requested_on=on,
            rule_id=decision.rule_id,
            **({"policy": project.sla} if project is not None else {}),
        )
        self._leave_project(case, project_load)
        project_load[decision.project] = project_load.get(decision.project, 0) + 1
        case.project, case.team, case.referral_id = decision.project, decision.team, referral_id
        return RoutedCase(case_events, referral_events)

    @staticmethod
    def _leave_project(case: CaseState, project_load: dict[str, int]) -> None:
        if case.project is not None and project_load.get(case.project, 0) > 0:
            project_load[case.project] -= 1

    @staticmethod
    def facts(
        case: CaseState, history: HouseholdHistory, project_load: dict[str, int]
    ) -> CaseFacts:
        signals = [s for s in history.signals if s.case_id == case.case_id and not s.withdrawn]
        earlier = tuple(
            Outcome(c.outcome)
            for c in history.cases
            if c.case_id != case.case_id and c.status == "closed" and c.outcome
        )
        bands = [s.age_band for s in signals if s.age_band]
        return CaseFacts(
            gemeentecode=case.gemeentecode,
            pc4=case.pc4,
            partner_types=frozenset(PartnerType(s.partner_type) for s in signals if s.partner_type),
            kinds=frozenset(SignalKind(s.kind) for s in signals if s.kind),
            total_amount=sum((s.amount for s in signals), Decimal(0)),
            in_municipality=case.in_municipality,
            crisis=any(s.crisis for s in signals),
            warm_handover=any(s.warm_handover for s in signals),
            age_band=bands[0] if bands else None,
            earlier_outcomes=earlier,
            project_load=dict(project_load),
        )
