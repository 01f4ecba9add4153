"""Ingesting partner files: stream, record in batches, write every rejection to a file."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from adapters.files.signal_file import read_submissions
from services.intake.receive_signals import IntakeOutcome, SignalIntake, Submission
from services.partners import Partner

BATCH_SIZE = 1000
REJECTS_HEADER = ("bestand", "regel", "veld", "reden")


@dataclass
class IngestSummary:
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects_file: Path | None = None

    def count(self, outcome: IntakeOutcome) -> None:
        if outcome.status == "accepted":
            self.accepted += 1
        elif outcome.status == "duplicate":
            self.duplicates += 1
        else:
            self.rejected += 1


async def ingest_files(
    intake: SignalIntake,
    partner: Partner,
    paths: Iterable[Path],
    rejects_path: Path,
    *,
    today: date,
    on_bytes: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> IngestSummary:
    """Record every line of every file; returns the counts. ``UnreadableFileError`` stops
    before a file's first line is recorded (earlier files stay recorded: each batch commits)."""
    summary = IngestSummary(rejects_file=rejects_path)
    rejects_path.parent.mkdir(parents=True, exist_ok=True)
    with rejects_path.open("w", encoding="utf-8", newline="") as rejects:
        writer = csv.writer(rejects, delimiter=";")
        writer.writerow(REJECTS_HEADER)
        for path in paths:
            submissions = read_submissions(path, partner, today=today, on_bytes=on_bytes)
            async for outcomes in _record_in_batches(intake, submissions, batch_size):
                for outcome in outcomes:
                    summary.count(outcome)
                    _write_rejection(writer, path, outcome, partner)
            _flush(rejects)
    return summary


async def _record_in_batches(
    intake: SignalIntake, submissions: Iterable[Submission], batch_size: int
) -> AsyncIterator[list[IntakeOutcome]]:
    """Outcomes batch by batch. The next batch is read and validated on a worker thread while
    the database records the current one, so waiting for the database costs no time."""
    batches = _batches(submissions, batch_size)
    batch = await asyncio.to_thread(next, batches, None)
    while batch is not None:
        recording = asyncio.create_task(intake.receive(batch))
        try:
            following = await asyncio.to_thread(next, batches, None)
        finally:
            outcomes = await recording
        yield outcomes
        batch = following


def _batches(items: Iterable[Submission], size: int) -> Iterator[list[Submission]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _write_rejection(writer: Any, path: Path, outcome: IntakeOutcome, partner: Partner) -> None:
    if outcome.status != "rejected":
        return
    for reason in outcome.reasons:
        column = column_name(reason.field, partner)
        writer.writerow((path.name, outcome.line_number or "", column, reason.problem))


def column_name(field: str, partner: Partner) -> str:
    """The column a partner sees in its own file for a wire field (``client.postcode`` is the
    flat ``postcode`` column, or whatever the partner's mapping calls it)."""
    wire = field.removeprefix("client.")
    if partner.file is not None:
        return partner.file.columns.get(wire, wire)
    return wire


def _flush(handle: TextIO) -> None:
    handle.flush()
