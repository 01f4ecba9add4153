"""Domain events are frozen pydantic models, registered by type name with a schema version."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """Base class of every event: past tense, immutable, JSON round trip exact.

    Subclasses set ``event_type`` (the stable name stored with the event) and
    ``schema_version`` (raise it when the payload shape changes, and register an upcaster
    from the previous version).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def type_name(cls) -> str:
        return cls.event_type

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" not in cls.__dict__:
            cls.event_type = cls.__name__
