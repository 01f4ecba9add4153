"""Projects, wijken and routing rules as configuration (``projects.toml``, ``wijken.toml``,
``routing.toml`` in ``HUB_CONFIG_DIR``), with errors that name file, entry and field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from events.catalogue.vocabulary import Outcome
from services.config_files import ConfigError, describe, expand_pc4, load_toml
from services.routing.conditions import Conditions, Predicate

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

CLOSING_OUTCOMES: frozenset[Outcome] = frozenset(
    {
        Outcome.UNJUSTIFIED_SIGNAL,
        Outcome.REPEAT_SIGNAL,
        Outcome.NOT_PICKED_UP_OTHER,
        Outcome.NOT_A_RESIDENT,
    }
)
"""The DDAS outcomes a rule may close a case with: it is then not picked up by any team."""


def _slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError("must be lowercase letters, digits and dashes (it is used in subjects)")
    return value


class DebtPhase(StrEnum):
    PREVENTION = "preventie"
    EARLY_INTERVENTION = "vroege interventie"
    CURATIVE = "curatie"


class ProjectStatus(StrEnum):
    PREPARING = "in voorbereiding"
    RUNNING = "in uitvoering"
    STOPPED = "gestopt"


class Sla(BaseModel):
    """Service levels of a referral; the defaults are Vroeg Eropaf's (DESIGN §7)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_contact_days: int = Field(default=14, gt=0)
    closure_days: int = Field(default=28, gt=0)
    urgent_working_days: int = Field(default=3, gt=0)


