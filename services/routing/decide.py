"""The routing decision: a pure function from case facts and configuration to a target."""

from __future__ import annotations

from dataclasses import dataclass, field

from events.catalogue.vocabulary import Outcome
from services.routing.conditions import Situation
from services.routing.config import Projects, RoutingRules, Wijk, Wijken
from services.routing.facts import CaseFacts

FactValue = str | int | bool | list[str]


class NoRouteError(Exception):
    """No rule matched; a rules file without a working catch-all (see ``check_rules``)."""


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """Where a case goes and why: either a project and team, or an outcome that closes it."""

    rule_id: str
    rules_version: str
    explanation: str
    facts: dict[str, FactValue]
    """The facts the rules were tested on, PII-free, as recorded in ``CaseRouted``."""
    project: str | None = None
    team: str | None = None
    outcome: Outcome | None = None
    urgent: bool = False
    passed_over: tuple[str, ...] = field(default=())
    """Rules whose conditions held but whose project could not take the case, and why."""


def route(
    facts: CaseFacts, rules: RoutingRules, projects: Projects, wijken: Wijken
) -> RoutingDecision:
    """Test the rules in order; the first that holds and can take the case decides.

    A rule for a project that is not "in uitvoering", that is full, or that has no team for
    the case's wijk does not match: routing falls through to the next rule, and the decision
    names the rules passed over so that ``rules explain`` can tell the whole story.
    """
    wijk = wijken.for_pc4(facts.gemeentecode, facts.pc4)
    # A PC4 that no wijk covers is outside the municipality, whatever intake thought.
    in_municipality = facts.in_municipality and wijk is not None

    def has_capacity(project_id: str) -> bool:
        project = projects.get(project_id)
        return project is not None and project.has_room(facts.project_load.get(project_id, 0))

    situation = Situation(facts, in_municipality, has_capacity)
    passed_over: list[str] = []
    for rule in rules.compiled:
        if not all(test(situation) for test in rule.predicates):
            continue
        project_id = rule.project
        if project_id is None:
            return RoutingDecision(
                rule_id=rule.id,
                rules_version=rules.version,
                explanation=rule.explanation,
                facts=facts_used(facts, wijk, in_municipality),
                outcome=rule.outcome,
                urgent=rule.urgent,
                passed_over=tuple(passed_over),
            )
        project = projects.get(project_id)
        if project is None:
            passed_over.append(f"{rule.id}: project {project_id} is not configured")
            continue
        if not project.receives_referrals:
            passed_over.append(f"{rule.id}: project {project_id} is {project.status}")
            continue
        if not has_capacity(project_id):
            passed_over.append(
                f"{rule.id}: project {project_id} is at capacity ({project.capacity})"
            )
            continue
        team = wijken.team(wijk, project_id) if wijk is not None else None
        if team is None:
            passed_over.append(f"{rule.id}: no team of project {project_id} serves PC4 {facts.pc4}")
            continue
        return RoutingDecision(
            rule_id=rule.id,
            rules_version=rules.version,
            explanation=rule.explanation,
            facts=facts_used(facts, wijk, in_municipality),
            project=project_id,
            team=team,
            urgent=rule.urgent,
            passed_over=tuple(passed_over),
        )
    raise NoRouteError(
        f"routing rules {rules.version}: no rule matched ({'; '.join(passed_over) or 'none held'})"
    )


def facts_used(facts: CaseFacts, wijk: Wijk | None, in_municipality: bool) -> dict[str, FactValue]:
    """The facts as recorded with the decision: PC4 and age band at most, never a person."""
    used: dict[str, FactValue] = {
        "gemeentecode": facts.gemeentecode,
        "pc4": facts.pc4,
        "wijk": wijk.id if wijk is not None else "",
        "in_municipality": in_municipality,
        "partner_types": sorted(str(t) for t in facts.partner_types),
        "distinct_partner_types": len(facts.partner_types),
        "kinds": sorted(str(k) for k in facts.kinds),
        "total_amount": str(facts.total_amount),
        "crisis": facts.crisis,
        "warm_handover": facts.warm_handover,
        "age_band": facts.age_band or "",
        "earlier_outcomes": sorted({str(o) for o in facts.earlier_outcomes}),
    }
    for project_id, households in sorted(facts.project_load.items()):
        used[f"households_in:{project_id}"] = households
    return used
