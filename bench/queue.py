"""Benchmark the teams' queue listing over HTTP: ``python -m bench.queue [--open N]``.

On PostgreSQL (HUB_BENCH_DATABASE_URL, else HUB_TEST_DATABASE_URL, else the local server), in a
fresh schema dropped afterwards:

1. N open referrals (default 10,000) in ONE team's queue plus as many again spread over four
   other teams, written as real referral events (requested; a third claimed, a sixth of those
   with a contact attempt; due dates over three months so that a share is overdue) and brought
   into the queue read model by the real projection runner.
2. The real FastAPI app served by uvicorn on 127.0.0.1, one client sending R sequential
   ``GET /v1/verwijzingen`` requests with the team's bearer token over loopback: the first
   page, random pages, the largest page size, and the status / overdue / project filters.

Prints p50 / p95 / max per request kind and overall next to issue 4's target (p95 < 50 ms).
Latency is measured at the client, so it includes HTTP, authentication, the projection
catch-up each listing does (read-your-writes) and JSON encoding.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import create_async_engine

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.http.app import create_app
from bench.databases import (
    PostgresTarget,
    fresh_target,
    postgres_server_version,
    postgres_url_from_env,
)
from events.catalogue.referrals import ContactKind
from events.envelope import NewEvent, StreamAppend, StreamState
from events.migrations import upgrade
from events.registry import catalogue
from events.store import SqlEventStore
from projections.referral_queue import ReferralQueueProjection
from projections.runner import ProjectionRunner
from services.bootstrap import build_signal_intake
from services.referrals import lifecycle
from services.referrals.teams import Teams
from services.settings import Settings

TARGET_P95_MS = 50.0
TEAM = "wijkteam-noord"
OTHER_TEAMS = ("wijkteam-zuid", "wijkteam-oost", "wijkteam-west", "wijkteam-centrum")
PROJECTS = ("schuldenspecialisten", "vroeg-erop-af", "rub")
TOKEN = "bench-token-" + "q" * 32
TODAY = date(2026, 11, 28)


def referral_events(rng: random.Random, team: str) -> list[Any]:
    requested_on = TODAY - timedelta(days=rng.randrange(0, 90))
    referral_id = uuid.uuid4()
    events = lifecycle.request(
        referral_id=referral_id,
        case_id=uuid.uuid4(),
        project=rng.choice(PROJECTS),
        team=team,
        urgent=rng.random() < 0.05,
        requested_on=requested_on,
        rule_id="bench",
    )
    if rng.random() < 1 / 3:
        referral = lifecycle.fold(events)
        at = datetime.combine(requested_on, datetime.min.time(), UTC) + timedelta(hours=10)
        events += lifecycle.claim(referral, f"mw-{rng.randrange(40)}", at)
        if rng.random() < 1 / 6:
            referral = lifecycle.fold(events)
            events += lifecycle.record_contact_attempt(
                referral,
                ContactKind.PHONE,
                rng.random() < 0.5,
                requested_on + timedelta(days=2),
                None,
            )
    return events


async def write_queue(store: SqlEventStore, open_referrals: int, seed: int) -> int:
    rng = random.Random(seed)
    teams = [TEAM] * open_referrals + [
        OTHER_TEAMS[i % len(OTHER_TEAMS)] for i in range(open_referrals)
    ]
    written = 0
    for start in range(0, len(teams), 1000):
        appends = []
        for team in teams[start : start + 1000]:
            events = referral_events(rng, team)
            appends.append(
                StreamAppend(
                    f"referral-{events[0].referral_id}",
                    [NewEvent(event) for event in events],
                    StreamState.NO_STREAM,
                )
            )
            written += len(events)
        async with store.unit_of_work() as uow:
            await uow.append_many(appends)
    await ProjectionRunner(store, [ReferralQueueProjection()]).catch_up()
    return written


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def request_plan(rng: random.Random, requests: int, pages: int) -> list[tuple[str, dict[str, str]]]:
    kinds: list[tuple[str, dict[str, str]]] = []
    for number in range(requests):
        match number % 6:
            case 0:
                kinds.append(("first page", {}))
            case 1:
                kinds.append(("random page", {"pagina": str(rng.randrange(1, pages + 1))}))
            case 2:
                kinds.append(("page of 100", {"paginaGrootte": "100"}))
            case 3:
                kinds.append(("status filter", {"status": "opgepakt"}))
            case 4:
                kinds.append(("overdue filter", {"achterstallig": "true"}))
            case _:
                kinds.append(("project filter", {"project": rng.choice(PROJECTS)}))
    return kinds


async def measure(
    target: PostgresTarget, open_referrals: int, requests: int, seed: int
) -> tuple[dict[str, list[float]], int, int]:
    engine = create_async_engine(
        target.url, connect_args={"server_settings": {"search_path": target.schema}}
    )
    store = SqlEventStore(engine, catalogue)
    await upgrade(engine)
    events = await write_queue(store, open_referrals, seed)
    settings = Settings(database_url=target.url)
    app = create_app(settings, intake=build_signal_intake(settings, store))
    app.state.teams = Teams.from_tokens({TEAM: TOKEN})
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    timings: dict[str, list[float]] = {}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            first = await client.get("/v1/verwijzingen", headers=headers)
            first.raise_for_status()
            total = int(first.headers["X-Total-Count"])
            rng = random.Random(seed)
            for _ in range(20):  # warm up connections and caches
                await client.get("/v1/verwijzingen", headers=headers)
            for kind, params in request_plan(rng, requests, max(1, total // 20)):
                started = time.perf_counter()
                answer = await client.get("/v1/verwijzingen", params=params, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                answer.raise_for_status()
                timings.setdefault(kind, []).append(elapsed)
    finally:
        server.should_exit = True
        await serving
        await store.close()
    return timings, total, events


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=10_000, help="Open referrals in the team.")
    parser.add_argument("--requests", type=int, default=600, help="Timed requests.")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    console = Console()
    url = postgres_url_from_env()
    console.print(
        f"[bold]Queue listing latency[/bold] — PostgreSQL {postgres_server_version(url)}, "
        f"{args.open:,} open referrals in {TEAM} plus {args.open:,} in other teams, "
        f"{args.requests} sequential requests over loopback"
    )
    with fresh_target("postgres", url) as target:
        assert isinstance(target, PostgresTarget)
        timings, total, events = asyncio.run(measure(target, args.open, args.requests, args.seed))
    table = Table(title=f"GET /v1/verwijzingen ({total:,} in the team's queue, {events:,} events)")
    for column in ("request", "n", "p50 ms", "p95 ms", "max ms"):
        table.add_column(column, justify="right" if column != "request" else "left")
    everything = [value for values in timings.values() for value in values]
    for kind, values in [*timings.items(), ("all", everything)]:
        table.add_row(
            kind,
            str(len(values)),
            f"{statistics.median(values):.1f}",
            f"{percentile(values, 0.95):.1f}",
            f"{max(values):.1f}",
        )
    console.print(table)
    p95 = percentile(everything, 0.95)
    verdict = "met" if p95 < TARGET_P95_MS else "MISSED"
    console.print(f"target p95 < {TARGET_P95_MS:.0f} ms: {p95:.1f} ms — {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
