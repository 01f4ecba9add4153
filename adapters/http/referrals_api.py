"""``/v1/verwijzingen``: a team works its own referral queue (DESIGN §7, §9; issue 4, item 4).

NL API Design Rules: Dutch kebab-case resources, actions as sub-resources of the referral
(``/oppakken``, ``/vrijgeven``, ``/contactpogingen``, ``/afsluiten``, ``/doorverwijzen``,
``/annuleren``),
``application/problem+json`` for every error, 400 listing every invalid field in
``invalidParams`` (by its Dutch name), 409 for a refused transition or a concurrent change.

Authentication: ``Authorization: Bearer <token>``, one token per team (``teams.toml`` holds its
SHA-256). Without a known token: 401. A referral of another team: 403, for reading and acting.

Statuses on the wire (and the ``status`` filter of the listing), Dutch with the English
state names of ``ReferralState`` accepted as well in the filter:

=================  ==============
``aangevraagd``    requested
``opgepakt``       claimed
``in-behandeling`` in_progress
``afgesloten``     closed
``doorverwezen``   rerouted
``geannuleerd``    cancelled
=================  ==============

The listing shows the open referrals (the first three) of the caller's team.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from adapters.http.auth import Refused, require
from adapters.http.problems import problem
from events.catalogue.referrals import ContactKind, PartOfDay
from events.catalogue.vocabulary import Outcome
from events.errors import ConcurrencyError
from events.store import SqlEventStore
from projections.referral_queue import (
    QueueEntry,
    QueueFilter,
    bring_queue_up_to_date,
    team_queue,
    team_queue_size,
)
from services.access.audit import record_personal_data_read
from services.access.principals import Role
from services.clock import today
from services.referrals.act_on_referral import (
    NotYourReferral,
    ReferralActions,
    ReferralNotFoundError,
)
from services.referrals.case_details import CaseDetails, read_case_details
from services.referrals.lifecycle import (
    Command,
    InvalidCommandError,
    Referral,
    ReferralState,
    TransitionRefused,
)
from services.referrals.sla import is_overdue
from services.routing.config import Projects

router = APIRouter(prefix="/v1", tags=["verwijzingen"])
M = TypeVar("M", bound=BaseModel)

MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000
"""Beyond any queue; bounds the offset the database is asked for."""
WORKER = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")
"""``X-Medewerker``: the opaque worker id the audit trail records for a read (never a name)."""
MAX_BODY_BYTES = 16 * 1024

STATUS_NL: dict[ReferralState, str] = {
    ReferralState.REQUESTED: "aangevraagd",
    ReferralState.CLAIMED: "opgepakt",
    ReferralState.IN_PROGRESS: "in-behandeling",
    ReferralState.CLOSED: "afgesloten",
    ReferralState.REROUTED: "doorverwezen",
    ReferralState.CANCELLED: "geannuleerd",
}
OPEN_STATES = (ReferralState.REQUESTED, ReferralState.CLAIMED, ReferralState.IN_PROGRESS)
STATUS_FILTER: dict[str, ReferralState] = {
    **{STATUS_NL[s]: s for s in OPEN_STATES},
    **{s.value: s for s in OPEN_STATES},
}

StatusFilter = Literal[
    "aangevraagd", "opgepakt", "in-behandeling", "requested", "claimed", "in_progress"
]
"""The ``status`` filter's values, as the OpenAPI document lists them (``STATUS_FILTER``)."""

ACTION_NL: dict[Command, str] = {
    Command.CLAIM: "oppakken",
    Command.RECORD_CONTACT_ATTEMPT: "contactpogingen",
    Command.CLOSE: "afsluiten",
    Command.RELEASE: "vrijgeven",
    Command.REROUTE: "doorverwijzen",
    Command.CANCEL: "annuleren",
}

FIELD_NL: dict[str, str] = {
    "worker_id": "medewerker",
    "attempted_on": "datum",
    "closed_on": "datum",
    "reason": "reden",
    "to_project": "project",
    "to_team": "team",
}
"""Lifecycle input names (``InvalidCommandError.field``) as the request bodies call them."""


# -- request bodies -------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


class Oppakken(_Body):
    medewerker: str = Field(
        pattern=r"^[A-Za-z0-9._:@-]{1,64}$",
        description="Opaque id of the worker in the team's own system; never a name.",
    )


