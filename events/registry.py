"""Which event class a stored type name means, and how old payloads become current ones."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import TypeAdapter

from events.base import DomainEvent
from events.errors import UnknownEventTypeError, UpcastError

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]
E = TypeVar("E", bound=type[DomainEvent])


class EventRegistry:
    """Maps type names to event classes and holds the upcaster chain of each type.

    An upcaster registered for ``(type, n)`` turns a version-``n`` payload into version
    ``n + 1``; reading applies the chain up to the class's current ``schema_version``.
    """

    def __init__(self) -> None:
        self._classes: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._list_adapters: dict[type[DomainEvent], TypeAdapter[list[Any]]] = {}

    def register(self, cls: E) -> E:
        name = cls.event_type
        existing = self._classes.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"event type {name!r} is already registered to {existing.__name__}")
        self._classes[name] = cls
        return cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        def decorate(func: Upcaster) -> Upcaster:
            key = (event_type, from_version)
            if key in self._upcasters:
                raise ValueError(f"upcaster {event_type} v{from_version} is already registered")
            self._upcasters[key] = func
            return func

        return decorate

    def event_class(self, event_type: str) -> type[DomainEvent]:
        try:
            return self._classes[event_type]
        except KeyError:
            raise UnknownEventTypeError(event_type) from None

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._classes

    def decode(self, event_type: str, schema_version: int, payload: str) -> DomainEvent:
        cls = self.event_class(event_type)
        current = cls.schema_version
        if schema_version == current:
            return cls.model_validate_json(payload)
        if schema_version > current:
            raise UpcastError(
                f"{event_type} v{schema_version} is newer than this code (v{current}); upgrade"
            )
        data: Payload = json.loads(payload)
        for version in range(schema_version, current):
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise UpcastError(f"no upcaster for {event_type} from v{version} to v{version + 1}")
            data = step(data)
        return cls.model_validate(data)

    def decode_many(
        self, event_type: str, schema_version: int, payloads: Sequence[str]
    ) -> list[DomainEvent]:
        """``decode`` of many payloads of one type and version, in order.

        Current payloads are validated as one JSON array in a single call into pydantic's
        core instead of one call each: the same validation, less overhead per event, which
        is what reading the log in pages spends most of its time on.
        """
        cls = self.event_class(event_type)
        if schema_version != cls.schema_version or len(payloads) < 2:
            return [self.decode(event_type, schema_version, p) for p in payloads]
        adapter = self._list_adapters.get(cls)
        if adapter is None:
            adapter = self._list_adapters[cls] = TypeAdapter(list[cls])  # type: ignore[valid-type]
        decoded: list[DomainEvent] = adapter.validate_json("[" + ",".join(payloads) + "]")
        return decoded


catalogue = EventRegistry()
"""The application's registry; event modules register their classes here."""
