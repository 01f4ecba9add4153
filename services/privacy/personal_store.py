"""The one module that writes and reads ``personal_data`` (DESIGN §9, issue 6).

Every record is sealed (``services.privacy.cipher``) under the data key of its owner: the
household, or for a rejected input — which belongs to no household — the rejection itself, so
it can be erased on its own schedule. Reading gives the plaintext back, or ``ERASED`` when the
owner's key was erased (crypto-shredding: the ciphertext stays, nobody can read it). A record
that does not authenticate raises ``TamperedPersonalData``: garbage is never returned.

Records written before migration 0011 are plain text; they read as they are until
``signaalhub keys seal-plaintext`` seals them, or their household is erased, which blanks them.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from events.store.bulk_rows import insert_rows
from services.intake.bulk_filters import one_of
from services.intake.tables import personal_data
from services.privacy.cipher import (
    VERSION,
    DataKey,
    TamperedPersonalData,
    generation_of,
    open_sealed,
    seal,
    sealed_key_id,
)
from services.privacy.household_keys import (
    data_keys_for_reading,
    data_keys_for_writing,
    load_key_rows,
)
from services.privacy.keys import KeyRing, current_keyring

REJECTED_INPUT: Final = "rejected-input"


class Erased(enum.Enum):
    ERASED = "erased"


ERASED: Final = Erased.ERASED
"""A record whose owner's data key was erased: the person is gone, the fact that a record
existed is not."""


@dataclass(frozen=True)
class PersonalRecord:
    subject_id: uuid.UUID
    household_id: uuid.UUID | None
    kind: str
    recorded_at: datetime
    content: str | Erased

    @property
    def erased(self) -> bool:
        return self.content is ERASED

    def details(self) -> dict[str, Any] | None:
        """The record's JSON object; ``None`` when erased or not a JSON object (raw input)."""
        if isinstance(self.content, Erased):
            return None
        try:
            parsed = json.loads(self.content)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None


def key_owner(subject_id: uuid.UUID, household_id: uuid.UUID | None) -> uuid.UUID:
    """Whose data key seals a record: its household, or the rejected input itself."""
    return household_id if household_id is not None else subject_id


async def seal_rows(
    conn: AsyncConnection,
    rows: Sequence[Mapping[str, Any]],
    keyring: KeyRing | None = None,
) -> None:
    """Insert personal-data rows (``subject_id``, ``household_id``, ``kind``, ``data`` as
    plaintext, ``recorded_at``) sealed; a subject id already stored keeps its first copy (a
    rejected message delivered again)."""
    if not rows:
        return
    owners = {key_owner(r["subject_id"], r["household_id"]) for r in rows}
    keys = await data_keys_for_writing(
        conn, owners, keyring or current_keyring(), datetime.now(UTC)
    )
    sealed = [
        {
            **row,
            "data": seal(
                keys[key_owner(row["subject_id"], row["household_id"])],
                row["data"],
                row["subject_id"],
                row["household_id"],
                row["kind"],
            ),
        }
        for row in rows
    ]
    await insert_rows(conn, personal_data, sealed, skip_conflicts=True)


async def read_personal_records(
    conn: AsyncConnection,
    *,
    subject_ids: Iterable[uuid.UUID] | None = None,
    households: Iterable[uuid.UUID] | None = None,
    kinds: Collection[str] | None = None,
    keyring: KeyRing | None = None,
) -> dict[uuid.UUID, PersonalRecord]:
    """The records of the given subjects and/or households (optionally only of ``kinds``),
    oldest first, keyed by subject id: decrypted, or ``ERASED``."""
    p = personal_data.c
    dialect = conn.dialect.name
    wanted_subjects = set(subject_ids or ())
    wanted_households = set(households or ())
    conditions = []
    if wanted_subjects:
        conditions.append(one_of(p.subject_id, wanted_subjects, dialect))
    if wanted_households:
        conditions.append(one_of(p.household_id, wanted_households, dialect))
    if not conditions:
        return {}
    query = select(p.subject_id, p.household_id, p.kind, p.data, p.recorded_at).where(
        or_(*conditions)
    )
    if kinds is not None:
        query = query.where(p.kind.in_(sorted(kinds)))
    rows = (await conn.execute(query.order_by(p.recorded_at, p.subject_id))).all()
    if not rows:
        return {}
    owners = {key_owner(r.subject_id, r.household_id) for r in rows}
    keys = await data_keys_for_reading(conn, owners, keyring or current_keyring())
    records: dict[uuid.UUID, PersonalRecord] = {}
    for r in rows:
        owner = key_owner(r.subject_id, r.household_id)
        content = _content(
            r.data, keys.get(owner), owner in keys, r.subject_id, r.household_id, r.kind
        )
        records[r.subject_id] = PersonalRecord(
            r.subject_id, r.household_id, r.kind, r.recorded_at, content
        )
    return records


