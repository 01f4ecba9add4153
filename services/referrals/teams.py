"""Teams that work their queue over the HTTP API (``HUB_CONFIG_DIR/teams.toml``, DESIGN §9).

Each team has one bearer token; the configuration holds only its SHA-256 (see
``services.access.tokens`` for how a presented token is matched).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from services.access.tokens import check_sha256_hex, owner_of, token_hash
from services.config_files import ConfigError, describe, load_toml

TEAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
__all__ = ["Team", "TeamConfigError", "Teams", "load_teams", "load_teams_file", "token_hash"]


class TeamConfigError(ConfigError):
    """teams.toml is missing or wrong; the message names the file, entry and field."""


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    token_sha256: str

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not TEAM_ID.fullmatch(value):
            raise ValueError("must be a team id as in wijken.toml (lower case, digits, -)")
        return value

    @field_validator("token_sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        return check_sha256_hex(value)


class Teams:
    """The configured teams, looked up by bearer token."""

    def __init__(self, teams: list[Team], *, source: str = "teams.toml") -> None:
        by_id = {t.id: t for t in teams}
        if len(by_id) != len(teams):
            raise TeamConfigError(f"{source}: two teams have the same id")
        if len({t.token_sha256 for t in teams}) != len(teams):
            raise TeamConfigError(f"{source}: two teams have the same token_sha256")
        self._teams = tuple(by_id.values())

    @classmethod
    def from_tokens(cls, tokens: Mapping[str, str]) -> Teams:
        """Teams from plain ``{team id: token}`` (tests, a demo); only the hashes are kept."""
        return cls(
            [Team(id=team, token_sha256=token_hash(token)) for team, token in tokens.items()],
            source="tokens",
        )

    def team_for_token(self, token: str) -> str | None:
        """The id of the team that owns ``token``; None for an unknown or empty token."""
        return owner_of(token, ((team.id, team.token_sha256) for team in self._teams))

    def __contains__(self, team_id: object) -> bool:
        return any(t.id == team_id for t in self._teams)

    def __iter__(self) -> Iterator[Team]:
        return iter(self._teams)

    def __len__(self) -> int:
        return len(self._teams)


def load_teams(config_dir: Path) -> Teams:
    """Read ``teams.toml`` from ``config_dir``; errors name the file, the team and the field."""
    return load_teams_file(config_dir / "teams.toml")


def load_teams_file(path: Path) -> Teams:
    try:
        entries = load_toml(path).get("team", [])
    except ConfigError as error:
        raise TeamConfigError(str(error)) from None
    if not isinstance(entries, list):
        raise TeamConfigError(f"{path}: teams are [[team]] tables")
    teams: list[Team] = []
    for index, entry in enumerate(entries, start=1):
        try:
            teams.append(Team.model_validate(entry))
        except ValidationError as error:
            name = entry.get("id", f"#{index}") if isinstance(entry, dict) else f"#{index}"
            raise TeamConfigError(f"{path}: team {name}: {describe(error)}") from None
    return Teams(teams, source=str(path))
