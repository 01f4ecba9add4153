"""``/v1/audit``: the audit trail for the functional administrator (DESIGN §9, issue 6 item 4).

Shaped like the ZGW audittrail: ``bron``, ``applicatieId``, ``gebruikersId``, ``actie``,
``resultaat``, ``hoofdObject``, ``resource``, ``resourceId``, ``toelichting``,
``aanmaakdatum``; newest first, filtered and paged. Only the ``beheerder`` role.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from adapters.http.auth import Refused, require
from events.store import SqlEventStore
from projections.audit_trail import BRON, AuditQuery, AuditTrailProjection, read_audit_trail
from projections.runner import ProjectionRunner
from services.access.principals import Role

router = APIRouter(prefix="/v1", tags=["audit"])
MAX_PAGE = 1_000_000


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "bron": BRON,
        "applicatieId": row["applicatie_id"],
        "gebruikersId": row["gebruikers_id"],
        "rol": row["rol"],
        "actie": row["actie"],
        "resultaat": row["resultaat"],
        "hoofdObject": row["hoofd_object"],
        "resource": row["resource"],
        "resourceId": row["resource_id"],
        "toelichting": row["toelichting"],
        "aanmaakdatum": row["aanmaakdatum"].isoformat(),
    }


@router.get(
    "/audit",
    summary="Who read or changed what, when and why (newest first)",
    responses={
        200: {"description": "One page of the audit trail."},
        400: {"description": "Invalid query parameters (problem+json)."},
        401: {"description": "No or an unknown token (problem+json)."},
        403: {"description": "Not a beheerder token (problem+json)."},
    },
)
async def get_audit_trail(
    request: Request,
    hoofd_object: Annotated[
        str | None, Query(alias="hoofdObject", max_length=100, description="zaak:<uuid>")
    ] = None,
    actie: Annotated[str | None, Query(max_length=40)] = None,
    rol: Annotated[str | None, Query(max_length=30)] = None,
    applicatie_id: Annotated[str | None, Query(alias="applicatieId", max_length=100)] = None,
    van: Annotated[datetime | None, Query(description="From this moment (ISO 8601).")] = None,
    tot: Annotated[datetime | None, Query(description="Before this moment (ISO 8601).")] = None,
    pagina: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number.")] = 1,
    pagina_grootte: Annotated[int, Query(alias="paginaGrootte", ge=1, le=500)] = 100,
) -> JSONResponse:
    try:
        require(request, Role.ADMINISTRATOR)
    except Refused as refused:
        return refused.response
    store: SqlEventStore = request.app.state.store
    await ProjectionRunner(store, [AuditTrailProjection()]).catch_up()
    wanted = AuditQuery(hoofd_object, actie, rol, applicatie_id, van, tot)
    async with store.engine.connect() as conn:
        total, rows = await read_audit_trail(
            conn, wanted, limit=pagina_grootte, offset=(pagina - 1) * pagina_grootte
        )
    return JSONResponse(
        {
            "paginering": {
                "pagina": pagina,
                "paginaGrootte": pagina_grootte,
                "totaal": total,
                "aantalPaginas": max(1, math.ceil(total / pagina_grootte)),
            },
            "resultaten": [_entry(row) for row in rows],
        }
    )
