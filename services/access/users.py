"""People who use the hub's management and administration endpoints
(``HUB_CONFIG_DIR/users.toml``, DESIGN §9).

Two roles besides the teams (``teams.toml``) and partners (``partners.toml``):

- ``management``: reads the management reports (``/v1/rapportages``);
- ``beheerder`` (functional administrator): reads the audit trail (``/v1/audit``) and the
  reports; configuration, replay and erasure are CLI work on the hub's own machine.

Each user has one bearer token, kept only as its SHA-256.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from services.access.tokens import check_sha256_hex, owner_of, token_hash
from services.config_files import ConfigError, describe, load_toml

USER_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class UserRole(StrEnum):
    MANAGEMENT = "management"
    ADMINISTRATOR = "beheerder"


class UserConfigError(ConfigError):
    """users.toml is wrong; the message names the file, the user and the field."""


class User(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    role: UserRole
    token_sha256: str

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not USER_ID.fullmatch(value):
            raise ValueError("must be lower case letters, digits, '.', '_' or '-' (an account id)")
        return value

    @field_validator("token_sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        return check_sha256_hex(value)


class Users:
    def __init__(self, users: list[User], *, source: str = "users.toml") -> None:
        by_id = {u.id: u for u in users}
        if len(by_id) != len(users):
            raise UserConfigError(f"{source}: two users have the same id")
        if len({u.token_sha256 for u in users}) != len(users):
            raise UserConfigError(f"{source}: two users have the same token_sha256")
        self._users = tuple(by_id.values())

    @classmethod
    def from_tokens(cls, tokens: Mapping[str, tuple[UserRole, str]]) -> Users:
        """``{user id: (role, token)}`` (tests, a demo); only the hashes are kept."""
        return cls(
            [User(id=i, role=role, token_sha256=token_hash(t)) for i, (role, t) in tokens.items()],
            source="tokens",
        )

    def user_for_token(self, token: str) -> User | None:
        owner = owner_of(token, ((u.id, u.token_sha256) for u in self._users))
        return next((u for u in self._users if u.id == owner), None)

    def __iter__(self) -> Iterator[User]:
        return iter(self._users)


def load_users(config_dir: Path) -> Users:
    """``users.toml`` from ``config_dir``; a missing file means no such users."""
    path = config_dir / "users.toml"
    if not path.exists():
        return Users([], source=str(path))
    try:
        entries = load_toml(path).get("user", [])
    except ConfigError as error:
        raise UserConfigError(str(error)) from None
    if not isinstance(entries, list):
        raise UserConfigError(f"{path}: users are [[user]] tables")
    users: list[User] = []
    for index, entry in enumerate(entries, start=1):
        try:
            users.append(User.model_validate(entry))
        except ValidationError as error:
            name = entry.get("id", f"#{index}") if isinstance(entry, dict) else f"#{index}"
            raise UserConfigError(f"{path}: user {name}: {describe(error)}") from None
    return Users(users, source=str(path))
