"""Routing: the shipped default rules, rule order, falling through, config errors, check_rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from events.catalogue.routing import CaseRouted
from events.catalogue.vocabulary import Outcome, PartnerType, SignalKind
from services.config_files import ConfigError
from services.routing import (
    CaseFacts,
    NoRouteError,
    Project,
    Projects,
    RoutingRules,
    Wijk,
    Wijken,
    load_projects,
    load_routing_rules,
    route,
)
from services.routing.check_rules import check_rules, check_rules_document
from services.routing.config import GemeenteTeams, parse_routing_rules

CONFIG = Path(__file__).resolve().parents[2] / "config"

P = PartnerType
K = SignalKind


@pytest.fixture(scope="module")
def shipped() -> tuple[RoutingRules, Projects, Wijken]:
    from services.routing import load_wijken

    projects = load_projects(CONFIG)
    return load_routing_rules(CONFIG / "routing.toml"), projects, load_wijken(CONFIG, projects)


def facts(**changes: Any) -> CaseFacts:
    """A plain case in Almelo Noord: one rent signal of 450 euros, nothing special."""
    base = CaseFacts(
        gemeentecode="0141",
        pc4="7604",
        partner_types=frozenset({P.RENT}),
        kinds=frozenset({K.EARLY_SIGNAL}),
        total_amount=Decimal("450.00"),
        age_band="45-66",
    )
    return replace(base, **changes)


def projects_with(**status: str) -> Projects:
    """The shipped projects, with the status of some changed."""
    return Projects(
        [
            p.model_copy(update={"status": status[p.id.replace("-", "_")]})
            if p.id.replace("-", "_") in status
            else p
            for p in load_projects(CONFIG)
        ]
    )


def rules_from(rules: Sequence[Mapping[str, Any]], version: str = "t1") -> RoutingRules:
    parsed_version, parsed, problems = parse_routing_rules(
        {"version": version, "rule": list(rules)}, "test.toml"
    )
    assert problems == []
    return RoutingRules(parsed_version, parsed)


CASES = [
    # (case facts, rule id, project or outcome, team, urgent)
    (
        facts(total_amount=Decimal("99.99")),
        "onder-drempelbedrag",
        Outcome.UNJUSTIFIED_SIGNAL,
        None,
        False,
    ),
    (facts(pc4="7620"), "buiten-gemeente", Outcome.NOT_A_RESIDENT, None, False),
    (facts(in_municipality=False), "buiten-gemeente", Outcome.NOT_A_RESIDENT, None, False),
    (facts(crisis=True), "crisis", "schuldenspecialisten", "wijkteam-noord", True),
    (
        facts(kinds=frozenset({K.FINAL_DELIVERY_SIGNAL})),
        "eindelevering",
        "schuldenspecialisten",
        "wijkteam-noord",
        True,
    ),
    (
        facts(warm_handover=True, pc4="7601"),
        "warme-overdracht",
        "schuldenspecialisten",
        "wijkteam-zuid",
        True,
    ),
    (
        facts(partner_types=frozenset({P.MORTGAGE})),
        "hypotheek",
        "nvb-vroegsignalering",
        "nvb-almelo",
        False,
    ),
    (
        facts(partner_types=frozenset({P.CAK_HEALTH_INSURANCE})),
        "cak-wanbetaler",
        "rub",
        "rub-twente-almelo",
        False,
    ),
    (
        facts(partner_types=frozenset({P.RENT, P.WATER})),
        "meerdere-partners",
        "schuldenspecialisten",
        "wijkteam-noord",
        False,
    ),
    (
        facts(earlier_outcomes=(Outcome.NO_CONTACT,)),
        "herhaling-zonder-contact",
        "doorbraakmethode",
        "doorbraak-almelo",
        False,
    ),
    (
        facts(earlier_outcomes=(Outcome.NO_RESPONSE_AFTER_CONTACT,)),
        "herhaling-zonder-contact",
        "doorbraakmethode",
        "doorbraak-almelo",
        False,
    ),
    (facts(age_band="18-27"), "jongeren", "jongeren-perspectief-fonds", "jpf-almelo", False),
    (facts(), "vroeg-erop-af", "vroeg-erop-af", "vroeg-erop-af-noord", False),
    (facts(pc4="7608"), "vroeg-erop-af", "vroeg-erop-af", "vroeg-erop-af-centrum", False),
]


@pytest.mark.parametrize(("case", "rule_id", "target", "team", "urgent"), CASES)
def test_every_default_rule_routes_its_cases(
    shipped: tuple[RoutingRules, Projects, Wijken],
    case: CaseFacts,
    rule_id: str,
    target: str,
    team: str | None,
    urgent: bool,
) -> None:
    decision = route(case, *shipped)
    assert decision.rule_id == rule_id
    assert (decision.outcome or decision.project) == target
    assert decision.team == team
    assert decision.urgent is urgent
    assert decision.rules_version == shipped[0].version
    assert decision.explanation


@pytest.mark.parametrize(
    ("case", "rule_id"),
    [
        # Each pair has the facts of several rules: the earlier rule wins.
        (facts(total_amount=Decimal("50"), pc4="7620", crisis=True), "onder-drempelbedrag"),
        (facts(pc4="7620", crisis=True), "buiten-gemeente"),
        (facts(crisis=True, partner_types=frozenset({P.MORTGAGE})), "crisis"),
        (facts(partner_types=frozenset({P.MORTGAGE, P.CAK_HEALTH_INSURANCE})), "hypotheek"),
        (facts(partner_types=frozenset({P.CAK_HEALTH_INSURANCE, P.RENT})), "cak-wanbetaler"),
        (facts(partner_types=frozenset({P.RENT, P.ENERGY}), age_band="18-27"), "meerdere-partners"),
        (
            facts(earlier_outcomes=(Outcome.NO_CONTACT,), age_band="18-27"),
            "herhaling-zonder-contact",
        ),
    ],
)
def test_the_first_matching_rule_wins(
    shipped: tuple[RoutingRules, Projects, Wijken], case: CaseFacts, rule_id: str
) -> None:
    assert route(case, *shipped).rule_id == rule_id


def test_the_threshold_is_below_not_at(shipped: tuple[RoutingRules, Projects, Wijken]) -> None:
    assert route(facts(total_amount=Decimal("100.00")), *shipped).rule_id == "vroeg-erop-af"


def test_an_earlier_successful_case_is_no_reason_for_doorbraak(
    shipped: tuple[RoutingRules, Projects, Wijken],
) -> None:
    case = facts(earlier_outcomes=(Outcome.ADVICE_OR_QUICK_FIX,))
    assert route(case, *shipped).rule_id == "vroeg-erop-af"


def test_a_full_doorbraakmethode_falls_through_to_the_next_rule(
    shipped: tuple[RoutingRules, Projects, Wijken],
) -> None:
    failed = (Outcome.NO_CONTACT,)
    room = route(facts(earlier_outcomes=failed, project_load={"doorbraakmethode": 374}), *shipped)
    full = route(
        facts(earlier_outcomes=failed, age_band="18-27", project_load={"doorbraakmethode": 375}),
        *shipped,
    )
    assert room.project == "doorbraakmethode"
    assert full.project == "jongeren-perspectief-fonds"
    assert full.facts["households_in:doorbraakmethode"] == 375


@pytest.mark.parametrize("status", ["in voorbereiding", "gestopt"])
def test_a_project_not_in_uitvoering_receives_nothing(
    shipped: tuple[RoutingRules, Projects, Wijken], status: str
) -> None:
    rules, _, wijken = shipped
    projects = projects_with(nvb_vroegsignalering=status)
    decision = route(facts(partner_types=frozenset({P.MORTGAGE})), rules, projects, wijken)
    assert decision.project == "vroeg-erop-af"
    assert decision.passed_over == (f"hypotheek: project nvb-vroegsignalering is {status}",)


def test_a_rule_for_a_full_project_falls_through_even_without_a_capacity_condition() -> None:
    projects = Projects(
        [
            Project(id="a", name="A", debt_phase="curatie", status="in uitvoering", capacity=1),
            Project(id="b", name="B", debt_phase="curatie", status="in uitvoering"),
        ]
    )
    wijken = Wijken(
        [Wijk(id="w", name="W", gemeentecode="0141", pc4=("7604",), teams={"a": "ta", "b": "tb"})]
    )
    rules = rules_from(
        [
            {"id": "first", "then": "a", "explanation": "A first."},
            {"id": "rest", "then": "b", "explanation": "Else B."},
        ]
    )
    assert route(facts(project_load={"a": 0}), rules, projects, wijken).team == "ta"
    assert route(facts(project_load={"a": 1}), rules, projects, wijken).team == "tb"


def test_no_matching_rule_is_an_error_not_a_lost_case() -> None:
    projects = Projects([Project(id="a", name="A", debt_phase="curatie", status="gestopt")])
    wijken = Wijken([], [GemeenteTeams(code="0141", teams={"a": "ta"})])
    rules = rules_from([{"id": "only", "then": "a", "explanation": "A."}])
    with pytest.raises(NoRouteError, match="only: project a is gestopt"):
        route(facts(), rules, projects, wijken)


def test_the_decision_records_pii_free_facts_that_fit_case_routed(
    shipped: tuple[RoutingRules, Projects, Wijken],
) -> None:
    decision = route(facts(partner_types=frozenset({P.WATER, P.RENT}), crisis=True), *shipped)
    assert decision.facts == {
        "gemeentecode": "0141",
        "pc4": "7604",
        "wijk": "noord",
        "in_municipality": True,
        "partner_types": ["Huur", "Water"],
        "distinct_partner_types": 2,
        "kinds": ["vroegsignaal"],
        "total_amount": "450.00",
        "crisis": True,
        "warm_handover": False,
        "age_band": "45-66",
        "earlier_outcomes": [],
    }
    import uuid

    event = CaseRouted(
        case_id=uuid.uuid4(),
        project=decision.project,
        team=decision.team,
        urgent=decision.urgent,
        rule_id=decision.rule_id,
        rules_version=decision.rules_version,
        explanation=decision.explanation,
        facts=decision.facts,
    )
    assert CaseRouted.model_validate_json(event.to_json()) == event


def test_case_routed_needs_exactly_one_target() -> None:
    import uuid

    with pytest.raises(ValueError, match="exactly one of project and outcome"):
        CaseRouted(
            case_id=uuid.uuid4(),
            project="rub",
            team="t",
            outcome=Outcome.NOT_A_RESIDENT,
            rule_id="r",
            rules_version="1",
            explanation="x",
            facts={},
        )


# --- configuration errors name file, rule and field -------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            'id = "x"\nwhen = { crisis = "ja" }\nthen = "rub"\nexplanation = "e"',
            "rule x: when.crisis: Input should be a valid boolean",
        ),
        (
            'id = "x"\nwhen = { partner_type = ["Huur"] }\nthen = "rub"\nexplanation = "e"',
            "rule x: when: Value error, unknown condition field(s) partner_type; known: "
            "gemeentecode_in, in_municipality,",
        ),
        (
            'id = "x"\nwhen = { kinds_any = ["spoed"] }\nthen = "rub"\nexplanation = "e"',
            "rule x: when.kinds_any.0: Input should be",
        ),
        (
            'id = "x"\nthen = "Inwoner is overleden"\nexplanation = "e"',
            'rule x: then: Value error, "Inwoner is overleden" cannot be a routing target',
        ),
        ('id = "x"\nthen = "rub"', "rule x: explanation: Field required"),
        ('then = "rub"\nexplanation = "e"', "rule #1: id: Field required"),
    ],
)
def test_invalid_rules_are_reported_with_file_rule_and_field(
    tmp_path: Path, rule: str, expected: str
) -> None:
    path = tmp_path / "routing.toml"
    path.write_text(f'version = "1"\n\n[[rule]]\n{rule}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_routing_rules(path)
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value)


# --- check_rules finds each kind of problem ---------------------------------------------------


def _check(rules: list[dict[str, Any]]) -> list[str]:
    return check_rules(rules_from(rules), load_projects(CONFIG))


CATCH_ALL = {"id": "rest", "then": "vroeg-erop-af", "explanation": "Else."}


def test_the_shipped_rules_have_no_problems(shipped: tuple[RoutingRules, Projects, Wijken]) -> None:
    assert check_rules(shipped[0], shipped[1]) == []


def test_check_finds_an_unknown_project() -> None:
    problems = _check([{"id": "x", "then": "schuldhulp", "explanation": "e"}, CATCH_ALL])
    assert problems == [
        "rule x: then: unknown project schuldhulp (known: vroeg-erop-af, schuldenspecialisten, "
        "nvb-vroegsignalering, rub, doorbraakmethode, jongeren-perspectief-fonds)"
    ]


def test_check_finds_an_unknown_project_in_a_capacity_condition() -> None:
    rule = {"id": "x", "when": {"project_has_capacity": "nope"}, "then": "rub", "explanation": "e"}
    assert _check([rule, CATCH_ALL])[0].startswith("rule x: when.project_has_capacity: unknown")


def test_check_finds_a_rule_behind_a_rule_without_conditions() -> None:
    problems = _check([CATCH_ALL, {"id": "late", "then": "rub", "explanation": "e"}])
    assert problems[0] == (
        "rule late: can never be reached: rule rest comes first, has no conditions and always "
        "matches"
    )


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        ({"crisis": True}, {"crisis": True, "age_band_in": ["18-27"]}),
        ({"partner_types_any": ["Huur", "Water"]}, {"partner_types_any": ["Huur"]}),
        ({"distinct_partner_types_min": 2}, {"distinct_partner_types_min": 3}),
        ({"total_amount_below": 100}, {"total_amount_below": 50}),
    ],
)
def test_check_finds_a_rule_shadowed_by_an_earlier_rule_with_a_subset_of_its_conditions(
    earlier: dict[str, Any], later: dict[str, Any]
) -> None:
    problems = _check(
        [
            {"id": "first", "when": earlier, "then": "schuldenspecialisten", "explanation": "e"},
            {"id": "second", "when": later, "then": "rub", "explanation": "e"},
            CATCH_ALL,
        ]
    )
    assert len(problems) == 1
    assert problems[0].startswith("rule second: can never be reached: rule first comes first")


def test_a_rule_behind_a_capacity_limited_rule_is_reachable() -> None:
    # Doorbraakmethode can be full, and then the next rule with the same conditions applies.
    problems = _check(
        [
            {
                "id": "first",
                "when": {"crisis": True},
                "then": "doorbraakmethode",
                "explanation": "e",
            },
            {"id": "second", "when": {"crisis": True}, "then": "rub", "explanation": "e"},
            CATCH_ALL,
        ]
    )
    assert problems == []


def test_check_finds_a_missing_catch_all() -> None:
    problems = _check([{"id": "x", "when": {"crisis": True}, "then": "rub", "explanation": "e"}])
    assert problems == [
        "rule x: the last rule is not a catch-all (empty `when` and a project in uitvoering "
        "without capacity limit, or an outcome): some cases match no rule"
    ]


def test_check_document_reports_invalid_rules_and_the_known_fields() -> None:
    data: dict[str, object] = {
        "version": "1",
        "rule": [
            {"id": "x", "when": {"leeftijd": "18-27"}, "then": "rub", "explanation": "e"},
            {"id": "y", "then": "onbekend", "explanation": "e"},
            CATCH_ALL,
        ],
    }
    problems = check_rules_document(data, load_projects(CONFIG), "r.toml")
    assert len(problems) == 2
    assert problems[0].startswith("r.toml: rule x: when: Value error, unknown condition field(s)")
    assert "known: gemeentecode_in" in problems[0]
    assert problems[1].startswith("r.toml: rule y: then: unknown project onbekend")


def test_check_document_reports_duplicate_ids_and_a_missing_version() -> None:
    data: dict[str, object] = {"rule": [CATCH_ALL, CATCH_ALL]}
    problems = check_rules_document(data, load_projects(CONFIG), "r.toml")
    assert problems == [
        'r.toml: version: required, a string such as "2026-11-28.1"',
        "r.toml: rule id(s) used twice: rest",
    ]
