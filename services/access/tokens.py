"""Bearer tokens and API keys, kept only as their SHA-256 (a leaked config file gives no
access), matched in constant time against every configured hash (no early exit), so the
answer time does not tell how close a guess was or whose it matched."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def token_hash(token: str) -> str:
    """The hex SHA-256 of a token, as the configuration holds it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_sha256_hex(value: str) -> str:
    value = value.strip().lower()
    if not SHA256_HEX.fullmatch(value):
        raise ValueError("must be the hex SHA-256 of the token (64 characters 0-9a-f)")
    return value


def owner_of(token: str, hashes: Iterable[tuple[str, str]]) -> str | None:
    """The id whose hash matches ``token``, from ``(id, sha256 hex)`` pairs; None for an
    unknown or empty token."""
    if not token:
        return None
    presented = token_hash(token).encode("ascii")
    found: str | None = None
    for owner, digest in hashes:
        if hmac.compare_digest(presented, digest.encode("ascii")):
            found = owner
    return found
