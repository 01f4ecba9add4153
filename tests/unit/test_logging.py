"""Console logs for people, JSON lines for machines, correlation ids on every line."""

from __future__ import annotations

import io
import json

from services.logging import configure_logging, correlation, get_logger
from services.settings import LogFormat


def test_json_lines_carry_the_bound_correlation_id() -> None:
    out = io.StringIO()
    configure_logging(LogFormat.JSON, stream=out)
    log = get_logger("test")

    with correlation("abc-123", partner="vitens"):
        log.info("signal_accepted", signal_count=3)
    log.info("outside")

    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["event"] == "signal_accepted"
    assert first["correlation_id"] == "abc-123"
    assert first["partner"] == "vitens"
    assert first["signal_count"] == 3
    assert first["level"] == "info"
    assert "timestamp" in first
    assert "correlation_id" not in second


def test_a_new_correlation_id_is_made_when_none_is_given() -> None:
    out = io.StringIO()
    configure_logging(LogFormat.JSON, stream=out)
    with correlation() as first_id, correlation() as second_id:
        get_logger("test").info("nested")
    assert first_id != second_id
    assert json.loads(out.getvalue())["correlation_id"] == second_id


def test_console_format_is_plain_text_with_the_fields() -> None:
    out = io.StringIO()
    configure_logging(LogFormat.CONSOLE, stream=out)
    with correlation("c-9"):
        get_logger("test").warning("retrying", attempt=2)
    line = out.getvalue()
    assert "retrying" in line
    assert "attempt=2" in line
    assert "correlation_id=c-9" in line
    assert not line.lstrip().startswith("{")


def test_level_filters_lower_levels() -> None:
    out = io.StringIO()
    configure_logging(LogFormat.JSON, level="WARNING", stream=out)
    get_logger("test").info("hidden")
    get_logger("test").error("shown")
    assert [json.loads(line)["event"] for line in out.getvalue().splitlines()] == ["shown"]
