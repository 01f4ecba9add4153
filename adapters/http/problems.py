"""``application/problem+json`` responses (RFC 9457, NL API Design Rules: invalidParams)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse

from services.intake.commands import FieldProblem

PROBLEM_JSON = "application/problem+json"


def problem(
    status: int, title: str, detail: str, *, instance: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"status": status, "title": title, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def invalid_params(problems: Iterable[FieldProblem]) -> list[dict[str, str]]:
    return [{"name": p.field, "code": "invalid", "reason": p.problem} for p in problems]