class Vrijgeven(_Body):
    reden: str = Field(min_length=1, max_length=500, description="Short work note.")


class Contactpoging(_Body):
    soort: ContactKind = Field(description="DDAS EnumContactsoort.")
    bereikt: StrictBool
    datum: date
    dagdeel: PartOfDay | None = Field(default=None, description="DDAS EnumDagdeel.")


class Afsluiten(_Body):
    eindresultaat: Outcome = Field(description="DDAS EnumEindresultaat.")
    datum: date


class Annuleren(_Body):
    reden: str = Field(min_length=1, max_length=500, description="Short work note.")


class Doorverwijzen(_Body):
    project: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    team: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    reden: str = Field(min_length=1, max_length=500)


def _request_body(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI ``requestBody`` for a body the endpoint validates itself (so that 400 names
    the fields as the client sent them). ``$defs`` are inlined: the schema stands alone."""
    schema = model.model_json_schema(by_alias=True)
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline(schema)}},
        }
    }


# -- plumbing ---------------------------------------------------------------------------------


class _Problem(Exception):  # noqa: N818 -- internal: carries a finished response
    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def _store(request: Request) -> SqlEventStore:
    store: SqlEventStore = request.app.state.store
    return store


def _projects(request: Request) -> Projects:
    projects: Projects = request.app.state.projects
    return projects


def _team(request: Request) -> str:
    return require(request, Role.TEAM).id


def _referral_id(request: Request, value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _Problem(_not_found(request, value)) from None


def _not_found(request: Request, value: object) -> JSONResponse:
    return problem(
        404, "Verwijzing niet gevonden", f"No referral has id {value}.", instance=request.url.path
    )


def _invalid(request: Request, params: list[dict[str, str]]) -> JSONResponse:
    return problem(
        400,
        "Ongeldige invoer",
        f"The request has {len(params)} invalid field(s), listed in invalidParams.",
        instance=request.url.path,
        invalidParams=params,
    )


async def _parse(request: Request, model: type[M]) -> M:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise _Problem(
            problem(413, "Bericht te groot", "The body is too large.", instance=request.url.path)
        )
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        raise _Problem(
            _invalid(request, [{"name": "body", "code": "invalid", "reason": "not valid JSON"}])
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        params = [
            {
                "name": ".".join(str(p) for p in e["loc"]) or "body",
                "code": e["type"],
                "reason": e["msg"],
            }
            for e in error.errors()
        ]
        raise _Problem(_invalid(request, params)) from None


async def _answer(request: Request, work: Callable[[], Awaitable[JSONResponse]]) -> JSONResponse:
    """Run ``work`` and turn every refusal into its problem+json answer."""
    try:
        return await work()
    except (_Problem, Refused) as refused:
        return refused.response
    except ReferralNotFoundError as error:
        return _not_found(request, error.referral_id)
    except NotYourReferral:
        return problem(
            403,
            "Geen verwijzing van dit team",
            "This referral is in another team's queue; a team sees only its own.",
            instance=request.url.path,
        )
    except TransitionRefused as error:
        return problem(
            409,
            "Overgang geweigerd",
            str(error),
            instance=request.url.path,
            huidigeStatus=STATUS_NL[error.state],
            toegestaneActies=sorted(ACTION_NL[c] for c in error.allowed),
        )
    except ConcurrencyError:
        return problem(
            409,
            "Gelijktijdige wijziging",
            "The referral changed while this request was handled; read it again and retry.",
            instance=request.url.path,
        )
    except InvalidCommandError as error:
        reason = str(error).removeprefix(f"{error.field}: ")
        name = FIELD_NL.get(error.field, error.field)
        return _invalid(request, [{"name": name, "code": "invalid", "reason": reason}])


def _correlation_id() -> str | None:
    value = structlog.contextvars.get_contextvars().get("correlation_id")
    return str(value) if value is not None else None


# -- representations -------------------------------------------------------------------------


def _href(referral_id: uuid.UUID) -> str:
    return f"/v1/verwijzingen/{referral_id}"


def _entry(entry: QueueEntry) -> dict[str, Any]:
    return {
        "id": str(entry.referral_id),
        "zaakId": str(entry.case_id),
        "project": entry.project,
        "team": entry.team,
        "status": STATUS_NL[entry.state],
        "urgent": entry.urgent,
        "aangevraagdOp": entry.requested_on.isoformat(),
        "eersteContactpogingUiterlijk": entry.first_contact_due.isoformat(),
        "afsluitenUiterlijk": entry.closure_due.isoformat(),
        "medewerker": entry.claimed_by,
        "aantalContactpogingen": entry.contact_attempts,
        "bereikt": entry.reached,
        "achterstallig": entry.overdue,
        "_links": {"self": {"href": _href(entry.referral_id)}},
    }


def _referral(referral: Referral) -> dict[str, Any]:
    return {
        "id": str(referral.referral_id),
        "zaakId": str(referral.case_id),
        "project": referral.project,
        "team": referral.team,
        "status": STATUS_NL[referral.state],
        "urgent": referral.urgent,
        "routeringsregel": referral.rule_id,
        "aangevraagdOp": referral.requested_on.isoformat(),
        "eersteContactpogingUiterlijk": referral.first_contact_due.isoformat(),
        "afsluitenUiterlijk": referral.closure_due.isoformat(),
        "achterstallig": is_overdue(referral, today()),
        "medewerker": referral.worker_id,
        "opgepaktOp": referral.claimed_at.isoformat() if referral.claimed_at else None,
        "datumOpgepakt": (
            referral.first_claimed_at.date().isoformat() if referral.first_claimed_at else None
        ),
        "contactpogingen": [
            {
                "soort": attempt.kind.value,
                "bereikt": attempt.reached,
                "datum": attempt.attempted_on.isoformat(),
                "dagdeel": attempt.part_of_day.value if attempt.part_of_day else None,
            }
            for attempt in referral.attempts
        ],
        "aantalKeerVrijgegeven": referral.release_count,
        "eindresultaat": referral.outcome.value if referral.outcome else None,
        "afgeslotenOp": referral.closed_on.isoformat() if referral.closed_on else None,
        "reden": referral.end_reason,
        "doorverwezenNaar": (
            {"project": referral.rerouted_to[0], "team": referral.rerouted_to[1]}
            if referral.rerouted_to
            else None
        ),
        "toegestaneActies": sorted(ACTION_NL[c] for c in referral.allowed_commands),
        "_links": {"self": {"href": _href(referral.referral_id)}},
    }


RESIDENT_NL = {
    "bsn": "burgerservicenummer",
    "initials": "voorletters",
    "surname_prefix": "voorvoegsel",
    "surname": "achternaam",
    "birth_date": "geboortedatum",
    "street": "straatnaam",
    "house_number": "huisnummer",
    "house_number_addition": "huisnummertoevoeging",
    "postcode": "postcode",
    "city": "plaatsnaam",
    "phone": "telefoonnummer",
    "email": "email",
}


def _case(details: CaseDetails) -> dict[str, Any]:
    """The case behind a referral, in the wire vocabulary partners use (DESIGN §5)."""
    return {
        "id": str(details.case_id),
        "signalen": [
            {
                "id": str(signal.signal_id),
                "signaalpartner": signal.partner_id,
                "signaalpartnerType": signal.partner_type,
                "soort": signal.kind,
                "bedrag": str(signal.amount),
                "signaaldatum": signal.signal_date.isoformat(),
                "crisissignaal": signal.crisis,
                "warmeOverdracht": signal.warm_handover,
                "ingetrokken": signal.withdrawn,
                "klantnummer": signal.customer_number,
            }
            for signal in details.signals
        ],
        "inwoner": (
            {RESIDENT_NL[key]: value for key, value in details.resident.items()}
            if details.resident is not None
            else None
        ),
        "persoonsgegevensGewist": details.personal_data_erased,
    }


# -- endpoints ---------------------------------------------------------------------------------

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or an unknown bearer token (problem+json)."},
    403: {"description": "The referral is in another team's queue (problem+json)."},
    404: {"description": "No referral has this id (problem+json)."},
}
ACTION_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    400: {"description": "Invalid body, with every invalid field (problem+json)."},
    409: {"description": "Refused in the current state, or changed concurrently."},
}


@router.get(
    "/verwijzingen",
    summary="The caller team's open referrals: overdue first, then by due date",
    responses={
        200: {"description": "One page of the queue, with _links for paging."},
        400: {"description": "Invalid query parameters (problem+json)."},
        401: PROBLEMS[401],
    },
)
async def list_referrals(
    request: Request,
    status: Annotated[
        StatusFilter | None,
        Query(description="aangevraagd, opgepakt or in-behandeling (or the English state)."),
    ] = None,
    achterstallig: Annotated[bool | None, Query(description="Only (not) overdue.")] = None,
    project: Annotated[str | None, Query(max_length=64)] = None,
    pagina: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number.")] = 1,
    pagina_grootte: Annotated[int, Query(alias="paginaGrootte", ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> JSONResponse:
    async def work() -> JSONResponse:
        team = _team(request)
        wanted: ReferralState | None = None
        if status is not None:
            wanted = STATUS_FILTER.get(status)
            if wanted is None:
                allowed = ", ".join(STATUS_NL[s] for s in OPEN_STATES)
                reason = f"must be one of {allowed}"
                raise _Problem(
                    _invalid(request, [{"name": "status", "code": "invalid", "reason": reason}])
                )
        store = _store(request)
        await bring_queue_up_to_date(store)  # read your own writes: the queue is a projection
        wanted_rows = QueueFilter(state=wanted, overdue=achterstallig, project=project)
        async with store.engine.connect() as conn:
            total = await team_queue_size(conn, team, today=today(), wanted=wanted_rows)
            pages = max(1, math.ceil(total / pagina_grootte))
            page = await team_queue(
                conn,
                team,
                today=today(),
                wanted=wanted_rows,
                limit=pagina_grootte,
                offset=(pagina - 1) * pagina_grootte,
            )
        body = {
            "_links": _paging_links(request, pagina, pages),
            "_embedded": {"verwijzingen": [_entry(e) for e in page]},
            "paginering": {
                "pagina": pagina,
                "paginaGrootte": pagina_grootte,
                "totaal": total,
                "aantalPaginas": pages,
            },
        }
        response = JSONResponse(body)
        response.headers["X-Total-Count"] = str(total)
        return response

    return await _answer(request, work)


def _paging_links(request: Request, page: int, pages: int) -> dict[str, dict[str, str]]:
    def href(number: int) -> str:
        query = dict(request.query_params)
        query["pagina"] = str(number)
        return f"{request.url.path}?{urlencode(query)}"

    links = {"self": {"href": href(page)}, "first": {"href": href(1)}}
    if page > 1:
        links["prev"] = {"href": href(min(page - 1, pages))}
    if page < pages:
        links["next"] = {"href": href(page + 1)}
    links["last"] = {"href": href(pages)}
    return links


@router.get(
    "/verwijzingen/{verwijzing_id}",
    summary="One referral of the caller's team, with its contact attempts and its case: "
    "the signals and the resident's details (_embedded.zaak). Every read is recorded in the "
    "audit trail, with the worker of header X-Medewerker and the purpose of header X-Doel.",
    responses=PROBLEMS,
)
async def get_referral(request: Request, verwijzing_id: str) -> JSONResponse:
    async def work() -> JSONResponse:
        team = _team(request)
        referral_id = _referral_id(request, verwijzing_id)
        store = _store(request)
        referral = await ReferralActions(store).load(team, referral_id)
        async with store.engine.connect() as conn:
            details = await read_case_details(conn, referral.case_id)
        worker = request.headers.get("x-medewerker", "").strip()
        await record_personal_data_read(
            store,
            actor=f"team:{team}/{worker}" if WORKER.fullmatch(worker) else f"team:{team}",
            case_id=referral.case_id,
            referral_id=referral.referral_id,
            resource="verwijzing",
            purpose=request.headers.get("x-doel"),
            correlation_id=_correlation_id(),
        )
        body = _referral(referral)
        body["_embedded"] = {"zaak": _case(details)}
        return JSONResponse(body)

    return await _answer(request, work)


async def _act(
    request: Request,
    verwijzing_id: str,
    model: type[BaseModel],
    act: Callable[[ReferralActions, str, uuid.UUID, Any], Awaitable[Referral]],
) -> JSONResponse:
    async def work() -> JSONResponse:
        team = _team(request)
        referral_id = _referral_id(request, verwijzing_id)
        body = await _parse(request, model)
        actions = ReferralActions(_store(request), projects=_projects(request))
        referral = await act(actions, team, referral_id, body)
        return JSONResponse(_referral(referral))

    return await _answer(request, work)


@router.post(
    "/verwijzingen/{verwijzing_id}/oppakken",
    summary="A worker claims the referral (DDAS datum opgepakt)",
    responses=ACTION_PROBLEMS,
    openapi_extra=_request_body(Oppakken),
)
async def claim_referral(request: Request, verwijzing_id: str) -> JSONResponse:
    async def act(
        actions: ReferralActions, team: str, referral_id: uuid.UUID, body: Oppakken
    ) -> Referral:
        return await actions.claim(
            team, referral_id, body.medewerker, correlation_id=_correlation_id()
        )

    return await _act(request, verwijzing_id, Oppakken, act)


@router.post(
    "/verwijzingen/{verwijzing_id}/vrijgeven",
    summary="Give the referral back to the team queue (reason required)",
    responses=ACTION_PROBLEMS,
    openapi_extra=_request_body(Vrijgeven),
)
async def release_referral(request: Request, verwijzing_id: str) -> JSONResponse:
    async def act(
        actions: ReferralActions, team: str, referral_id: uuid.UUID, body: Vrijgeven
    ) -> Referral:
        return await actions.release(
            team, referral_id, body.reden, correlation_id=_correlation_id()
        )

    return await _act(request, verwijzing_id, Vrijgeven, act)


@router.post(
    "/verwijzingen/{verwijzing_id}/contactpogingen",
    summary="Record one contact attempt (DDAS contactpoging)",
    responses=ACTION_PROBLEMS,
    openapi_extra=_request_body(Contactpoging),
)
async def record_contact_attempt(request: Request, verwijzing_id: str) -> JSONResponse:
    async def act(
        actions: ReferralActions, team: str, referral_id: uuid.UUID, body: Contactpoging
    ) -> Referral:
        return await actions.record_contact_attempt(
            team,
            referral_id,
            body.soort,
            body.bereikt,
            body.datum,
            body.dagdeel,
            correlation_id=_correlation_id(),
        )

    return await _act(request, verwijzing_id, Contactpoging, act)


@router.post(
    "/verwijzingen/{verwijzing_id}/afsluiten",
    summary="Close the referral with a DDAS eindresultaat",
    responses=ACTION_PROBLEMS,
    openapi_extra=_request_body(Afsluiten),
)
async def close_referral(request: Request, verwijzing_id: str) -> JSONResponse:
    async def act(
        actions: ReferralActions, team: str, referral_id: uuid.UUID, body: Afsluiten
    ) -> Referral:
        return await actions.close(
            team, referral_id, body.eindresultaat, body.datum, correlation_id=_correlation_id()
        )

    return await _act(request, verwijzing_id, Afsluiten, act)


@router.post(
    "/verwijzingen/{verwijzing_id}/doorverwijzen",
    summary="The referral belongs to another team or project (reason required)",
    responses=ACTION_PROBLEMS,
    openapi_extra=_request_body(Doorverwijzen),
)
async def reroute_referral(request: Request, verwijzing_id: str) -> JSONResponse:
    async def act(
        actions: ReferralActions, team: str, referral_id: uuid.UUID, body: Doorverwijzen
    ) -> Referral:
        return await actions.reroute(
            team,
            referral_id,
            body.project,
            body.team,
            body.reden,
            correlation_id=_correlation_id(),
        )

    return await _act(request, verwijzing_id, Doorverwijzen, act)


@router.post(
    "/verwijzingen/{verwijzing_id}/annuleren",
    summary="The referral is no longer needed, before any contact attempt (reason required)",
    responses=ACTION_PROBLEMS,
    openapi_extra=_request_body(Annuleren),
)
async def cancel_referral(request: Request, verwijzing_id: str) -> JSONResponse:
    async def act(
        actions: ReferralActions, team: str, referral_id: uuid.UUID, body: Annuleren
    ) -> Referral:
        return await actions.cancel(team, referral_id, body.reden, correlation_id=_correlation_id())

    return await _act(request, verwijzing_id, Annuleren, act)
