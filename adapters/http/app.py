"""The FastAPI application and its cross-cutting rules (version header, correlation ids)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from adapters.http import audit_api, referrals_api, reports_api, signals_api
from adapters.http.problems import problem
from services.access.users import load_users
from services.bootstrap import build_signal_intake, open_migrated_event_store
from services.intake.receive_signals import SignalIntake
from services.logging import correlation
from services.referrals.teams import load_teams
from services.routing.config import load_projects
from services.settings import Settings

API_VERSION = "1.0.0"


def _parameter_name(location: tuple[int | str, ...]) -> str:
    """``("query", "periode")`` → ``periode``: the name as the client sent it."""
    parts = [str(p) for p in location]
    if len(parts) > 1 and parts[0] in {"query", "path", "header", "cookie", "body"}:
        parts = parts[1:]
    return ".".join(parts)


def create_app(settings: Settings, *, intake: SignalIntake | None = None) -> FastAPI:
    """The API; with ``intake`` given (tests, an embedding process) it uses that instead of
    opening its own store."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if intake is not None:
            yield
            return
        store = await open_migrated_event_store(settings)
        app.state.store = store
        app.state.intake = build_signal_intake(settings, store)
        try:
            yield
        finally:
            await store.close()

    app = FastAPI(
        title="Signaalhub API",
        version=API_VERSION,
        description="Vroegsignalering van schulden: signalen in, verwijzingen uit.",
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    # Configuration is read here, so a broken teams.toml, users.toml or projects.toml stops
    # the server with its error instead of failing the first request. Tests replace them.
    app.state.teams = load_teams(settings.config_dir)
    app.state.users = load_users(settings.config_dir)
    app.state.projects = load_projects(settings.config_dir)
    app.include_router(signals_api.router)
    app.include_router(referrals_api.router)
    app.include_router(reports_api.router)
    app.include_router(audit_api.router)
    if intake is not None:
        app.state.intake = intake
        app.state.store = intake.store

    @app.get("/v1/health", tags=["beheer"], summary="Liveness: the hub answers")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.middleware("http")
    async def version_and_correlation(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        correlation_id = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        with correlation(correlation_id[:100], path=request.url.path):
            response = await call_next(request)
        response.headers["API-Version"] = API_VERSION
        response.headers["X-Correlation-ID"] = correlation_id[:100]
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return problem(
            400,
            "Ongeldige invoer",
            "The request has invalid parameters.",
            instance=request.url.path,
            invalidParams=[
                {
                    "name": _parameter_name(e["loc"]),
                    "code": "invalid",
                    "reason": e["msg"],
                }
                for e in error.errors()
            ],
        )

    return app
