"""The event store: an append-only log of streams on PostgreSQL or SQLite."""

from events.store.sql_event_store import SqlEventStore, UnitOfWork, open_event_store

__all__ = ["SqlEventStore", "UnitOfWork", "open_event_store"]
