"""Benchmark signal intake: ``python -m bench.intake [--signals N] [--nats-signals N]``.

1. File ingest of N generated signals (a month of partner files, all nine Almelo partners)
   into SQLite and PostgreSQL: signals/s and the peak RSS of the ingesting process (files
   over 256 KiB are parsed by its one parser process, whose memory is not included).
2. A month of M generated signals through NATS JetStream end to end on PostgreSQL: every
   row of every partner's file (a partner with a file mapping publishes its rows under the
   wire names) is published as a CloudEvent from a separate process, consumed in batches
   and recorded; signals/s from the first publish until every message has its outcome.
3. The reference from the same run: the event store's raw batched append rate (500 events
   a call) on the same backend, printed as the ratio intake is compared to.

Every row shows how its signals ended (accepted / duplicate / rejected): the generated data
has no duplicates or rejects, so anything else there is a finding. Each measurement runs in
a child process, so its peak RSS is its own. ``HUB_BENCH_DATABASE_URL`` picks the PostgreSQL
database; the store's write lock is one advisory lock per database, so a shared database
also measures everyone else's writes there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import suppress
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.databases import (
    Backend,
    PostgresTarget,
    Target,
    fresh_target,
    postgres_url_from_env,
)

TODAY = date(2026, 11, 28)
MONTH = (2026, 10)
TARGETS = {"file postgres": 2000.0, "nats postgres": 1000.0}
RSS_LIMIT_MB = 300.0


def _engine_url(target: Target) -> tuple[str, dict[str, Any]]:
    if isinstance(target, PostgresTarget):
        return target.url, {"connect_args": {"server_settings": {"search_path": target.schema}}}
    return f"sqlite+aiosqlite:///{target.path}", {}


async def _open_intake(target: Target) -> Any:
    import events.catalogue  # noqa: F401  (registers the domain events)
    from events.migrations import upgrade
    from events.registry import catalogue
    from events.store import SqlEventStore
    from events.store.engine import create_engine
    from services.intake.receive_signals import SignalIntake
    from services.intake.rules import load_intake_rules
    from services.municipalities import load_municipalities
    from services.partners import load_partners

    url, kwargs = _engine_url(target)
    engine = create_engine(url, **kwargs)
    await upgrade(engine)
    store = SqlEventStore(engine, catalogue)
    config = Path("config")
    intake = SignalIntake(
        store, load_partners(config), load_municipalities(config), load_intake_rules(config)
    )
    return store, intake


# -- child processes --------------------------------------------------------------------------


async def _ingest_files(target: Target, folder: Path) -> dict[str, float]:
    from adapters.files.ingest_files import ingest_files

    store, intake = await _open_intake(target)
    files = sorted(folder.glob("*.csv"))
    started = time.perf_counter()
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    try:
        for path in files:
            partner = intake.partners.get(path.stem.split("-", 2)[2])
            summary = await ingest_files(
                intake, partner, [path], folder / "rejects" / f"{path.stem}.csv", today=TODAY
            )
            counts["accepted"] += summary.accepted
            counts["duplicate"] += summary.duplicates
            counts["rejected"] += summary.rejected
            if summary.rejected:
                raise RuntimeError(f"{path.name}: {summary.rejected} rejected; expected none")
    finally:
        await store.close()
    seconds = time.perf_counter() - started
    return {"signals": sum(counts.values()), "seconds": seconds, **counts}


async def _through_nats(target: Target, folder: Path, nats_url: str) -> dict[str, float]:
    import nats

    from adapters.broker.signal_intake import (
        IntakeTopology,
        build_intake_broker,
        settle_long_lived_objects,
    )

    store, intake = await _open_intake(target)
    # Every outcome counts, whatever it is: a signal is done when it is accepted, a duplicate
    # or rejected. (Counting SignalReceived events instead would wait for ever on a duplicate.)
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    receive = intake.receive

    async def counting_receive(submissions: Any) -> Any:
        outcomes = await receive(submissions)
        for outcome in outcomes:  # only after the batch committed
            counts[outcome.status] += 1
        return outcomes

    intake.receive = counting_receive
    suffix = uuid.uuid4().hex[:8]
    topology = IntakeTopology(
        signal_stream=f"BENCH_SIGNALEN_{suffix}",
        signal_subjects=f"bench{suffix}.signalen",
        rejection_stream=f"BENCH_AFWIJZINGEN_{suffix}",
        rejection_subjects=f"bench{suffix}.afwijzingen",
        durable=f"bench-intake-{suffix}",
    )
    broker, _app = build_intake_broker(
        nats_url, intake, today=lambda: TODAY, batch_size=500, topology=topology
    )
    settle_long_lived_objects()  # as run_intake_broker does before it consumes
    messages = folder / "nats-messages.txt"
    expected = 0
    with messages.open("w", encoding="utf-8") as out:
        for path in sorted(folder.glob("*.csv")):
            partner = intake.partners.get(path.stem.split("-", 2)[2])
            for row in _wire_rows(path, partner):
                body = _cloud_event(partner.source, row).decode()
                out.write(f"{topology.signal_subjects}.{partner.id} {body}\n")
                expected += 1
    await broker.start()
    try:
        started = time.perf_counter()
        # The partner publishes from a process of its own, as in real life.
        publisher = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.nats_publisher", nats_url, str(messages)
        )
        while sum(counts.values()) < expected:
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
        if await publisher.wait() != 0:
            raise RuntimeError("the publisher failed")
    finally:
        await broker.stop()
        cleanup = await nats.connect(nats_url)
        for stream in (topology.signal_stream, topology.rejection_stream):
            with suppress(Exception):  # best effort: the bench's own streams
                await cleanup.jetstream().delete_stream(stream)
        await cleanup.close()
        await store.close()
    received = await _count_events(target, "SignalReceived")
    if received != counts["accepted"]:
        raise RuntimeError(f"{counts['accepted']} accepted but {received} SignalReceived")
    return {"signals": expected, "seconds": seconds, **counts}


def _wire_rows(path: Path, partner: Any) -> list[dict[str, str]]:
    """The file's rows under the wire field names: a partner with a file mapping (its own
    column names, decimal comma, dd-mm-yyyy dates) publishes the same rows on NATS with the
    wire names, and the values as they are, which the wire format accepts too."""
    mapping = partner.file
    encoding = mapping.encoding if mapping is not None else "utf-8"
    delimiter = (mapping.delimiter if mapping is not None else None) or ";"
    columns = mapping.columns if mapping is not None else {}
    wire_names = {column: wire for wire, column in columns.items()}
    lines = path.read_text(encoding=encoding).splitlines()
    header = [wire_names.get(name, name) for name in lines[0].split(delimiter)]
    return [dict(zip(header, line.split(delimiter), strict=True)) for line in lines[1:] if line]


def _cloud_event(source: str, row: dict[str, str]) -> bytes:
    from adapters.signals.wire import CLIENT_FIELDS

    client_fields = set(CLIENT_FIELDS)
    data: dict[str, Any] = {k: v for k, v in row.items() if v and k not in client_fields}
    data["client"] = {k: v for k, v in row.items() if v and k in client_fields}
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "type": "nl.signaalhub.signaal",
        "data": data,
    }
    return json.dumps(event).encode()


async def _count_events(target: Target, event_type: str) -> int:
    from sqlalchemy import func, select

    from events.store.engine import create_engine
    from events.store.schema import events_table

    url, kwargs = _engine_url(target)
    engine = create_engine(url, **kwargs)
    query = select(func.count()).where(events_table.c.event_type == event_type)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def _raw_batched_appends(target: Target, events: int) -> dict[str, float]:
    from bench.ours import append_batches_then_read
    from bench.signals import make_workload
    from bench.timing import Operation

    workload = make_workload(events, batch_size=500)
    timings = await asyncio.to_thread(append_batches_then_read, target, workload)
    return {"signals": events, "seconds": timings[Operation.APPEND_BATCH]}


def child(kind: str, backend: Backend, folder: str, nats_url: str, events: int) -> None:
    from services.logging import configure_logging
    from services.settings import LogFormat

    # As in production: JSON lines at INFO (to this child's stderr, which the parent drops).
    configure_logging(LogFormat.JSON, "INFO")
    with fresh_target(backend, postgres_url_from_env()) as target:
        if kind == "file":
            result = asyncio.run(_ingest_files(target, Path(folder)))
        elif kind == "nats":
            result = asyncio.run(_through_nats(target, Path(folder), nats_url))
        else:
            result = asyncio.run(_raw_batched_appends(target, events))
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


# -- the report -----------------------------------------------------------------------------


def _run_child(*args: str) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.intake", "--child", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench child {args} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _generate(folder: Path, signals: int) -> None:
    from services.partners import load_partners
    from services.synthetic_partner_files import SyntheticMunicipality, write_month

    partners = list(load_partners(Path("config")))
    municipality = SyntheticMunicipality(2026, households=min(200_000, signals), partners=partners)
    write_month(municipality, MONTH[0], MONTH[1], signals, folder, partners)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--signals", type=int, default=100_000)
    parser.add_argument("--nats-signals", type=int, default=20_000)
    parser.add_argument(
        "--nats-url", default=os.environ.get("HUB_TEST_NATS_URL", "nats://127.0.0.1:4222")
    )
    parser.add_argument("--child", nargs=4, metavar=("KIND", "BACKEND", "FOLDER", "EVENTS"))
    args = parser.parse_args(argv)
    if args.child:
        kind, backend, folder, events = args.child
        child(kind, backend, folder, args.nats_url, int(events))
        return 0
    console = Console(width=150)
    console.print(f"[bold]Intake benchmark[/bold] — {' '.join(sys.argv)}")
    console.print(f"Machine: {os.cpu_count()} cores · PostgreSQL {postgres_url_from_env()}")
    with tempfile.TemporaryDirectory(prefix="hub-intake-bench-") as work:
        files, nats_files = Path(work) / "files", Path(work) / "nats"
        started = time.perf_counter()
        _generate(files, args.signals)
        _generate(nats_files, args.nats_signals)
        console.print(
            f"Generated {args.signals:,} + {args.nats_signals:,} signals as partner files "
            f"in {time.perf_counter() - started:.0f} s"
        )
        rows: list[tuple[str, dict[str, float], dict[str, float]]] = []
        for backend in ("sqlite", "postgres"):
            raw = _run_child("raw", backend, str(files), "20000")
            rows.append((f"file {backend}", _run_child("file", backend, str(files), "0"), raw))
            if backend == "postgres":
                rows.append(
                    (f"nats {backend}", _run_child("nats", backend, str(nats_files), "0"), raw)
                )
    table = Table(title="Signal intake (validation + dedupe + matching + append)")
    for column in (
        "channel",
        "signals",
        "accepted / duplicate / rejected",
        "signals/s",
        "peak RSS",
        "store raw events/s",
        "ratio",
        "target",
    ):
        table.add_column(column, justify="left" if column in {"channel", "target"} else "right")
    for name, result, raw in rows:
        rate = result["signals"] / result["seconds"]
        raw_rate = raw["signals"] / raw["seconds"]
        target = TARGETS.get(name)
        verdict = (
            "—" if target is None else f"≥ {target:,.0f}/s: {'met' if rate >= target else 'MISSED'}"
        )
        table.add_row(
            name,
            f"{result['signals']:,.0f}",
            " / ".join(f"{result[k]:,.0f}" for k in ("accepted", "duplicate", "rejected")),
            f"{rate:,.0f}",
            f"{result['rss_mb']:,.0f} MB",
            f"{raw_rate:,.0f}",
            f"{rate / raw_rate:.3f}×",
            verdict,
        )
    console.print(table)
    console.print(
        "ratio = intake signals/s ÷ the store's raw batched append events/s (500 events a call) "
        "on the same backend in this run; an accepted signal writes 2 to 4 events (signal, "
        "case, routing decision, referral)."
        f" Peak RSS target for a 1,000,000-line file: < {RSS_LIMIT_MB:.0f} MB "
        "(run with --signals 1000000 to measure it)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
