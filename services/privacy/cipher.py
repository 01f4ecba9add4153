"""Sealing one personal-data record, and wrapping a data key: AES-GCM, pure functions.

A sealed record is ``v1:<data key id>:<base64 of 12-byte nonce + ciphertext + tag>``. The
associated data binds it to its row (subject id, household id, kind) and to the key id, so a
ciphertext copied onto another row, another household or another kind does not decrypt: it
raises ``TamperedPersonalData``, as any changed byte does. The key id is the generation of
the household's data key (8 hex digits): a record sealed under an earlier generation, erased
since and replaced because the household sent data again, is recognised as erased; one that
claims the current generation but does not authenticate is tampered with.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.privacy.keys import KEY_BYTES, MasterKey

VERSION: Final = "v1"
NONCE_BYTES: Final = 12
_ENVELOPE = re.compile(r"v1:([0-9a-f]{8}):([A-Za-z0-9+/=]+)\Z")
_WRAP_CONTEXT: Final = b"signaalhub data key v1|"


class TamperedPersonalData(Exception):  # noqa: N818  (the name the issue and callers use)
    """A sealed record or wrapped key did not authenticate: changed, moved or wrong key.

    The message holds ids only, never the data.
    """


@dataclass(frozen=True)
class DataKey:
    """One household's (or one rejected input's) data key, ready to seal and open."""

    generation: int
    secret: bytes = field(repr=False)
    aead: AESGCM = field(repr=False, compare=False)

    @classmethod
    def from_bytes(cls, secret: bytes, generation: int = 1) -> DataKey:
        if len(secret) != KEY_BYTES:
            raise ValueError(f"a data key is {KEY_BYTES} bytes, not {len(secret)}")
        return cls(generation, secret, AESGCM(secret))

    @property
    def key_id(self) -> str:
        return key_id_of(self.generation)


def new_data_key(generation: int = 1) -> DataKey:
    return DataKey.from_bytes(os.urandom(KEY_BYTES), generation)


def key_id_of(generation: int) -> str:
    return f"{generation:08x}"


def generation_of(key_id: str) -> int:
    return int(key_id, 16)


def associated_data(
    key_id: str, subject_id: uuid.UUID, household_id: uuid.UUID | None, kind: str
) -> bytes:
    household = household_id.bytes if household_id is not None else b""
    return b"|".join(
        (VERSION.encode(), key_id.encode(), subject_id.bytes, household, kind.encode())
    )


def seal(
    key: DataKey,
    plaintext: str,
    subject_id: uuid.UUID,
    household_id: uuid.UUID | None,
    kind: str,
) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.aead.encrypt(
        nonce,
        plaintext.encode("utf-8"),
        associated_data(key.key_id, subject_id, household_id, kind),
    )
    return f"{VERSION}:{key.key_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def sealed_key_id(envelope: str) -> str | None:
    """The data key id of a sealed record; ``None`` when the text is not a sealed record."""
    match = _ENVELOPE.match(envelope)
    return match.group(1) if match else None


def is_sealed(text: str) -> bool:
    return text.startswith(f"{VERSION}:") and sealed_key_id(text) is not None


def open_sealed(
    key: DataKey,
    envelope: str,
    subject_id: uuid.UUID,
    household_id: uuid.UUID | None,
    kind: str,
) -> str:
    match = _ENVELOPE.match(envelope)
    if match is None:
        raise TamperedPersonalData(f"record {subject_id}: not a sealed record")
    if match.group(1) != key.key_id:
        raise TamperedPersonalData(f"record {subject_id}: sealed under another data key")
    try:
        raw = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        raise TamperedPersonalData(f"record {subject_id}: damaged ciphertext") from None
    nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    try:
        plain = key.aead.decrypt(
            nonce, sealed, associated_data(key.key_id, subject_id, household_id, kind)
        )
    except (InvalidTag, ValueError):
        raise TamperedPersonalData(
            f"record {subject_id}: does not authenticate (changed, moved to another row, "
            "or sealed under another key)"
        ) from None
    return plain.decode("utf-8")


def _wrap_context(owner: uuid.UUID, generation: int) -> bytes:
    return _WRAP_CONTEXT + owner.bytes + generation.to_bytes(4, "big")


def wrap_data_key(master: MasterKey, owner: uuid.UUID, key: DataKey) -> bytes:
    """The data key encrypted under the master key, bound to its owner (household id) and
    generation."""
    nonce = os.urandom(NONCE_BYTES)
    context = _wrap_context(owner, key.generation)
    return nonce + AESGCM(master.secret).encrypt(nonce, key.secret, context)


def unwrap_data_key(
    master: MasterKey, owner: uuid.UUID, generation: int, wrapped: bytes
) -> DataKey:
    try:
        secret = AESGCM(master.secret).decrypt(
            wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _wrap_context(owner, generation)
        )
    except (InvalidTag, ValueError):
        raise TamperedPersonalData(
            f"data key of {owner}: does not unwrap under master key {master.key_id}"
        ) from None
    return DataKey.from_bytes(secret, generation)
