"""Benchmark the cost of sealing personal data: ``python -m bench.encryption [--signals N]``.

The same generated month of partner files is ingested through the file channel into a fresh
PostgreSQL schema, once with personal data sealed per household (as the hub runs) and once
with the records written in plain text — the unencrypted path of the same intake, switched
here and only here by replacing ``seal_rows`` in the child process. Runs alternate (off, on,
off, on, ...) so that a busy moment of the shared machine does not fall on one side only;
each side's best run counts. Target (issue 6): encrypted ≥ 0.8 × unencrypted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

from rich.console import Console
from rich.table import Table

from bench.databases import fresh_target, postgres_url_from_env

TARGET_RATIO = 0.8


async def _write_in_plain_text(
    conn: Any, rows: Sequence[Mapping[str, Any]], keyring: Any = None
) -> None:
    """The unencrypted path: the rows as intake kept them, no data keys. Benchmark only."""
    from events.store.bulk_rows import insert_rows
    from services.intake.tables import personal_data

    await insert_rows(conn, personal_data, [dict(row) for row in rows], skip_conflicts=True)


def child(mode: str, folder: str) -> None:
    from bench.intake import _ingest_files
    from services.logging import configure_logging
    from services.privacy.keys import KeyRing, MasterKey, using_keyring
    from services.settings import LogFormat

    configure_logging(LogFormat.JSON, "INFO")
    keyring = KeyRing(MasterKey.from_bytes(os.urandom(32)))
    with fresh_target("postgres", postgres_url_from_env()) as target, using_keyring(keyring):
        if mode == "off":
            with mock.patch("services.intake.state.seal_rows", _write_in_plain_text):
                result = asyncio.run(_ingest_files(target, Path(folder)))
        else:
            result = asyncio.run(_ingest_files(target, Path(folder)))
    print(json.dumps(result))


def _run_child(mode: str, folder: Path) -> float:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.encryption", "--child", mode, str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"bench child {mode} failed:\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return float(result["signals"]) / float(result["seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--signals", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2, help="runs per side, alternating")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FOLDER"))
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    from bench.intake import _generate

    console = Console(width=120)
    console.print(f"[bold]Encryption benchmark[/bold] — {' '.join(sys.argv)}")
    console.print(f"Machine: {os.cpu_count()} cores · PostgreSQL {postgres_url_from_env()}")
    rates: dict[str, list[float]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory(prefix="hub-encryption-bench-") as work:
        files = Path(work) / "files"
        started = time.perf_counter()
        _generate(files, args.signals)
        console.print(
            f"Generated {args.signals:,} signals as partner files "
            f"in {time.perf_counter() - started:.0f} s"
        )
        for _ in range(args.rounds):
            for mode in ("off", "on"):
                rates[mode].append(_run_child(mode, files))
    table = Table(title="File intake into PostgreSQL, the same data")
    for column in ("personal data", "runs (signals/s)", "best signals/s"):
        table.add_column(column, justify="left" if column == "personal data" else "right")
    for mode, label in (("off", "plain text (unencrypted path)"), ("on", "sealed per household")):
        runs = ", ".join(f"{r:,.0f}" for r in rates[mode])
        table.add_row(label, runs, f"{max(rates[mode]):,.0f}")
    console.print(table)
    ratio = max(rates["on"]) / max(rates["off"])
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    console.print(
        f"ratio encrypted ÷ unencrypted = {ratio:.3f} (target ≥ {TARGET_RATIO}): {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
