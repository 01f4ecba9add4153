"""Who is asking: a team, a partner, a manager or a functional administrator (DESIGN §9)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.access.users import UserRole, Users
from services.partners import Partners
from services.referrals.teams import Teams


class Role(StrEnum):
    TEAM = "team"
    PARTNER = "partner"
    MANAGEMENT = UserRole.MANAGEMENT.value
    ADMINISTRATOR = UserRole.ADMINISTRATOR.value


@dataclass(frozen=True)
class Principal:
    role: Role
    id: str

    @property
    def actor(self) -> str:
        """As event metadata and the audit trail write it: ``<role>:<id>``."""
        return f"{self.role.value}:{self.id}"


@dataclass(frozen=True)
class Credentials:
    """Every configured token and API key, by owner."""

    teams: Teams
    users: Users
    partners: Partners

    def identify(self, token: str) -> Principal | None:
        """The owner of ``token``; every book is searched, so the time does not tell which
        kind of token it was."""
        team = self.teams.team_for_token(token)
        user = self.users.user_for_token(token)
        partner = self.partners.partner_for_key(token)
        if team is not None:
            return Principal(Role.TEAM, team)
        if user is not None:
            return Principal(Role(user.role.value), user.id)
        if partner is not None:
            return Principal(Role.PARTNER, partner.id)
        return None
