"""The demo's simulated year, wired: synthetic partner files through the file channel, the
teams' work through the referral use cases, then the projections. Progress bars throughout.

``services.simulation.simulate_year`` owns the timeline; this module gives it the file
channel (an adapter, so it lives here and not in ``services``) and shows progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import (
    Progress,
    TaskID,
)

from adapters.cli.running import progress_bars
from adapters.files.ingest_files import IngestSummary, ingest_files
from events.store import SqlEventStore
from projections.catalogue import all_projections
from projections.runner import ProjectionRunner
from services.bootstrap import build_signal_intake, open_migrated_event_store
from services.intake.receive_signals import SignalIntake
from services.routing.config import load_projects, load_wijken
from services.settings import Settings
from services.simulation.simulate_year import (
    INGEST_TIME,
    SimulatedClock,
    YearOfWork,
    last_day,
    municipal_moment,
    simulate_year,
)
from services.synthetic_partner_files import SyntheticMunicipality, write_month


@dataclass
class DemoYear:
    """What the demo did, for the command to print. No personal data."""

    ingest: dict[str, IngestSummary] = field(default_factory=dict)
    work: YearOfWork = field(default_factory=YearOfWork)
    files: dict[tuple[int, int], list[Path]] = field(default_factory=dict)
    projections: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


async def run_demo_year(
    settings: Settings,
    store: SqlEventStore,
    clock: SimulatedClock,
    *,
    months: list[tuple[int, int]],
    signals_per_month: int,
    seed: int,
    out: Path,
    rejects: Path,
    today: date,
    console: Console,
) -> DemoYear:
    """Write every month's partner files, then live the year: ingest each month on its last
    day, teams at work every day until yesterday; then bring the projections up to date.
    ``store`` must run on ``clock``."""
    demo = DemoYear()
    intake = build_signal_intake(settings, store)
    partners = list(intake.partners)
    municipality = SyntheticMunicipality(seed, partners=partners)
    with _timed(demo, "write"), progress_bars(console) as progress:
        writing = progress.add_task("Writing partner files", total=len(months))
        for year, month in months:
            folder = out / f"{year:04d}-{month:02d}"
            demo.files[(year, month)] = write_month(
                municipality, year, month, signals_per_month, folder, partners
            )
            progress.advance(writing)

    total_bytes = sum(p.stat().st_size for paths in demo.files.values() for p in paths)
    config = settings.config_dir
    projects = load_projects(config)
    with _timed(demo, "simulate"), progress_bars(console) as progress:
        ingesting = progress.add_task("Ingesting partner files (bytes)", total=total_bytes)
        first_ingest = last_day(*months[0])
        working = progress.add_task(
            "Teams working their queues (days)", total=max(0, (today - first_ingest).days)
        )

        async def ingest_month(year: int, month: int, day: date) -> None:
            await _ingest_month(
                intake, demo, demo.files[(year, month)], rejects, day, progress, ingesting
            )

        demo.work = await simulate_year(
            store,
            clock,
            months=months,
            today=today,
            ingest_month=ingest_month,
            seed=seed,
            projects=projects,
            wijken=load_wijken(config, projects),
            on_day=lambda _day: progress.advance(working),
        )
    with _timed(demo, "projections"):
        demo.projections = await catch_up_with_progress(store, console, settings.config_dir)
    return demo


async def open_simulation_store(
    settings: Settings, months: list[tuple[int, int]]
) -> tuple[SqlEventStore, SimulatedClock]:
    """The event store on a simulated clock that starts at the first month's ingest."""
    clock = SimulatedClock(municipal_moment(last_day(*months[0]), INGEST_TIME))
    return await open_migrated_event_store(settings, clock=clock), clock


async def _ingest_month(
    intake: SignalIntake,
    demo: DemoYear,
    paths: list[Path],
    rejects: Path,
    day: date,
    progress: Progress,
    task: TaskID,
) -> None:
    # Routing dates referrals by the intake's clock: the day the monthly files arrive.
    intake.clock = lambda: day
    for path in paths:
        partner = intake.partners.get(path.stem.split("-", 2)[2])
        assert partner is not None, f"{path.name} is named after no configured partner"
        summary = await ingest_files(
            intake,
            partner,
            [path],
            rejects / f"{path.stem}.csv",
            today=day,
            on_bytes=lambda n: progress.advance(task, n),
        )
        add_summary(demo.ingest.setdefault(partner.id, IngestSummary()), summary)


def add_summary(total: IngestSummary, part: IngestSummary) -> None:
    total.accepted += part.accepted
    total.duplicates += part.duplicates
    total.rejected += part.rejected


async def catch_up_with_progress(
    store: SqlEventStore, console: Console, config_dir: Path
) -> dict[str, int]:
    """Every projection up to date, with a bar that follows each page they commit."""
    projections = all_projections(config_dir)
    last = await store.last_position()
    with progress_bars(console) as progress:
        task = progress.add_task("Projections catching up (events)", total=last * len(projections))
        done = dict.fromkeys((p.name for p in projections), 0)

        def committed(name: str, position: int) -> None:
            done[name] = min(position, last)
            progress.update(task, completed=sum(done.values()))

        applied = await ProjectionRunner(store, projections, on_page=committed).catch_up()
        progress.update(task, completed=last * len(projections))
        return applied


@contextmanager
def _timed(
    demo: DemoYear, step: str, clock: Callable[[], float] = time.perf_counter
) -> Iterator[None]:
    started = clock()
    try:
        yield
    finally:
        demo.seconds[step] = clock() - started
