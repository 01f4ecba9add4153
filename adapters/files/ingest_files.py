"""Ingesting partner files: stream, record in batches, write every rejection to a file.

Reading and validating a line costs about as much CPU as recording it. For a large file the
lines are therefore parsed in a second process (one worker, started once per process, its
modules loaded before the first file), chunk by chunk and at most a few chunks ahead, while
this process records: on a machine with two cores both run at once instead of taking turns
for the interpreter lock. The worker also works out what intake derives from a signal alone
(its content hash, household match keys and personal-data JSON: ``prepare``). A small file,
one core, or a worker that cannot be used: parsed here, on a thread, with the same result —
the worker runs the very same ``parse_chunk``, and intake prepares what it was not given.
"""

from __future__ import annotations

import asyncio
import atexit
import csv
import gc
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from adapters.files.signal_file import (
    LineChunk,
    parse_and_prepare_chunk,
    parse_chunk,
    read_chunks,
)
from events.store.gc_pause import paused_garbage_collection
from services.intake.receive_signals import IntakeOutcome, SignalIntake, Submission
from services.partners import Partner

BATCH_SIZE = 1000
PARSER_PROCESS_FROM_BYTES = 256 * 1024
"""Files at least this large are parsed in the worker process (when there are two cores)."""
COLLECT_EVERY = 50
"""Batches between two runs of the cyclic garbage collector while files are recorded."""
CHUNKS_AHEAD = 3
"""Chunks handed to the worker before the first of them is taken back: memory stays bounded."""
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
    parser_process: bool | None = None,
) -> IngestSummary:
    """Record every line of every file; returns the counts. ``UnreadableFileError`` stops
    before a file's first line is recorded (earlier files stay recorded: each batch commits).
    ``parser_process`` forces parsing in the worker process (``True``) or here (``False``);
    by default large files go to the worker when the machine has more than one core."""
    summary = IngestSummary(rejects_file=rejects_path)
    rejects_path.parent.mkdir(parents=True, exist_ok=True)
    # The cyclic collector runs every COLLECT_EVERY batches instead of every few hundred
    # allocations: each batch's objects are freed by reference counting when it is recorded,
    # and collections meanwhile mostly rescanned the batch in flight (100,000 lines: ~1.8 s
    # of collections). The few cycles a batch leaves (~0.3 objects a line) wait for the next.
    with (
        paused_garbage_collection(),
        rejects_path.open("w", encoding="utf-8", newline="") as rejects,
    ):
        writer = csv.writer(rejects, delimiter=";")
        writer.writerow(REJECTS_HEADER)
        recorded_batches = 0
        for path in paths:
            chunks = read_chunks(
                path, partner, today=today, on_bytes=on_bytes, lines_per_chunk=batch_size
            )
            if parser_process is None:
                use_worker = _multi_core() and _size(path) >= PARSER_PROCESS_FROM_BYTES
            else:
                use_worker = parser_process
            submissions = _in_worker(chunks) if use_worker else _here(chunks)
            async for outcomes in _record_in_batches(intake, submissions, batch_size):
                recorded_batches += 1
                if recorded_batches % COLLECT_EVERY == 0:
                    gc.collect()
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


def _here(chunks: Iterable[LineChunk]) -> Iterator[Submission]:
    for chunk in chunks:
        yield from parse_chunk(chunk)


def _in_worker(chunks: Iterator[LineChunk]) -> Iterator[Submission]:
    """The chunks' submissions in order, parsed by the worker up to ``CHUNKS_AHEAD`` ahead.
    A chunk the worker could not parse (it died, or could not start) is parsed here."""
    pool = _parser_pool()
    pending: deque[tuple[LineChunk, Future[list[Submission]] | None]] = deque()

    def hand_over(chunk: LineChunk) -> None:
        try:
            future = pool.submit(parse_and_prepare_chunk, chunk) if pool else None
            pending.append((chunk, future))
        except Exception:  # a broken pool: this chunk and the rest are parsed here
            pending.append((chunk, None))

    try:
        for chunk in islice(chunks, CHUNKS_AHEAD):
            hand_over(chunk)
        while pending:
            chunk, future = pending.popleft()
            submissions = _result(future)
            yield from submissions if submissions is not None else parse_chunk(chunk)
            following = next(chunks, None)
            if following is not None:
                hand_over(following)
    finally:
        for _, future in pending:
            if future is not None:
                future.cancel()


def _result(future: Future[list[Submission]] | None) -> list[Submission] | None:
    if future is None:
        return None
    try:
        return future.result()
    except BrokenProcessPool:  # the worker died: parse it here; the next file starts another
        _forget_pool()
        return None
    except Exception:  # pragma: no cover - parse_chunk does not raise; parsed here it would
        return None


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _parser_pool() -> ProcessPoolExecutor | None:
    """The one worker process, started on first use and kept for this process's life."""
    global _pool
    with _pool_lock:
        if _pool is None:
            try:
                # forkserver: the worker is forked from a clean single-threaded server that
                # imported the parsing modules once, not from this process and its threads.
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["adapters.files.signal_file"])
                _pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
                atexit.register(_pool.shutdown, cancel_futures=True)
            except Exception:
                return None
        return _pool


def _forget_pool() -> None:
    global _pool
    with _pool_lock:
        _pool = None


def _multi_core() -> bool:
    return (os.cpu_count() or 1) > 1


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # read_chunks says what is wrong with it


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
