"""Many rows of one table in one statement, inside the caller's transaction.

SQLAlchemy's per-row parameter handling costs more than the database does for a batch's
thousands of rows. On PostgreSQL the rows go to asyncpg as one array per column (``unnest``),
on the connection and inside the transaction SQLAlchemy began, so they commit or roll back
with everything else of the unit of work. On SQLite, where a statement costs little, they
stay one SQLAlchemy ``executemany``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Uuid,
    bindparam,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from events.store.recorders import PostgresRecorder, _driver

_ARRAY_TYPES: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (Uuid, "uuid"),
    (Boolean, "boolean"),
    (BigInteger, "bigint"),
    (Integer, "integer"),
    (Numeric, "numeric"),
    (DateTime, "timestamptz"),
    (Date, "date"),
    (LargeBinary, "bytea"),
    (String, "text"),  # Text too
)


async def driver_in_transaction(conn: AsyncConnection) -> Any:
    """The asyncpg connection under ``conn``, with the transaction ``conn`` began really
    begun (SQLAlchemy sends BEGIN lazily): statements sent to it belong to that transaction."""
    await PostgresRecorder._in_transaction(conn)
    return await _driver(conn)


def postgres_array_type(column_type: TypeEngine[Any]) -> str:
    """The PostgreSQL element type of a column's ``unnest`` array parameter."""
    for kind, name in _ARRAY_TYPES:
        if isinstance(column_type, kind):
            if name == "timestamptz" and not getattr(column_type, "timezone", False):
                return "timestamp"
            return name
    raise TypeError(f"no PostgreSQL array type for {column_type!r}")


def unnest_parameters(table: Table, names: Sequence[str]) -> str:
    """``$1::uuid[], $2::text[], ...`` for the named columns of ``table``."""
    return ", ".join(
        f"${number}::{postgres_array_type(table.c[name].type)}[]"
        for number, name in enumerate(names, 1)
    )


async def insert_rows(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    skip_conflicts: bool = False,
) -> None:
    """Insert ``rows`` (dicts with the same keys, column names); ``skip_conflicts`` leaves a
    row whose key is stored already as it is (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        statement: Any = table.insert()
        if skip_conflicts:
            statement = sqlite_insert(table).on_conflict_do_nothing()
        await conn.execute(statement, [dict(row) for row in rows])
        return
    names = list(rows[0])
    conflict = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    driver = await driver_in_transaction(conn)
    await driver.execute(
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"SELECT * FROM unnest({unnest_parameters(table, names)}){conflict}",
        *([row[name] for row in rows] for name in names),
    )


async def update_rows(
    conn: AsyncConnection, table: Table, key: str, rows: Sequence[dict[str, Any]]
) -> None:
    """Set every other column of each row (dicts with the same keys), matched on ``key``."""
    if not rows:
        return
    names = list(rows[0])
    fields = [name for name in names if name != key]
    if conn.dialect.name != "postgresql":
        await conn.execute(
            update(table)
            .where(table.c[key] == bindparam(f"key_{key}"))
            .values({name: bindparam(name) for name in fields}),
            [{f"key_{key}": row[key], **{n: row[n] for n in fields}} for row in rows],
        )
        return
    assignments = ", ".join(f"{name} = u.{name}" for name in fields)
    driver = await driver_in_transaction(conn)
    await driver.execute(
        f"UPDATE {table.name} AS t SET {assignments} "
        f"FROM unnest({unnest_parameters(table, names)}) AS u({', '.join(names)}) "
        f"WHERE t.{key} = u.{key}",
        *([row[name] for row in rows] for name in names),
    )
