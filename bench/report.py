"""The printed report: what ran where, and the Rich table of rates, ratios and targets."""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bench.databases import Backend
from bench.results import GOALS, Contender, Rate, Results
from bench.timing import Operation

BACKEND_NAMES: dict[Backend, str] = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass(frozen=True, slots=True)
class Setting:
    command: str
    cores: int | None
    python: str
    postgres: str
    sqlite: str
    sqlite_pragmas: str
    peer_sqlite_pragmas: str
    database: str
    events: int
    single_events: int
    runs: int
    batch_size: int
    page_size: int
    payload_bytes: float


def operation_label(operation: Operation, setting: Setting) -> str:
    if operation is Operation.APPEND_ONE:
        return "append 1 event/call"
    if operation is Operation.APPEND_BATCH:
        return f"append {setting.batch_size} events/call"
    return f"read all, {setting.page_size}/page, decoded"


def print_setting(console: Console, setting: Setting) -> None:
    console.print(f"[bold]Command:[/] {setting.command}")
    console.print(
        f"[bold]Machine:[/] {setting.cores} CPU cores · Python {setting.python} · "
        f"PostgreSQL {setting.postgres} · SQLite {setting.sqlite}"
    )
    console.print(f"[bold]PostgreSQL:[/] {setting.database}")
    console.print(
        f"[bold]SQLite pragmas:[/] ours and limit {setting.sqlite_pragmas}; "
        f"peer (its defaults) {setting.peer_sqlite_pragmas}"
    )
    single = (
        f"{setting.single_events:,}"
        if setting.single_events == setting.events
        else f"the first {setting.single_events:,}"
    )
    console.print(
        f"[bold]Workload:[/] {setting.events:,} ArrearsSignalled events, average payload "
        f"{setting.payload_bytes:.0f} bytes of JSON; {single} of them appended one per call; "
        f"median of {setting.runs} run(s), each in a fresh schema / SQLite file"
    )


def _rate_cell(rate: Rate | None) -> Text:
    if rate is None:
        return Text("—", style="dim")
    cell = Text(f"{rate.median:,.0f}")
    if rate.spread >= 0.005:
        cell.append(f" ±{rate.spread:.0%}", style="dim")
    return cell


def _ratio_cell(ratio: float | None) -> Text:
    # Three significant digits, so that a ratio just under a target never prints as "1.00×".
    return Text("—", style="dim") if ratio is None else Text(f"{ratio:.3g}×")


def _goals_cell(results: Results, backend: Backend, operation: Operation) -> Text:
    cell = Text()
    for goal in GOALS:
        if goal.operation is not operation:
            continue
        met = results.met(backend, goal)
        if cell:
            cell.append("\n")
        cell.append(f"≥ {goal.factor:g}× {goal.reference.value}: ")
        if met is None:
            cell.append("not measured", style="dim")
        else:
            cell.append("met" if met else "MISSED", style="bold green" if met else "bold red")
    return cell


def results_table(results: Results, backends: list[Backend], setting: Setting) -> Table:
    table = Table(title="Event store throughput (events/s, median of runs; ± half the range)")
    table.add_column("Backend")
    table.add_column("Operation")
    table.add_column("Events", justify="right")
    table.add_column("Ours", justify="right")
    table.add_column("Limit (a)", justify="right")
    table.add_column("Peer (b)", justify="right")
    table.add_column("Ours/limit", justify="right")
    table.add_column("Ours/peer", justify="right")
    table.add_column("Targets")
    for backend in backends:
        for operation in Operation:
            table.add_row(
                BACKEND_NAMES[backend],
                operation_label(operation, setting),
                f"{results.counts[operation]:,}",
                _rate_cell(results.rate(backend, operation, Contender.OURS)),
                _rate_cell(results.rate(backend, operation, Contender.LIMIT)),
                _rate_cell(results.rate(backend, operation, Contender.PEER)),
                _ratio_cell(results.ratio(backend, operation, Contender.LIMIT)),
                _ratio_cell(results.ratio(backend, operation, Contender.PEER)),
                _goals_cell(results, backend, operation),
            )
        table.add_section()
    return table


def print_notes(console: Console, results: Results, backends: list[Backend]) -> None:
    verdicts = [results.met(backend, goal) for backend in backends for goal in GOALS]
    measured = [verdict for verdict in verdicts if verdict is not None]
    console.print(f"[bold]Targets met:[/] {sum(measured)} of {len(measured)} measured")
    console.print(
        "(a) limit: the same rows loaded raw into a table compiled from the store's schema; "
        "PostgreSQL asyncpg copy_records_to_table, SQLite sqlite3 executemany, one "
        "transaction per batch.\n"
        "(b) peer: eventsourcing's application recorder, given the same payload bytes "
        "already serialised; its read decodes with its own Mapper and JSONTranscoder into "
        "its event objects (without typing UUIDs, amounts and dates, unlike ours)."
    )
    for backend in backends:
        limit = results.rate(backend, Operation.APPEND_BATCH, Contender.LIMIT)
        peer = results.rate(backend, Operation.APPEND_BATCH, Contender.PEER)
        if limit is not None and peer is not None and peer.median > limit.median:
            console.print(
                f"{BACKEND_NAMES[backend]}: the peer's batched append ran at "
                f"{peer.median / limit.median:.2f}× the limit, the raw load into our table with "
                "no store logic at all. Its table is 4 columns with one index; ours also keeps "
                "each event's id (unique across the log, for idempotent appends), its metadata "
                "and time, so ≥ 1× the peer would need an append faster than a raw insert."
            )
        serialising = results.rate(backend, Operation.APPEND_BATCH, Contender.PEER_SERIALISING)
        ours = results.rate(backend, Operation.APPEND_BATCH, Contender.OURS)
        if serialising is not None and ours is not None:
            console.print(
                f"{BACKEND_NAMES[backend]}: like for like, the peer's batched append including "
                f"its Mapper's serialisation of each event (which our append does inside) ran "
                f"at {serialising.median:,.0f} events/s; ours/that "
                f"{ours.median / serialising.median:.3g}×. (Not a target: the peer of the "
                "targets is the recorder alone, given bytes.)"
            )
