"""The one place the DDAS export reads personal data (the ``client`` block).

Personal data lives only in ``personal_data``, keyed by the signal id (kind ``signal``, the
JSON of ``services.intake.commands.PersonalDetails``), sealed under the household's data key.
It is read through ``services.privacy.personal_store``, which decrypts it; a person whose key
was erased (crypto-shredding), or whose record is missing, comes back as ``None`` — the export
stays valid and keeps its counts. A record that fails to authenticate raises
``TamperedPersonalData``: a delivery never carries garbage. Nothing here logs a value.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncConnection

from services.privacy.personal_store import read_personal_records

SIGNAL_KIND: Final = "signal"
"""``personal_data.kind`` of the details a partner sent with an accepted signal."""


async def load_client_details(
    conn: AsyncConnection, signal_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any] | None]:
    """The personal data of each signal, ``None`` where it is missing or erased."""
    found: dict[uuid.UUID, dict[str, Any] | None] = dict.fromkeys(signal_ids)
    if not found:
        return found
    records = await read_personal_records(conn, subject_ids=found, kinds={SIGNAL_KIND})
    for subject_id, record in records.items():
        if subject_id in found:
            found[subject_id] = record.details()
    return found
