"""Deciding what an append writes, given what is stored: pure, shared by every backend."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from events.envelope import (
    EMPTY_METADATA,
    AppendResult,
    ExpectedVersion,
    NewEvent,
    StreamAppend,
    StreamState,
)
from events.errors import ConcurrencyError, EventIdConflictError

EventRow = tuple[uuid.UUID, str, int, str, int, str, str, datetime]
"""event_id, stream_id, stream_version, event_type, schema_version, payload, metadata,
recorded_at — the order the recorders insert in."""

EMPTY_METADATA_JSON = "{}"


@dataclass(frozen=True)
class AppendPlan:
    rows: list[EventRow]
    results: list[AppendResult]


def check_appends(appends: Sequence[StreamAppend]) -> tuple[list[str], list[uuid.UUID]]:
    """The distinct stream ids and all event ids of a multi-stream append, validated."""
    event_ids: list[uuid.UUID] = []
    for item in appends:
        if not item.stream_id or len(item.stream_id) > 200:
            raise ValueError("stream_id must be 1 to 200 characters")
        event_ids.extend(e.event_id for e in item.events)
    if len(set(event_ids)) != len(event_ids):
        raise ValueError("the same event id appears twice in one append")
    return list(dict.fromkeys(item.stream_id for item in appends)), event_ids


def plan_appends(
    appends: Sequence[StreamAppend],
    versions: dict[str, int],
    stored: dict[uuid.UUID, str],
    now: datetime,
) -> AppendPlan:
    """Rows to insert and a result per append; raises when any append may not be written."""
    versions = dict(versions)
    rows: list[EventRow] = []
    results: list[AppendResult] = []
    for item in appends:
        current = versions.get(item.stream_id, 0)
        if stored and _is_duplicate(item, stored):
            results.append(AppendResult(item.stream_id, current, appended=0, duplicate=True))
            continue
        check_expected(item.stream_id, item.expected_version, current)
        for offset, new in enumerate(item.events, start=1):
            rows.append(
                (
                    new.event_id,
                    item.stream_id,
                    current + offset,
                    new.event.event_type,
                    new.event.schema_version,
                    new.event.model_dump_json(),
                    metadata_json(new),
                    now,
                )
            )
        versions[item.stream_id] = current + len(item.events)
        results.append(
            AppendResult(item.stream_id, current + len(item.events), len(item.events), False)
        )
    return AppendPlan(rows, results)


def metadata_json(new: NewEvent) -> str:
    """The stored metadata; most events carry none, so skip serialising the empty model."""
    if new.metadata is EMPTY_METADATA:
        return EMPTY_METADATA_JSON
    return new.metadata.model_dump_json(exclude_none=True)


def _is_duplicate(item: StreamAppend, stored: dict[uuid.UUID, str]) -> bool:
    """True when every event id of ``item`` is stored in its stream; raises on a mix."""
    hits = {e.event_id: stored[e.event_id] for e in item.events if e.event_id in stored}
    if not hits:
        return False
    if len(hits) == len(item.events) and all(s == item.stream_id for s in hits.values()):
        return True
    raise EventIdConflictError(item.stream_id, sorted(str(i) for i in hits))


def check_expected(stream_id: str, expected: ExpectedVersion, current: int) -> None:
    if expected is StreamState.ANY:
        return
    if expected is StreamState.NO_STREAM:
        if current != 0:
            raise ConcurrencyError(stream_id, expected, current)
        return
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise ValueError(f"expected_version must be a version >= 0 or a StreamState: {expected!r}")
    if current != expected:
        raise ConcurrencyError(stream_id, f"version {expected}", current)
