"""`signaalhub rules ...`: validate routing rules files (DESIGN §6)."""

from __future__ import annotations

import uuid
from pathlib import Path

import typer
from rich.table import Table

from adapters.cli.running import console, errors, load_settings, run
from events.catalogue.routing import CaseRouted
from events.envelope import RecordedEvent
from services.bootstrap import build_event_store
from services.config_files import ConfigError, load_toml
from services.routing.check_rules import check_rules_document
from services.routing.config import Projects, load_projects, parse_routing_rules

app = typer.Typer(help="Check and explain the routing rules.", no_args_is_help=True)


@app.callback()
def rules() -> None:
    """Check and explain the routing rules."""
    # A callback keeps `rules` a group even while it has one command, so `rules check FILE`
    # works the same alone (in tests) and under the main app.


def _projects(rules_file: Path, config_dir: Path | None) -> Projects:
    # The rules are checked against the projects they will run with: those beside the file
    # (a configuration directory being edited), else the hub's HUB_CONFIG_DIR.
    if config_dir is None:
        beside = rules_file.parent
        config_dir = beside if (beside / "projects.toml").exists() else load_settings().config_dir
    return load_projects(config_dir)


@app.command("check")
def check(
    file: Path = typer.Argument(..., help="The routing rules file (TOML) to check."),
    config_dir: Path | None = typer.Option(
        None, help="Where projects.toml is; default: beside FILE, else HUB_CONFIG_DIR."
    ),
) -> None:
    """Print every problem of a rules file and exit 1, or show the rules and exit 0."""
    try:
        projects = _projects(file, config_dir)
        data = load_toml(file)
    except ConfigError as error:
        errors.print(f"[red]error:[/red] {error}", markup=True, highlight=False)
        raise typer.Exit(1) from None
    problems = check_rules_document(data, projects, str(file))
    if problems:
        for problem in problems:
            errors.print(f"[red]error:[/red] {problem}", highlight=False)
        errors.print(f"{len(problems)} problem(s) in {file}")
        raise typer.Exit(1)
    version, rules, _ = parse_routing_rules(data, str(file))
    table = Table()
    for column in ("#", "id", "when", "then", "urgent"):
        table.add_column(column)
    for number, rule in enumerate(rules, start=1):
        table.add_row(
            str(number), rule.id, rule.when.describe(), rule.then, "yes" if rule.urgent else ""
        )
    console.print(table)
    # The summary is its own soft-wrapped line: a table title wraps at the table's width,
    # which would split it wherever a long path happens to end.
    console.print(
        f"{file}: {len(rules)} rules, version {version}, no problems",
        soft_wrap=True,
        highlight=False,
    )


@app.command("explain")
def explain(
    case_id: str = typer.Argument(..., help="The case id (the uuid in case-<uuid>)."),
) -> None:
    """Why a case went where it went: every routing decision with its rule, rules version,
    explanation, the facts it was tested on and the rules passed over (no personal data)."""
    settings = load_settings()
    try:
        case = uuid.UUID(case_id.removeprefix("case-"))
    except ValueError:
        errors.print(f"[red]error:[/red] {case_id!r} is not a case id (a uuid)")
        raise typer.Exit(2) from None

    async def go() -> list[RecordedEvent]:
        store = build_event_store(settings)
        try:
            return await store.read_stream(f"case-{case}")
        finally:
            await store.close()

    history = run(go())
    if not history:
        errors.print(f"[red]error:[/red] no case {case}")
        raise typer.Exit(1)
    decisions = [r for r in history if isinstance(r.event, CaseRouted)]
    if not decisions:
        console.print(f"Case {case} has not been routed (yet).")
        return
    for number, recorded in enumerate(decisions, start=1):
        decision = recorded.event
        assert isinstance(decision, CaseRouted)
        target = (
            f"{decision.project} / {decision.team}" if decision.project else str(decision.outcome)
        )
        table = Table(
            title=f"Decision {number} of {len(decisions)}: {target}"
            + (" (urgent)" if decision.urgent else ""),
            show_header=False,
        )
        table.add_column("what")
        table.add_column("value")
        table.add_row("when", recorded.recorded_at.strftime("%Y-%m-%d %H:%M:%S UTC"))
        table.add_row("rule", f"{decision.rule_id} (rules version {decision.rules_version})")
        table.add_row("why", decision.explanation)
        for name, value in sorted(decision.facts.items()):
            shown = ", ".join(value) if isinstance(value, list) else str(value)
            table.add_row(f"fact: {name}", shown)
        for passed in decision.passed_over:
            table.add_row("passed over", passed)
        console.print(table)
