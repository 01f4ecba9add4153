"""`signaalhub keys ...`, `signaalhub retention run` and `signaalhub erase`: the personal-data
keys, the retention policy and a person's request to be forgotten (DESIGN §9, issue 6).

Nothing here prints personal data or key material: ids, rules and counts only. A BSN given
to ``erase`` is hashed to find the household and never shown again.
"""

from __future__ import annotations

import getpass
import uuid
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from adapters.cli.running import console, errors, load_settings, run
from services.bootstrap import open_migrated_event_store
from services.bsn import is_valid_bsn
from services.config_files import ConfigError
from services.privacy.erase import RequestResult, RetentionRun, erase_by_bsn, erase_by_case
from services.privacy.erase import run_retention as run_retention_policy
from services.privacy.household_keys import RotationReport, key_counts, rewrap_all
from services.privacy.keys import (
    KeyRing,
    MasterKeyError,
    add_key_to_file,
    install_keyring,
    load_keyring,
)
from services.privacy.personal_store import seal_plaintext_records
from services.privacy.retention import load_retention_policy
from services.settings import Settings

keys_app = typer.Typer(
    help="The master keys that wrap each household's data key.", no_args_is_help=True
)
retention_app = typer.Typer(
    help="Erase personal data whose retention period is over.", no_args_is_help=True
)


def _actor() -> str:
    # An opaque operator id for the event, not a person's name from a directory.
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _keyring(settings: Settings) -> KeyRing:
    try:
        return load_keyring(settings)
    except MasterKeyError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None


@keys_app.command("add")
def add(
    file: Path = typer.Option(..., "--file", help="The key file (created if missing)."),
) -> None:
    """Make a new master key, first in FILE (mode 0600) before the keys it held. Then run
    `signaalhub keys rotate` with HUB_MASTER_KEY_FILE=FILE; the key is never printed."""
    try:
        keyring = add_key_to_file(file)
    except MasterKeyError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    older = ", ".join(keyring.key_ids[1:]) or "none"
    # Soft-wrapped: a long path must not break the line where a script or test reads it.
    console.print(
        f"New current master key {keyring.current.key_id} in {file} (older: {older}).",
        soft_wrap=True,
    )
    console.print(f"Next: HUB_MASTER_KEY_FILE={file} signaalhub keys rotate", soft_wrap=True)


@keys_app.command("rotate")
def rotate() -> None:
    """Re-wrap every household data key under the current master key (HUB_MASTER_KEY or the
    first line of HUB_MASTER_KEY_FILE). Events and personal-data records are not rewritten;
    afterwards the older master keys can be removed from the configuration."""
    settings = load_settings()
    keyring = _keyring(settings)

    async def go() -> RotationReport:
        store = await open_migrated_event_store(settings)
        try:
            async with store.unit_of_work() as uow:
                await uow.lock()
                return await rewrap_all(uow.connection, keyring)
        finally:
            await store.close()

    try:
        report = run(go())
    except MasterKeyError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    install_keyring(keyring)
    table = Table(title=f"Key rotation to master key {report.current_key_id}")
    table.add_column("data keys")
    table.add_column("count", justify="right")
    for old_id, count in sorted(report.rewrapped.items()):
        table.add_row(f"re-wrapped from {old_id}", str(count))
    table.add_row("already under the current key", str(report.already_current))
    table.add_row("erased (nothing to wrap)", str(report.erased))
    console.print(table)
    older = list(keyring.key_ids[1:])
    if older:
        console.print(
            f"{report.total_rewrapped} data keys re-wrapped. No data key needs the older "
            f"master key(s) {', '.join(older)} any more: they can be removed."
        )
    else:
        console.print(f"{report.total_rewrapped} data keys re-wrapped.")


@keys_app.command("seal-plaintext")
def seal_plaintext() -> None:
    """Seal the personal-data records written in plain text before encryption existed
    (migration 0011) under their households' data keys. Safe to run again: sealed records
    are left alone."""
    settings = load_settings()
    keyring = _keyring(settings)

    async def go() -> int:
        store = await open_migrated_event_store(settings)
        try:
            async with store.unit_of_work() as uow:
                await uow.lock()  # no intake batch writes keys meanwhile
                return await seal_plaintext_records(uow.connection, keyring)
        finally:
            await store.close()

    try:
        sealed = run(go())
    except MasterKeyError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"{sealed} plain-text records sealed under master key {keyring.current.key_id}.")


