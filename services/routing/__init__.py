"""Routing (DESIGN §6): which project and team a case goes to, or which outcome closes it.

The decision is a pure function over plain facts (``decide.route``); the rules, projects and
wijken are configuration (``config``), and ``check_rules`` finds mistakes in a rules file.
"""

from services.routing.config import (
    Project,
    Projects,
    RoutingRules,
    Rule,
    Wijk,
    Wijken,
    load_projects,
    load_routing_rules,
    load_wijken,
)
from services.routing.decide import NoRouteError, RoutingDecision, route
from services.routing.facts import CaseFacts

__all__ = [
    "CaseFacts",
    "NoRouteError",
    "Project",
    "Projects",
    "RoutingDecision",
    "RoutingRules",
    "Rule",
    "Wijk",
    "Wijken",
    "load_projects",
    "load_routing_rules",
    "load_wijken",
    "route",
]
