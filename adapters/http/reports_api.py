"""``/v1/rapportages``: the management report over HTTP (DESIGN §8; issue 5, item 3).

For the roles ``management`` and ``beheerder``. The same report as ``signaalhub report``:
``periode`` (``2026-W09``, ``2026-03``, ``2026-Q1``, ``2026``; default the current year),
optional ``project`` and ``team``, ``peildatum`` (as of that day: the log replayed up to its
end) and ``formaat`` (``json``, ``html``, ``csv``, ``xlsx``). The read model is brought up to
date first, so the figures include everything committed before the request.
"""

from __future__ import annotations

import tempfile
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from adapters.http.auth import Refused, require
from adapters.http.problems import problem
from adapters.reports.html import render_html
from adapters.reports.spreadsheet import write_csv, write_xlsx
from events.store import SqlEventStore
from projections.report_facts import ReportFactsProjection
from projections.runner import ProjectionRunner
from services.access.principals import Role
from services.clock import today
from services.reports.load_report import ReportRequest, load_report, load_report_config
from services.reports.periods import PeriodError, current_year, parse_period
from services.settings import Settings

router = APIRouter(prefix="/v1", tags=["rapportages"])

PERIOD_PATTERN = r"^(19|20)\d{2}(-Q[1-4]|-(0[1-9]|1[0-2])|-W(0[1-9]|[1-4]\d|5[0-3]))?$"
"""The shape of a period; a week 53 in a year without one is refused by the parser (400)."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Formaat(StrEnum):
    JSON = "json"
    HTML = "html"
    CSV = "csv"
    XLSX = "xlsx"


@router.get(
    "/rapportages",
    summary="The management report: caseload, outcomes, lead times, signal mix, capacity",
    responses={
        200: {
            "description": "The report (JSON, or HTML / CSV / XLSX with formaat).",
            "content": {"text/html": {}, "text/csv": {}, XLSX: {}},
        },
        400: {"description": "An invalid period or date (problem+json)."},
        401: {"description": "No or an unknown token (problem+json)."},
        403: {"description": "Not a management or beheerder token (problem+json)."},
    },
)
async def get_report(
    request: Request,
    periode: Annotated[
        str | None,
        Query(
            pattern=PERIOD_PATTERN,
            description="2026 (year), 2026-Q1 (quarter), 2026-03 (month), 2026-W09 (ISO week).",
        ),
    ] = None,
    project: Annotated[str | None, Query(max_length=64)] = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
    peildatum: Annotated[date | None, Query(description="As of the end of this day.")] = None,
    formaat: Formaat = Formaat.JSON,
) -> Response:
    try:
        require(request, Role.MANAGEMENT, Role.ADMINISTRATOR)
    except Refused as refused:
        return refused.response
    try:
        period = parse_period(periode) if periode else current_year(today())
    except PeriodError as error:
        return problem(
            400,
            "Ongeldige invoer",
            "The request has 1 invalid field(s), listed in invalidParams.",
            instance=request.url.path,
            invalidParams=[{"name": "periode", "code": "invalid", "reason": str(error)}],
        )
    if peildatum is not None and peildatum > today():
        return problem(
            400,
            "Ongeldige invoer",
            "The request has 1 invalid field(s), listed in invalidParams.",
            instance=request.url.path,
            invalidParams=[{"name": "peildatum", "code": "invalid", "reason": "is in the future"}],
        )
    settings: Settings = request.app.state.settings
    store: SqlEventStore = request.app.state.store
    projection = ReportFactsProjection.from_config(settings.config_dir)
    await ProjectionRunner(store, [projection]).catch_up()
    report = await load_report(
        store,
        ReportRequest(period=period, project=project, team=team, as_of=peildatum),
        load_report_config(settings.config_dir),
        projection,
        today=today(),
    )
    name = f"rapportage-{period.label}"
    match formaat:
        case Formaat.HTML:
            return HTMLResponse(render_html(report))
        case Formaat.CSV | Formaat.XLSX:
            with tempfile.TemporaryDirectory(prefix="hub-report-") as folder:
                path = Path(folder) / f"{name}.{formaat.value}"
                (write_csv if formaat is Formaat.CSV else write_xlsx)(report, path)
                content = path.read_bytes()
            return Response(
                content,
                media_type="text/csv; charset=utf-8" if formaat is Formaat.CSV else XLSX,
                headers={"Content-Disposition": f'attachment; filename="{name}.{formaat.value}"'},
            )
        case _:
            return JSONResponse(report.as_dict())
