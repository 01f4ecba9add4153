"""``column IN (many values)`` that stays one prepared statement however many values.

SQLAlchemy expands ``in_()`` into one parameter per value, so every batch size is a new
statement to compile and (on PostgreSQL) to prepare. An array (PostgreSQL) or a JSON list
(SQLite) is one parameter.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Uuid, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY


def one_of(column: Any, values: Collection[Any], dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        array = bindparam(None, list(values), type_=ARRAY(column.type))
        return column == any_(array)  # type: ignore[no-any-return]
    # SQLite keeps uuids as 32 hex digits (SQLAlchemy's Uuid without native support).
    as_hex = isinstance(column.type, Uuid)
    plain = [v.hex if as_hex and isinstance(v, uuid.UUID) else v for v in values]
    listed: Any = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(plain)))
    )
    return column.in_(listed)  # type: ignore[no-any-return]
