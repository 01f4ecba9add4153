"""`signaalhub settings`: what the hub would run with (secrets hidden)."""

from __future__ import annotations

from rich.table import Table

from adapters.cli.running import console, load_settings


def show_settings() -> None:
    """Show the effective settings and the environment variable behind each."""
    settings = load_settings()
    table = Table(title="Effective settings")
    table.add_column("variable")
    table.add_column("value")
    table.add_column("meaning")
    values = settings.model_dump()
    values["database_url"] = settings.redacted_database_url()
    values["nats_url"] = settings.redacted_nats_url()
    for name, field in type(settings).model_fields.items():
        value = values[name]
        table.add_row(f"HUB_{name.upper()}", "" if value is None else str(value), field.description)
    console.print(table)
