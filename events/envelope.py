"""What travels with an event: ids, metadata, and its place in the log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Final, NamedTuple

from pydantic import BaseModel, ConfigDict

from events.base import DomainEvent


class Metadata(BaseModel):
    """Why and by whom an event was written. Never personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    source: str | None = None


EMPTY_METADATA: Final = Metadata()


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended. Give a fixed ``event_id`` to make a retry idempotent."""

    event: DomainEvent
    metadata: Metadata = EMPTY_METADATA
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


class RecordedEvent(NamedTuple):
    """An event as stored: its global position, stream, version and decoded payload.

    A named tuple rather than a frozen dataclass: reading the log builds one per event, and
    a frozen dataclass's ``__init__`` costs more than decoding the payload.
    """

    position: int
    stream_id: str
    stream_version: int
    event_id: uuid.UUID
    event_type: str
    schema_version: int
    event: DomainEvent
    metadata: Metadata
    recorded_at: datetime


class StreamState(Enum):
    """Expected versions that are not a number."""

    ANY = "any"
    NO_STREAM = "no stream"

    def __str__(self) -> str:
        return self.value


ExpectedVersion = int | StreamState
"""An exact stream version (0 means no stream), ``StreamState.NO_STREAM`` or ``StreamState.ANY``."""


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """One stream's part of a multi-stream append."""

    stream_id: str
    events: Sequence[NewEvent]
    expected_version: ExpectedVersion = StreamState.ANY


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append did: the stream's version afterwards, and whether it was a duplicate."""

    stream_id: str
    stream_version: int
    appended: int
    duplicate: bool
