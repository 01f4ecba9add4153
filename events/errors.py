"""Errors the event store raises; each says what went wrong in words."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base of all event store errors."""


class ConcurrencyError(EventStoreError):
    """The stream's version was not the expected one; nothing was written."""

    def __init__(self, stream_id: str, expected: object, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        shown = "no stream" if actual == 0 else f"version {actual}"
        super().__init__(f"stream {stream_id!r}: expected {expected}, but it is at {shown}")


class EventIdConflictError(EventStoreError):
    """Some, but not all, event ids of one append are stored already: not a plain retry."""

    def __init__(self, stream_id: str, stored: list[str]) -> None:
        self.stream_id = stream_id
        self.stored = stored
        super().__init__(
            f"stream {stream_id!r}: {len(stored)} of the appended event ids are stored already "
            f"(for example {stored[0]}); a retry must resend exactly the same events"
        )


class UnknownEventTypeError(EventStoreError):
    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(f"unknown event type {event_type!r}: it is not in the event registry")


class UpcastError(EventStoreError):
    """An old payload cannot be turned into the current event model."""


class StoreNotMigratedError(EventStoreError):
    """The database has no event store schema; run ``signaalhub db upgrade``."""
