"""Routing events of a case's stream (``case-<uuid>``): where a case went and why."""

from __future__ import annotations

import uuid
from typing import Self

from pydantic import model_validator

from events.base import DomainEvent
from events.catalogue.vocabulary import Outcome
from events.registry import catalogue


@catalogue.register
class CaseRouted(DomainEvent):
    """The routing rules placed the case with a project's team, or closed it with an outcome.

    Exactly one of ``project`` (with ``team``) and ``outcome`` is set. ``facts`` are the
    PII-free facts the rules were tested on, so the decision can be explained later even
    when the rules have changed since (``rules_version``).
    """

    event_type = "CaseRouted"

    case_id: uuid.UUID
    project: str | None = None
    team: str | None = None
    outcome: Outcome | None = None
    urgent: bool = False
    rule_id: str
    rules_version: str
    explanation: str
    facts: dict[str, str | int | bool | list[str]]
    passed_over: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.project is None) == (self.outcome is None):
            raise ValueError("exactly one of project and outcome must be set")
        if (self.project is None) != (self.team is None):
            raise ValueError("a project needs a team, an outcome has none")
        return self
