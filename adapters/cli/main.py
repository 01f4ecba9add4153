"""`signaalhub`: the command line of the hub."""

from __future__ import annotations

import typer

from adapters.cli import (
    database_commands,
    demo_command,
    event_commands,
    export_command,
    ingest_command,
    privacy_commands,
    projection_commands,
    queue_command,
    report_command,
    rules_command,
    serve_command,
    settings_command,
)

app = typer.Typer(
    name="signaalhub",
    help="Signaalhub: early detection of payment arrears (vroegsignalering van schulden).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(database_commands.app, name="db")
app.add_typer(event_commands.app, name="events")
app.add_typer(rules_command.app, name="rules")
app.add_typer(projection_commands.app, name="projections")
app.add_typer(export_command.app, name="export")
app.add_typer(privacy_commands.keys_app, name="keys")
app.add_typer(privacy_commands.retention_app, name="retention")
app.command("erase")(privacy_commands.erase)
app.command("demo")(demo_command.demo)
app.command("ingest")(ingest_command.ingest)
app.command("queue")(queue_command.queue)
app.command("report")(report_command.report)
app.command("serve")(serve_command.serve)
app.command("settings")(settings_command.show_settings)


if __name__ == "__main__":  # pragma: no cover
    app()
