"""The master keys that wrap every household's data key (DESIGN §9, issue 6).

A master key is 32 random bytes, given as base64 in ``HUB_MASTER_KEY`` (older ones, still
needed until ``signaalhub keys rotate`` ran, in ``HUB_MASTER_KEY_PREVIOUS``) or in
``HUB_MASTER_KEY_FILE`` (one key a line, the first is current). A key never goes to the
database or a log: only its id, the first 8 hex digits of its SHA-256, is stored beside the
data keys it wrapped, so the right one is found after a rotation.

With nothing configured on the embedded SQLite default, a key is generated into
``var/master.key`` (mode 0600) on first use, so a demo needs no set-up; with PostgreSQL a key
must be configured explicitly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from services.logging import get_logger
from services.settings import Settings

KEY_BYTES: Final = 32
GENERATED_KEY_FILE: Final = Path("var/master.key")

log = get_logger(__name__)


class MasterKeyError(Exception):
    """The master key configuration cannot be used; the message names the setting."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    secret: bytes = field(repr=False)

    @classmethod
    def from_bytes(cls, secret: bytes) -> MasterKey:
        if len(secret) != KEY_BYTES:
            raise ValueError(f"a master key is {KEY_BYTES} bytes, not {len(secret)}")
        return cls(key_id(secret), secret)


def key_id(secret: bytes) -> str:
    return hashlib.sha256(secret).hexdigest()[:8]


@dataclass(frozen=True)
class KeyRing:
    """The current master key (wraps new data keys) and older ones (only unwrap)."""

    current: MasterKey
    older: tuple[MasterKey, ...] = ()

    def __post_init__(self) -> None:
        ids = [k.key_id for k in (self.current, *self.older)]
        if len(set(ids)) != len(ids):
            raise MasterKeyError("the same master key is configured twice")

    def by_id(self, wanted: str) -> MasterKey | None:
        return next((k for k in (self.current, *self.older) if k.key_id == wanted), None)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(k.key_id for k in (self.current, *self.older))


def generate_key_text() -> str:
    """A new master key as base64, the form the settings and key files take."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_key(text: str, setting: str) -> MasterKey:
    """One base64 key; the error names ``setting`` and never echoes the value."""
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"{setting}: a master key must be base64") from None
    if len(secret) != KEY_BYTES:
        raise MasterKeyError(
            f"{setting}: a master key must be {KEY_BYTES} bytes (base64 of 32 random bytes), "
            f"this one is {len(secret)}"
        )
    return MasterKey.from_bytes(secret)


def keys_from_file(path: Path, setting: str = "HUB_MASTER_KEY_FILE") -> KeyRing:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise MasterKeyError(f"{setting}: cannot read {path}: {type(error).__name__}") from None
    if path.stat().st_mode & 0o077:
        # Readable by others than its owner: worth fixing, not worth refusing to start over.
        log.warning("master_key_file_not_private", path=str(path), advice="chmod 600")
    lines = [line.strip() for line in text.splitlines()]
    keys = [
        parse_key(line, f"{setting} ({path}, line {number})")
        for number, line in enumerate(lines, start=1)
        if line and not line.startswith("#")
    ]
    if not keys:
        raise MasterKeyError(f"{setting}: {path} holds no key")
    return KeyRing(keys[0], tuple(keys[1:]))


def load_keyring(settings: Settings, generated: Path = GENERATED_KEY_FILE) -> KeyRing:
    """The master keys the settings configure, or the generated one of the embedded default."""
    if settings.master_key is not None and settings.master_key_file is not None:
        raise MasterKeyError("set HUB_MASTER_KEY or HUB_MASTER_KEY_FILE, not both")
    if settings.master_key_file is not None:
        if settings.master_key_previous is not None:
            raise MasterKeyError(
                "HUB_MASTER_KEY_PREVIOUS goes with HUB_MASTER_KEY; in HUB_MASTER_KEY_FILE put "
                "older keys on the lines after the current one"
            )
        return keys_from_file(settings.master_key_file)
    if settings.master_key is not None:
        current = parse_key(settings.master_key.get_secret_value(), "HUB_MASTER_KEY")
        previous = settings.master_key_previous
        older = (
            tuple(
                parse_key(text, f"HUB_MASTER_KEY_PREVIOUS (key {number})")
                for number, text in enumerate(previous.get_secret_value().split(","), 1)
                if text.strip()
            )
            if previous is not None
            else ()
        )
        return KeyRing(current, older)
    if settings.master_key_previous is not None:
        raise MasterKeyError("HUB_MASTER_KEY_PREVIOUS is set but HUB_MASTER_KEY is not")
    if not settings.database_url.startswith("sqlite"):
        raise MasterKeyError(
            "HUB_MASTER_KEY (or HUB_MASTER_KEY_FILE) must be set when HUB_DATABASE_URL is "
            "PostgreSQL: the personal data is encrypted under it"
        )
    return _generated_keyring(generated)


def _generated_keyring(path: Path) -> KeyRing:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written in full beside it, then linked into place: a process starting at the same
        # time sees no key or a whole key, and a link that exists already is not replaced.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(generate_key_text() + "\n")
        try:
            os.link(draft, path)
            created = True
        except FileExistsError:
            created = False
        finally:
            draft.unlink()
        if created:
            keyring = keys_from_file(path, f"generated key file {path}")
            log.warning(
                "master_key_generated",
                path=str(path),
                key_id=keyring.current.key_id,
                advice="set HUB_MASTER_KEY or HUB_MASTER_KEY_FILE outside a demo",
            )
            return keyring
    return keys_from_file(path, f"generated key file {path}")


def add_key_to_file(path: Path) -> KeyRing:
    """Put a new master key first in the key file (created if missing, mode 0600), the keys
    it held after it: the new key becomes current, the others stay usable until rotation."""
    older = keys_from_file(path) if path.exists() else None
    lines = [generate_key_text()]
    if older is not None:
        lines += [base64.b64encode(k.secret).decode("ascii") for k in (older.current, *older.older)]
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as out:
        out.write("\n".join(lines) + "\n")
    os.replace(draft, path)  # whole or not at all
    return keys_from_file(path)


_installed: KeyRing | None = None


def install_keyring(keyring: KeyRing | None) -> None:
    """Use ``keyring`` in this process from now on (``None``: load from the settings again)."""
    global _installed
    _installed = keyring


def current_keyring() -> KeyRing:
    """The process's master keys: the installed ones, else loaded once from the settings."""
    global _installed
    if _installed is None:
        _installed = load_keyring(Settings())
    return _installed


@contextmanager
def using_keyring(keyring: KeyRing) -> Iterator[KeyRing]:
    """``keyring`` for the duration of the block, then whatever was in use before (tests, the
    benchmark)."""
    global _installed
    before, _installed = _installed, keyring
    try:
        yield keyring
    finally:
        _installed = before
