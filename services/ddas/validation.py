"""Checking a DDAS document against the national JSON Schema before anyone sees it.

The schema ships with the code (``json_schema_Uitwisselmodel.json`` beside this module; see
``SCHEMA_ORIGIN.md``). Validation is Draft 2020-12 with format checking. jsonschema checks
``date`` and ``email`` itself but skips ``date-time`` and ``time`` unless optional packages
are installed, so those two are checked here, strictly (RFC 3339: a zone is required).

A year's delivery holds tens of thousands of objects, and jsonschema resolves every ``$ref``
anew for each of them (about two thirds of its time). The validator therefore runs on a copy
of the schema with its local ``#/$defs/...`` references written out in place
(``inline_references``): the same assertions, three times faster.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, time
from functools import cache
from importlib.resources import files
from typing import Any, Final

from jsonschema import Draft202012Validator, FormatChecker, ValidationError

SCHEMA_RESOURCE: Final = "json_schema_Uitwisselmodel.json"

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One way the document breaks the schema: where (a JSON path) and what, in words that
    never repeat the value found there."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InvalidDeliveryError(ValueError):
    """The document does not validate; nothing may be written. ``problems`` lists the first
    few, each with its JSON path."""

    def __init__(self, problems: list[SchemaProblem]) -> None:
        self.problems = problems
        listed = "; ".join(str(p) for p in problems)
        super().__init__(f"the DDAS delivery does not match the schema: {listed}")


@cache
def ddas_schema() -> dict[str, Any]:
    """The shipped DDAS uitwisselmodel v0.9 schema."""
    text = files("services.ddas").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _format_checker() -> FormatChecker:
    checker = FormatChecker()  # a fresh copy: the registered checks are per instance

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True  # formats only constrain strings
        if not _DATE_TIME.match(value):
            return False
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        return True

    @checker.checks("time", raises=ValueError)
    def _time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _TIME.match(value):
            return False
        time.fromisoformat(value.upper().replace("Z", "+00:00"))
        return True

    return checker


_ANNOTATIONS: Final = frozenset({"description", "title", "$comment"})


def inline_references(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every ``{"$ref": "#/$defs/x", ...}`` replaced by definition ``x``
    itself. Keywords beside the ``$ref`` are kept; when one of them is an assertion the
    definition also has, both are kept under ``allOf`` (in 2020-12 both apply). The DDAS
    schema has no recursive definitions; a reference that is not local fails loudly."""
    definitions: dict[str, Any] = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        siblings = {k: resolve(v) for k, v in node.items() if k not in {"$ref", "$defs"}}
        reference = node.get("$ref")
        if reference is None:
            return siblings
        name = str(reference).removeprefix("#/$defs/")
        if name == reference or name not in definitions:
            raise ValueError(f"cannot inline the reference {reference!r}")
        target = resolve(definitions[name])
        if (set(siblings) & set(target)) - _ANNOTATIONS:
            return {"allOf": [target, siblings]}
        return {**target, **siblings}

    inlined: dict[str, Any] = resolve(schema)
    return inlined


@cache
def ddas_validator() -> Draft202012Validator:
    schema = ddas_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(inline_references(schema), format_checker=_format_checker())


def schema_problems(document: Any, limit: int = 10) -> list[SchemaProblem]:
    """The first ``limit`` problems (by place in the document), empty when it is valid."""
    errors = sorted(ddas_validator().iter_errors(document), key=_document_order)
    return [SchemaProblem(error.json_path, _describe(error)) for error in errors[:limit]]


def _describe(error: ValidationError) -> str:
    """What is wrong, without the offending value: it may be a BSN or a birth date, and the
    problems are printed on a terminal."""
    rule, expected = error.validator, error.validator_value
    match rule:
        case "required" | "additionalProperties":
            return error.message  # names properties, never values
        case "type":
            return f"must be of type {expected}"
        case "enum":
            values = expected if isinstance(expected, list) else [expected]
            return "must be one of: " + ", ".join(repr(value) for value in values)
        case "format":
            return f"is not a valid {expected}"
        case "minItems":
            return f"must have at least {expected} item(s)"
        case "uniqueItems":
            return "has items that are not unique"
        case _:
            return f"does not satisfy {rule} {expected!r}"


def _document_order(error: ValidationError) -> list[tuple[int, int, str]]:
    return [(0, p, "") if isinstance(p, int) else (1, 0, p) for p in error.absolute_path]


def validate_delivery(document: Any) -> None:
    """Raise ``InvalidDeliveryError`` unless the document matches the schema."""
    problems = schema_problems(document)
    if problems:
        raise InvalidDeliveryError(problems)
