"""Each household's data key: created on its first record, stored wrapped under the current
master key, unwrapped on use (cached per process), erased for good, re-wrapped on rotation.

The cache is keyed by the wrapped bytes as well as the owner, and every use reads the
wrapped key from the database first: a key erased by another process is never served from
this process's cache.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from events.store.bulk_rows import insert_rows
from services.intake.bulk_filters import one_of
from services.privacy.cipher import DataKey, new_data_key, unwrap_data_key, wrap_data_key
from services.privacy.keys import KeyRing, MasterKeyError
from services.privacy.tables import household_data_keys

CACHE_SIZE: Final = 20_000
_ROTATION_CHUNK: Final = 1_000


@dataclass(frozen=True)
class KeyRow:
    owner: uuid.UUID
    master_key_id: str
    generation: int
    wrapped: bytes | None
    erased_at: datetime | None


class _UnwrappedKeys:
    """A bounded least-recently-used map (owner, wrapped key) → unwrapped data key."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._keys: OrderedDict[tuple[uuid.UUID, bytes], DataKey] = OrderedDict()

    def get(self, owner: uuid.UUID, wrapped: bytes) -> DataKey | None:
        key = self._keys.get((owner, wrapped))
        if key is not None:
            self._keys.move_to_end((owner, wrapped))
        return key

    def put(self, owner: uuid.UUID, wrapped: bytes, key: DataKey) -> None:
        self._keys[(owner, wrapped)] = key
        self._keys.move_to_end((owner, wrapped))
        while len(self._keys) > self._size:
            self._keys.popitem(last=False)

    def forget(self, owners: Collection[uuid.UUID]) -> None:
        for entry in [e for e in self._keys if e[0] in owners]:
            del self._keys[entry]

    def __len__(self) -> int:
        return len(self._keys)


unwrapped_keys = _UnwrappedKeys(CACHE_SIZE)


async def load_key_rows(
    conn: AsyncConnection, owners: Collection[uuid.UUID]
) -> dict[uuid.UUID, KeyRow]:
    if not owners:
        return {}
    t = household_data_keys.c
    rows = await conn.execute(
        select(t.household_id, t.key_id, t.generation, t.wrapped_key, t.erased_at).where(
            one_of(t.household_id, owners, conn.dialect.name)
        )
    )
    return {
        r.household_id: KeyRow(r.household_id, r.key_id, r.generation, r.wrapped_key, r.erased_at)
        for r in rows
    }


def unwrap(row: KeyRow, keyring: KeyRing) -> DataKey | None:
    """The row's data key; ``None`` when it was erased."""
    if row.wrapped is None:
        return None
    master = keyring.by_id(row.master_key_id)
    if master is None:
        # Checked before the cache: a master key taken out of the configuration is out.
        raise MasterKeyError(
            f"a data key is wrapped under master key {row.master_key_id}, which is not "
            "configured (add it to HUB_MASTER_KEY_PREVIOUS or the key file)"
        )
    cached = unwrapped_keys.get(row.owner, row.wrapped)
    if cached is not None:
        return cached
    key = unwrap_data_key(master, row.owner, row.generation, row.wrapped)
    unwrapped_keys.put(row.owner, row.wrapped, key)
    return key


async def data_keys_for_reading(
    conn: AsyncConnection, owners: Collection[uuid.UUID], keyring: KeyRing
) -> dict[uuid.UUID, DataKey | None]:
    """Each owner's data key: ``None`` when erased; owners without any key are left out."""
    return {
        owner: unwrap(row, keyring) for owner, row in (await load_key_rows(conn, owners)).items()
    }


async def data_keys_for_writing(
    conn: AsyncConnection, owners: Collection[uuid.UUID], keyring: KeyRing, now: datetime
) -> dict[uuid.UUID, DataKey]:
    """Each owner's data key, created (or, after an erasure, replaced) where there is none.

    The caller holds the intake lock: no other writer creates keys meanwhile.
    """
    rows = await load_key_rows(conn, owners)
    keys: dict[uuid.UUID, DataKey] = {}
    created: list[dict[str, object]] = []
    replaced: list[dict[str, object]] = []
    master = keyring.current
    for owner in owners:
        row = rows.get(owner)
        existing = unwrap(row, keyring) if row is not None else None
        if existing is not None:
            keys[owner] = existing
            continue
        key = new_data_key(1 if row is None else row.generation + 1)
        wrapped = wrap_data_key(master, owner, key)
        unwrapped_keys.put(owner, wrapped, key)
        keys[owner] = key
        values = {
            "owner": owner,
            "key_id": master.key_id,
            "generation": key.generation,
            "wrapped_key": wrapped,
            "created_at": now,
        }
        (created if row is None else replaced).append(values)
    t = household_data_keys.c
    await insert_rows(
        conn,
        household_data_keys,
        [{"household_id": v.pop("owner"), **v} for v in created],
    )
    if replaced:
        await conn.execute(
            update(household_data_keys)
            .where(t.household_id == bindparam("owner"))
            .values(
                key_id=bindparam("key_id"),
                generation=bindparam("generation"),
                wrapped_key=bindparam("wrapped_key"),
                created_at=bindparam("created_at"),
                erased_at=None,
            ),
            replaced,
        )
    return keys


