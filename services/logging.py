"""structlog set-up: readable console output in development, JSON lines in production.

Correlation ids travel in context variables, so every log line written while handling one
message or request carries the same ``correlation_id`` without passing it around.
Never log personal data: log ids, counts and codes only.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

from services.settings import LogFormat


def configure_logging(
    log_format: LogFormat = LogFormat.CONSOLE, level: str = "INFO", stream: TextIO | None = None
) -> None:
    """Configure structlog and the standard library once; safe to call again (tests do)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if log_format == LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        numeric_level = logging.INFO
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=_logger_factory(stream),
        cache_logger_on_first_use=False,
    )


def _logger_factory(stream: TextIO | None) -> Any:
    if stream is not None:
        return structlog.PrintLoggerFactory(file=stream)

    def current_stderr(*_args: Any) -> structlog.PrintLogger:
        # Looked up per logger, not once: sys.stderr may be swapped (CLI runners, daemons).
        return structlog.PrintLogger(file=sys.stderr)

    return current_stderr


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


@contextmanager
def correlation(correlation_id: str | uuid.UUID | None = None, **context: Any) -> Iterator[str]:
    """Bind a correlation id (new when none is given) to every log line inside the block."""
    value = str(correlation_id or uuid.uuid4())
    with structlog.contextvars.bound_contextvars(correlation_id=value, **context):
        yield value
