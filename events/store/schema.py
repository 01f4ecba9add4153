"""The event store's tables (SQLAlchemy Core). Alembic migrations create them; keep both in step."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

metadata = MetaData()

events_table = Table(
    "events",
    metadata,
    # SQLite needs exactly INTEGER PRIMARY KEY AUTOINCREMENT so positions are never reused.
    Column(
        "position",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("event_id", Uuid(), nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("stream_version", Integer(), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("schema_version", Integer(), nullable=False),
    Column("payload", Text(), nullable=False),
    Column("metadata", Text(), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("event_id", name="uq_events_event_id"),
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    sqlite_autoincrement=True,
)
