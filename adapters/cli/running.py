"""Shared plumbing of CLI commands: settings, logging, running async use cases."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from events.errors import StoreNotMigratedError
from services.bootstrap import configure
from services.settings import Settings

T = TypeVar("T")
console = Console()
errors = Console(stderr=True, soft_wrap=True)


@contextmanager
def progress_bars(out: Console = console) -> Iterator[Progress]:
    """Bars for long work: what, how far, done of total, time taken."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=out,
    ) as progress:
        yield progress


def load_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            field = "HUB_" + "_".join(str(p) for p in problem["loc"]).upper()
            errors.print(f"[red]error:[/red] {field}: {problem['msg']}")
        raise typer.Exit(2) from None
    configure(settings)
    return settings


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except StoreNotMigratedError as error:
        errors.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except OSError as error:
        errors.print(f"[red]error:[/red] cannot reach the database: {error}")
        raise typer.Exit(1) from None