class Project(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    debt_phase: DebtPhase
    status: ProjectStatus
    sla: Sla = Sla()
    capacity: int | None = Field(default=None, gt=0, description="households at once")

    _check_id = field_validator("id")(_slug)

    @property
    def receives_referrals(self) -> bool:
        return self.status is ProjectStatus.RUNNING

    def has_room(self, households: int) -> bool:
        return self.capacity is None or households < self.capacity


class Projects:
    def __init__(self, projects: list[Project]) -> None:
        self._by_id = {p.id: p for p in projects}
        if len(self._by_id) != len(projects):
            raise ConfigError("projects.toml: two projects have the same id")

    def get(self, project_id: str) -> Project | None:
        return self._by_id.get(project_id)

    def __contains__(self, project_id: object) -> bool:
        return project_id in self._by_id

    def __iter__(self) -> Iterator[Project]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


class Wijk(BaseModel):
    """A district of one gemeente: its postcode areas and, per project, the team serving it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    gemeentecode: str = Field(pattern=r"^\d{4}$")
    pc4: tuple[str, ...] = Field(min_length=1)
    teams: dict[str, str] = Field(default_factory=dict)

    _check_id = field_validator("id")(_slug)

    @field_validator("pc4")
    @classmethod
    def _ranges(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return expand_pc4(values)


class GemeenteTeams(BaseModel):
    """The teams that serve a whole gemeente for a project, unless a wijk names its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^\d{4}$")
    teams: dict[str, str] = Field(default_factory=dict)


class Wijken:
    def __init__(self, wijken: list[Wijk], gemeenten: list[GemeenteTeams] | None = None) -> None:
        self.wijken = tuple(wijken)
        self._defaults = {g.code: g.teams for g in gemeenten or []}
        self._by_pc4: dict[tuple[str, str], Wijk] = {}
        for wijk in wijken:
            for pc4 in wijk.pc4:
                other = self._by_pc4.setdefault((wijk.gemeentecode, pc4), wijk)
                if other is not wijk:
                    raise ConfigError(f"wijken.toml: PC4 {pc4} is in both {other.id} and {wijk.id}")

    def for_pc4(self, gemeentecode: str, pc4: str) -> Wijk | None:
        return self._by_pc4.get((gemeentecode, pc4))

    def team(self, wijk: Wijk, project_id: str) -> str | None:
        return wijk.teams.get(project_id) or self._defaults.get(wijk.gemeentecode, {}).get(
            project_id
        )

    def missing_teams(self, projects: Projects) -> list[str]:
        """Every wijk needs a team for every project; otherwise a referral has nowhere to go."""
        return [
            f"wijk {wijk.id}: no team for project {project.id} "
            "(in [wijk.teams] or [gemeente.teams])"
            for wijk in self.wijken
            for project in projects
            if self.team(wijk, project.id) is None
        ]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    when: Conditions = Conditions()
    then: str = Field(description="a project id or a DDAS outcome that closes the case")
    urgent: bool = False
    explanation: str = Field(min_length=1)

    _check_id = field_validator("id")(_slug)

    @field_validator("then")
    @classmethod
    def _target(cls, value: str) -> str:
        if value in Outcome._value2member_map_:
            if Outcome(value) not in CLOSING_OUTCOMES:
                allowed = ", ".join(f'"{o}"' for o in sorted(CLOSING_OUTCOMES))
                raise ValueError(
                    f'"{value}" cannot be a routing target; outcomes allowed: {allowed}'
                )
            return value
        if not SLUG.match(value):
            raise ValueError(f'"{value}" is neither a project id nor a DDAS outcome')
        return value

    @property
    def outcome(self) -> Outcome | None:
        return Outcome(self.then) if self.then in Outcome._value2member_map_ else None

    @property
    def project(self) -> str | None:
        return None if self.then in Outcome._value2member_map_ else self.then


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule as routing runs it: plain attributes and predicates, built once per rules file
    (pydantic attribute access is too slow for tens of thousands of decisions a second)."""

    id: str
    predicates: tuple[Predicate, ...]
    outcome: Outcome | None
    project: str | None
    urgent: bool
    explanation: str

    @classmethod
    def of(cls, rule: Rule) -> CompiledRule:
        return cls(
            rule.id,
            rule.when.predicates(),
            rule.outcome,
            rule.project,
            rule.urgent,
            rule.explanation,
        )


class RoutingRules:
    def __init__(self, version: str, rules: list[Rule]) -> None:
        if not version:
            raise ConfigError("routing.toml: version is required")
        ids = [r.id for r in rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ConfigError(f"routing.toml: rule id(s) used twice: {', '.join(duplicates)}")
        self.version = version
        self.rules = tuple(rules)
        self.compiled = tuple(CompiledRule.of(rule) for rule in rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)


def _entries(path: Path, data: dict[str, object], key: str) -> list[Any]:
    entries = data.get(key, [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: entries are [[{key}]] tables")
    return entries


def _name(entry: object, index: int) -> str:
    name = entry.get("id") if isinstance(entry, dict) else None
    return str(name) if name is not None else f"#{index}"


def load_projects(config_dir: Path) -> Projects:
    path = config_dir / "projects.toml"
    projects: list[Project] = []
    for index, entry in enumerate(_entries(path, load_toml(path), "project"), start=1):
        try:
            projects.append(Project.model_validate(entry))
        except ValidationError as error:
            raise ConfigError(f"{path}: project {_name(entry, index)}: {describe(error)}") from None
    if not projects:
        raise ConfigError(f"{path}: needs at least one [[project]]")
    return Projects(projects)


def load_wijken(config_dir: Path, projects: Projects | None = None) -> Wijken:
    """Read ``wijken.toml``; with ``projects``, also demand a team for every project."""
    path = config_dir / "wijken.toml"
    data = load_toml(path)
    gemeenten: list[GemeenteTeams] = []
    for index, entry in enumerate(_entries(path, data, "gemeente"), start=1):
        try:
            gemeenten.append(GemeenteTeams.model_validate(entry))
        except ValidationError as error:
            raise ConfigError(f"{path}: gemeente #{index}: {describe(error)}") from None
    wijken: list[Wijk] = []
    for index, entry in enumerate(_entries(path, data, "wijk"), start=1):
        try:
            wijken.append(Wijk.model_validate(entry))
        except ValidationError as error:
            raise ConfigError(f"{path}: wijk {_name(entry, index)}: {describe(error)}") from None
    result = Wijken(wijken, gemeenten)
    if projects is not None:
        for name, teams in [(g.code, g.teams) for g in gemeenten] + [
            (w.id, w.teams) for w in wijken
        ]:
            unknown = sorted(set(teams) - {p.id for p in projects})
            if unknown:
                raise ConfigError(
                    f"{path}: {name}: teams for unknown project(s) {', '.join(unknown)}"
                )
        missing = result.missing_teams(projects)
        if missing:
            raise ConfigError(f"{path}: {'; '.join(missing)}")
    return result


def parse_routing_rules(data: dict[str, object], source: str) -> tuple[str, list[Rule], list[str]]:
    """The version, the valid rules and one problem per invalid rule (naming rule id and field)."""
    problems: list[str] = []
    version = data.get("version")
    if not isinstance(version, str | int) or isinstance(version, bool) or version == "":
        problems.append(f'{source}: version: required, a string such as "2026-11-28.1"')
        version = ""
    unknown_keys = sorted(set(data) - {"version", "rule"})
    if unknown_keys:
        problems.append(f"{source}: unknown top-level key(s) {', '.join(unknown_keys)}")
    entries = data.get("rule", [])
    if not isinstance(entries, list) or not entries:
        problems.append(f"{source}: needs at least one [[rule]]")
        entries = []
    rules: list[Rule] = []
    for index, entry in enumerate(entries, start=1):
        try:
            rules.append(Rule.model_validate(entry))
        except ValidationError as error:
            problems.append(f"{source}: rule {_name(entry, index)}: {describe(error)}")
    return str(version), rules, problems


def load_routing_rules(path: Path) -> RoutingRules:
    version, rules, problems = parse_routing_rules(load_toml(path), str(path))
    if problems:
        raise ConfigError("; ".join(problems))
    return RoutingRules(version, rules)
