"""Where each projection has got to in the event log (migration 0007 creates the table)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

metadata = MetaData()

projection_checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger(), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


async def read_checkpoint(conn: AsyncConnection, name: str) -> int:
    query = select(projection_checkpoints.c.position).where(projection_checkpoints.c.name == name)
    return int((await conn.execute(query)).scalar_one_or_none() or 0)


async def write_checkpoint(conn: AsyncConnection, name: str, position: int) -> None:
    values = {"name": name, "position": position, "updated_at": datetime.now(UTC)}
    insert = (
        postgresql_insert(projection_checkpoints)
        if conn.dialect.name == "postgresql"
        else sqlite_insert(projection_checkpoints)
    )
    await conn.execute(
        insert.values(values).on_conflict_do_update(
            index_elements=["name"],
            set_={"position": values["position"], "updated_at": values["updated_at"]},
        )
    )


async def forget_checkpoint(conn: AsyncConnection, name: str) -> None:
    await conn.execute(delete(projection_checkpoints).where(projection_checkpoints.c.name == name))
