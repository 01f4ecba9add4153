"""The one place the DDAS export reads personal data (the ``client`` block).

Personal data lives only in ``personal_data`` (``services.intake.tables``), keyed by the
signal id, as the JSON intake writes (``services.intake.receive_signals._person_json``). A
later issue encrypts that table per household and erases keys: then this module decrypts, and
an erased person comes back as ``None`` — the export stays valid and keeps its counts.
Nothing here logs a value.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.tables import personal_data

SIGNAL_KIND: Final = "signal"
"""``personal_data.kind`` of the details a partner sent with an accepted signal."""

_CHUNK: Final = 500  # ids per query: far below every driver's parameter limit


async def load_client_details(
    conn: AsyncConnection, signal_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any] | None]:
    """The personal data of each signal, ``None`` where it is missing, erased or unreadable."""
    wanted = list(dict.fromkeys(signal_ids))
    found: dict[uuid.UUID, dict[str, Any] | None] = dict.fromkeys(wanted)
    table = personal_data.c
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = await conn.execute(
            select(table.subject_id, table.data).where(
                table.subject_id.in_(chunk), table.kind == SIGNAL_KIND
            )
        )
        for subject_id, data in rows:
            found[subject_id] = _parsed(data)
    return found


def _parsed(data: str | None) -> dict[str, Any] | None:
    if not data:
        return None
    try:
        parsed = json.loads(data)
    except ValueError:
        return None  # unreadable is treated as erased; the text is never echoed
    return parsed if isinstance(parsed, dict) else None