async def erase_data_keys(
    conn: AsyncConnection, owners: Collection[uuid.UUID], now: datetime
) -> int:
    """Forget the owners' data keys for good; returns how many keys were still there."""
    if not owners:
        return 0
    t = household_data_keys.c
    result = await conn.execute(
        update(household_data_keys)
        .where(one_of(t.household_id, owners, conn.dialect.name))
        .where(t.wrapped_key.is_not(None))
        .values(wrapped_key=None, erased_at=now)
    )
    unwrapped_keys.forget(set(owners))
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class RotationReport:
    current_key_id: str
    rewrapped: dict[str, int]
    """Per old master key id: how many data keys were re-wrapped under the current one."""
    already_current: int
    erased: int

    @property
    def total_rewrapped(self) -> int:
        return sum(self.rewrapped.values())


async def key_counts(conn: AsyncConnection) -> dict[str, int]:
    """Live data keys per master key id (erased keys are counted under ``erased``)."""
    t = household_data_keys.c
    counts: dict[str, int] = {}
    rows = await conn.execute(
        select(t.key_id, t.wrapped_key.is_(None).label("erased"), func.count()).group_by(
            t.key_id, t.wrapped_key.is_(None)
        )
    )
    for master_key_id, is_erased, count in rows:
        name = "erased" if is_erased else master_key_id
        counts[name] = counts.get(name, 0) + int(count)
    return counts


async def rewrap_all(conn: AsyncConnection, keyring: KeyRing) -> RotationReport:
    """Re-wrap every live data key under the current master key, in the caller's transaction.

    Records are not touched: they are sealed under the data keys, which stay the same. Fails
    before changing anything when a key is wrapped under a master key that is not configured.
    """
    counts = await key_counts(conn)
    current = keyring.current.key_id
    unknown = sorted(k for k in counts if k not in ("erased", current) and keyring.by_id(k) is None)
    if unknown:
        raise MasterKeyError(
            "data keys are wrapped under master keys that are not configured: "
            + ", ".join(f"{k} ({counts[k]} keys)" for k in unknown)
            + " — add them to HUB_MASTER_KEY_PREVIOUS or the key file"
        )
    t = household_data_keys.c
    rewrapped: dict[str, int] = {}
    while True:
        rows = (
            await conn.execute(
                select(t.household_id, t.key_id, t.generation, t.wrapped_key)
                .where(t.key_id != current, t.wrapped_key.is_not(None))
                .limit(_ROTATION_CHUNK)
            )
        ).all()
        if not rows:
            break
        changes = []
        for owner, old_id, generation, wrapped in rows:
            key = unwrap(KeyRow(owner, old_id, generation, wrapped, None), keyring)
            assert key is not None
            changes.append(
                {
                    "owner": owner,
                    "key_id": current,
                    "wrapped_key": wrap_data_key(keyring.current, owner, key),
                }
            )
            rewrapped[old_id] = rewrapped.get(old_id, 0) + 1
        await conn.execute(
            update(household_data_keys)
            .where(t.household_id == bindparam("owner"))
            .values(key_id=bindparam("key_id"), wrapped_key=bindparam("wrapped_key")),
            changes,
        )
    # Erased rows keep the id of the key that once wrapped them: move them to the current id,
    # so an old master key is no longer "in use" by anything.
    await conn.execute(
        update(household_data_keys)
        .where(t.key_id != current, t.wrapped_key.is_(None))
        .values(key_id=current)
    )
    return RotationReport(
        current_key_id=current,
        rewrapped=rewrapped,
        already_current=counts.get(current, 0),
        erased=counts.get("erased", 0),
    )
