"""Benchmark the event store: ``python -m bench.run [--events N] [--runs R] [--backend B]``.

Prints a report and exits 0 even when a target is missed; only errors exit non-zero.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import make_url

from bench import limit, ours, peer
from bench.databases import (
    BACKENDS,
    Backend,
    SqliteTarget,
    Target,
    fresh_target,
    postgres_server_version,
    postgres_url_from_env,
    sqlite_version,
    store_sqlite_pragmas,
)
from bench.report import Setting, print_notes, print_setting, results_table
from bench.results import Contender, Results
from bench.signals import Workload, make_workload
from bench.timing import Operation, Timings

BATCH_SIZE = 500
DEFAULT_SINGLE_EVENTS = 5000


@dataclass(frozen=True, slots=True)
class Scenario:
    contender: Contender
    measure: Callable[[Target, Workload], Timings]
    one_per_call: bool
    """Runs on the single-event subset of the workload, not all of it."""


# Alternating contenders, so slow drift on the machine does not land on one of them only.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(Contender.OURS, ours.append_one_each, one_per_call=True),
    Scenario(Contender.PEER, peer.append_one_each, one_per_call=True),
    Scenario(Contender.OURS, ours.append_batches_then_read, one_per_call=False),
    Scenario(Contender.LIMIT, limit.load_batches, one_per_call=False),
    Scenario(Contender.PEER, peer.append_batches_then_read, one_per_call=False),
    Scenario(Contender.PEER_SERIALISING, peer.append_batches_serialising, one_per_call=False),
)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _not_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--events", type=_positive, default=20_000, help="events per run")
    parser.add_argument("--runs", type=_positive, default=3, help="runs; the median is shown")
    parser.add_argument(
        "--backend", choices=[*BACKENDS, "all"], default="all", help="database(s) to measure"
    )
    parser.add_argument(
        "--single-events",
        type=_not_negative,
        default=DEFAULT_SINGLE_EVENTS,
        help=(
            "how many of the events to append one per call (default %(default)s, at most "
            "--events, 0 skips it). That rate is bound by per-call latency and steady after "
            "a few thousand calls, while all 20,000 would take most of the bench's time."
        ),
    )
    return parser.parse_args(argv)


def _sqlite_pragmas(
    read: Callable[[SqliteTarget], dict[str, object]], backends: list[Backend]
) -> str:
    if "sqlite" not in backends:
        return "(not used)"
    with tempfile.TemporaryDirectory(prefix="hub-bench-") as directory:
        pragmas = read(SqliteTarget(Path(directory) / "pragmas.sqlite3"))
    return " ".join(f"{name}={value}" for name, value in pragmas.items())


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    # Piped output would otherwise be cut to 80 columns, too narrow for the table.
    out = Console(width=None if sys.stdout.isatty() else 150)
    progress = Console(stderr=True, log_path=False)
    backends: list[Backend] = list(BACKENDS) if args.backend == "all" else [args.backend]
    postgres_url = postgres_url_from_env()
    workload = make_workload(args.events, BATCH_SIZE)
    single_count = min(args.single_events, args.events)
    single = workload.head(single_count)
    setting = Setting(
        command=shlex.join(sys.orig_argv),
        cores=os.cpu_count(),
        python=platform.python_version(),
        postgres=(
            postgres_server_version(postgres_url) if "postgres" in backends else "(not used)"
        ),
        sqlite=sqlite_version(),
        sqlite_pragmas=_sqlite_pragmas(store_sqlite_pragmas, backends),
        peer_sqlite_pragmas=_sqlite_pragmas(peer.sqlite_pragmas, backends),
        database=make_url(postgres_url).render_as_string(hide_password=True),
        events=args.events,
        single_events=single_count,
        runs=args.runs,
        batch_size=BATCH_SIZE,
        page_size=ours.READ_PAGE,
        payload_bytes=workload.average_payload_bytes(),
    )
    print_setting(out, setting)
    results = Results(
        counts={
            Operation.APPEND_ONE: single_count,
            Operation.APPEND_BATCH: args.events,
            Operation.READ_ALL: args.events,
        }
    )
    for run in range(1, args.runs + 1):
        for backend in backends:
            for scenario in SCENARIOS:
                if scenario.one_per_call and single_count == 0:
                    continue
                with fresh_target(backend, postgres_url) as target:
                    timings = scenario.measure(
                        target, single if scenario.one_per_call else workload
                    )
                results.add(backend, scenario.contender, timings)
                for operation, seconds in timings.items():
                    progress.log(
                        f"run {run}/{args.runs} {backend} {scenario.contender.value} "
                        f"{operation.value}: {results.counts[operation] / seconds:,.0f} events/s"
                    )
    out.print(results_table(results, backends, setting))
    print_notes(out, results, backends)
    out.print(f"[bold]Took:[/] {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