@keys_app.command("status")
def status() -> None:
    """How many data keys each master key wraps, and which master keys are configured."""
    settings = load_settings()
    keyring = _keyring(settings)

    async def go() -> dict[str, int]:
        store = await open_migrated_event_store(settings)
        try:
            async with store.engine.connect() as conn:
                return await key_counts(conn)
        finally:
            await store.close()

    counts = run(go())
    table = Table(title="Household data keys per master key")
    for column in ("master key", "configured as", "data keys"):
        table.add_column(column, justify="right" if column == "data keys" else "left")
    for key_id in sorted(set(counts) | set(keyring.key_ids) - {"erased"}):
        role = (
            "current"
            if key_id == keyring.current.key_id
            else "older"
            if key_id in keyring.key_ids
            else "NOT CONFIGURED"
        )
        table.add_row(key_id, role, str(counts.get(key_id, 0)))
    table.add_row("(erased)", "", str(counts.get("erased", 0)))
    console.print(table)


@retention_app.command("run")
def retention_run(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would go; change nothing."),
    today: str | None = typer.Option(
        None, "--today", help="The day to judge on (YYYY-MM-DD); default today."
    ),
) -> None:
    """Erase the personal data of every household whose cases all ended longer ago than
    config/retention.toml allows, and of rejected inputs past their period; each erasure is
    recorded as PersonalDataErased. Counts and outcomes in reports stay the same."""
    settings = load_settings()
    try:
        policy = load_retention_policy(settings.config_dir)
    except ConfigError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(2) from None
    try:
        day = date.fromisoformat(today) if today else date.today()
    except ValueError:
        errors.print("[red]error:[/red] --today must be a date as YYYY-MM-DD")
        raise typer.Exit(2) from None
    actor = _actor()

    async def go() -> RetentionRun:
        store = await open_migrated_event_store(settings)
        try:
            return await run_retention_policy(
                store, policy, day, dry_run=dry_run, requested_by=actor
            )
        finally:
            await store.close()

    result = run(go())
    title = "Would be erased (dry run)" if dry_run else "Erased"
    table = Table(title=f"{title}, retention judged on {day}")
    for column in ("rule", "households / inputs", "records"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for rule, (owners, records) in result.per_rule().items():
        table.add_row(rule, str(owners), str(records))
    console.print(table)
    verb = "would be erased" if dry_run else "erased"
    console.print(
        f"{len(result.erasures)} {verb}; {result.waiting} kept (a case still open or the "
        "period not over)."
    )


def erase(
    bsn: str | None = typer.Option(
        None, "--bsn", help="The person's BSN (hashed to find the household; never shown)."
    ),
    case: str | None = typer.Option(None, "--case", help="A case id of the household."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded with the erasure)."),
) -> None:
    """Erase a household's personal data now, on request (AVG right to be forgotten).

    Give --bsn or --case. The whole household the person was matched to is erased; signals,
    cases and outcomes stay for the reports."""
    if (bsn is None) == (case is None):
        errors.print("[red]error:[/red] give exactly one of --bsn and --case")
        raise typer.Exit(2)
    if not reason.strip() or len(reason) > 500:
        errors.print("[red]error:[/red] --reason must be 1 to 500 characters")
        raise typer.Exit(2)
    if bsn is not None and not is_valid_bsn(bsn):
        # Intake only accepts valid BSNs, so nothing else can match; the value is not echoed.
        errors.print("[red]error:[/red] --bsn must be a valid BSN (9 digits, eleven-test)")
        raise typer.Exit(2)
    case_id: uuid.UUID | None = None
    if case is not None:
        try:
            case_id = uuid.UUID(case)
        except ValueError:
            errors.print("[red]error:[/red] --case must be a case id (a uuid)")
            raise typer.Exit(2) from None
    settings = load_settings()
    actor = _actor()

    async def go() -> RequestResult:
        store = await open_migrated_event_store(settings)
        try:
            if case_id is not None:
                return await erase_by_case(store, case_id, reason.strip(), actor)
            assert bsn is not None
            return await erase_by_bsn(store, bsn, reason.strip(), actor)
        finally:
            await store.close()

    result = run(go())
    if not result.found:
        errors.print(
            "[red]error:[/red] no household found"
            + (" for that BSN (or it was erased already)" if bsn else f" for case {case_id}")
        )
        raise typer.Exit(1)
    for erasure in result.erasures:
        console.print(f"Household {erasure.owner_id}: {erasure.records} records erased.")
    console.print("PersonalDataErased is recorded with the reason.")
