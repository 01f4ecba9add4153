"""The privacy tables: each household's data key, wrapped under a master key (migration 0011).

``owner_id`` is the household id — or, for a rejected input that belongs to no household, the
rejection id — so each can be erased on its own schedule. The unwrapped key never reaches the
database; an erased key leaves its row with ``wrapped_key`` empty and ``erased_at`` set.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table, Uuid

metadata = MetaData()

household_data_keys = Table(
    "household_data_keys",
    metadata,
    Column("household_id", Uuid(), primary_key=True),
    Column("key_id", String(16), nullable=False),  # the master key that wrapped it
    # 1, then one more each time data arrives after an erasure: records name the generation
    # that sealed them, so an earlier (erased) one reads as erased, not as tampered with.
    Column("generation", Integer(), nullable=False),
    Column("wrapped_key", LargeBinary(), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)