def _content(
    data: str,
    key: DataKey | None,
    has_key_row: bool,
    subject_id: uuid.UUID,
    household_id: uuid.UUID | None,
    kind: str,
) -> str | Erased:
    if not data.startswith(f"{VERSION}:"):
        # Plain text from before migration 0011; blanked (or its household keyless) once erased.
        return ERASED if not data or (has_key_row and key is None) else data
    if key is None:
        return ERASED
    sealed_under = sealed_key_id(data)
    if sealed_under is None:
        raise TamperedPersonalData(f"record {subject_id}: damaged envelope")
    if generation_of(sealed_under) < key.generation:
        return ERASED  # sealed under an earlier key of the household, erased since
    return open_sealed(key, data, subject_id, household_id, kind)


async def blank_plaintext_records(conn: AsyncConnection, owners: Collection[uuid.UUID]) -> None:
    """Erase records of ``owners`` written in plain text before migration 0011."""
    if not owners:
        return
    p = personal_data.c
    dialect = conn.dialect.name
    await conn.execute(
        update(personal_data)
        .where(or_(one_of(p.household_id, owners, dialect), one_of(p.subject_id, owners, dialect)))
        .where(~p.data.startswith(f"{VERSION}:"))
        .values(data="")
    )


async def count_records(
    conn: AsyncConnection, owners: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many records each owner has (household records, or the rejected input itself)."""
    if not owners:
        return {}
    p = personal_data.c
    dialect = conn.dialect.name
    counts = dict.fromkeys(owners, 0)
    rows = await conn.execute(
        select(p.subject_id, p.household_id).where(
            or_(one_of(p.household_id, owners, dialect), one_of(p.subject_id, owners, dialect))
        )
    )
    for subject_id, household_id in rows:
        owner = key_owner(subject_id, household_id)
        if owner in counts:
            counts[owner] += 1
    return counts


async def seal_plaintext_records(
    conn: AsyncConnection, keyring: KeyRing | None = None, chunk: int = 1_000
) -> int:
    """Seal the records written in plain text before migration 0011, in the caller's
    transaction (which holds the intake lock); returns how many. A record whose owner was
    erased meanwhile is blanked instead of sealed."""
    keyring = keyring or current_keyring()
    p = personal_data.c
    sealed = 0
    while True:
        rows = (
            await conn.execute(
                select(p.subject_id, p.household_id, p.kind, p.data)
                .where(~p.data.startswith(f"{VERSION}:"), p.data != "")
                .order_by(p.subject_id)
                .limit(chunk)
            )
        ).all()
        if not rows:
            return sealed
        owners = {key_owner(r.subject_id, r.household_id) for r in rows}
        erased = {
            owner
            for owner, row in (await load_key_rows(conn, owners)).items()
            if row.wrapped is None
        }
        await blank_plaintext_records(conn, erased)
        live = [r for r in rows if key_owner(r.subject_id, r.household_id) not in erased]
        keys = await data_keys_for_writing(
            conn,
            {key_owner(r.subject_id, r.household_id) for r in live},
            keyring,
            datetime.now(UTC),
        )
        changes = [
            {
                "subject": r.subject_id,
                "sealed": seal(
                    keys[key_owner(r.subject_id, r.household_id)],
                    r.data,
                    r.subject_id,
                    r.household_id,
                    r.kind,
                ),
            }
            for r in live
        ]
        if changes:
            await conn.execute(
                update(personal_data)
                .where(p.subject_id == bindparam("subject"))
                .values(data=bindparam("sealed")),
                changes,
            )
        sealed += len(changes)
