"""Authentication and role checks for every endpoint but the health check and the OpenAPI
document (DESIGN §9, issue 6 item 3).

A caller sends its token as ``Authorization: Bearer <token>``; a partner may send its API key
as ``X-Api-Key: <key>`` instead. No or an unknown token: 401. A known token of a role the
endpoint does not serve: 403. The configuration comes from the app's state, read at
start-up (tests put their own there).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from adapters.http.problems import problem
from services.access.principals import Credentials, Principal, Role
from services.access.users import Users
from services.partners import Partners
from services.referrals.teams import Teams


class Refused(Exception):  # noqa: N818 -- carries the finished problem response
    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def presented_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key", "").strip()


def credentials(request: Request) -> Credentials:
    state = request.app.state
    teams: Teams = state.teams
    users: Users = state.users
    partners: Partners = state.intake.partners
    return Credentials(teams, users, partners)


def require(request: Request, *roles: Role) -> Principal:
    """The caller, when it has one of ``roles``; raises ``Refused`` (401 / 403) otherwise."""
    principal = credentials(request).identify(presented_token(request))
    if principal is None:
        response = problem(
            401,
            "Niet geauthenticeerd",
            "Send your token as 'Authorization: Bearer <token>' (partners: or 'X-Api-Key').",
            instance=request.url.path,
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="signaalhub"'
        raise Refused(response)
    if principal.role not in roles:
        allowed = ", ".join(role.value for role in roles)
        raise Refused(
            problem(
                403,
                "Geen toegang voor deze rol",
                f"This resource serves the role(s) {allowed}; the token is of a "
                f"{principal.role.value}.",
                instance=request.url.path,
            )
        )
    return principal
