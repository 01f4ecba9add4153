"""Master keys from the settings: ids, the current and older keys, and errors that name the
setting without echoing a key."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from pydantic import SecretStr

from services.privacy.cipher import new_data_key
from services.privacy.household_keys import _UnwrappedKeys
from services.privacy.keys import (
    KeyRing,
    MasterKey,
    MasterKeyError,
    generate_key_text,
    load_keyring,
    parse_key,
)
from services.settings import Settings

POSTGRES = "postgresql+asyncpg://hub@db/hub"


def b64(secret: bytes) -> str:
    return base64.b64encode(secret).decode()


def test_a_key_id_is_the_first_eight_hex_digits_of_its_sha256() -> None:
    secret = b"\x07" * 32
    key = MasterKey.from_bytes(secret)
    assert key.key_id == hashlib.sha256(secret).hexdigest()[:8]
    assert secret.hex() not in repr(key)
    assert b64(secret) not in repr(key)


def test_generated_keys_are_new_32_byte_keys() -> None:
    first, second = generate_key_text(), generate_key_text()
    assert first != second
    assert len(base64.b64decode(first)) == 32


def test_current_and_previous_keys_come_from_the_settings() -> None:
    current, old1, old2 = b"a" * 32, b"b" * 32, b"c" * 32
    settings = Settings(
        database_url=POSTGRES,
        master_key=SecretStr(b64(current)),
        master_key_previous=SecretStr(f"{b64(old1)}, {b64(old2)}"),
    )
    keyring = load_keyring(settings)
    assert keyring.current.secret == current
    assert [k.secret for k in keyring.older] == [old1, old2]
    assert keyring.by_id(MasterKey.from_bytes(old2).key_id) == keyring.older[1]
    assert keyring.by_id("00000000") is None


def test_postgres_without_a_key_is_refused_by_name() -> None:
    with pytest.raises(MasterKeyError, match="HUB_MASTER_KEY"):
        load_keyring(Settings(database_url=POSTGRES))


@pytest.mark.parametrize(
    "text", ["not base64 at all!", b64(b"short"), b64(b"x" * 33)], ids=["junk", "short", "long"]
)
def test_a_bad_key_is_refused_naming_the_setting_never_the_value(text: str) -> None:
    with pytest.raises(MasterKeyError) as raised:
        parse_key(text, "HUB_MASTER_KEY")
    assert "HUB_MASTER_KEY" in str(raised.value)
    assert text not in str(raised.value)


def test_conflicting_settings_are_refused() -> None:
    key = SecretStr(b64(b"a" * 32))
    with pytest.raises(MasterKeyError, match="not both"):
        load_keyring(Settings(master_key=key, master_key_file="keys.txt"))
    with pytest.raises(MasterKeyError, match="HUB_MASTER_KEY_PREVIOUS"):
        load_keyring(Settings(database_url=POSTGRES, master_key_previous=key))
    same = MasterKey.from_bytes(b"a" * 32)
    with pytest.raises(MasterKeyError, match="twice"):
        KeyRing(same, (same,))


def test_the_settings_never_show_the_key() -> None:
    secret = b64(b"z" * 32)
    settings = Settings(master_key=SecretStr(secret), master_key_previous=SecretStr(secret))
    assert secret not in repr(settings)
    assert secret not in str(settings.model_dump())


def test_the_cache_of_unwrapped_keys_is_bounded_and_forgets_erased_owners() -> None:
    cache = _UnwrappedKeys(size=2)
    owners = [uuid.uuid4() for _ in range(3)]
    keys = [new_data_key() for _ in owners]
    for owner, key in zip(owners, keys, strict=True):
        cache.put(owner, owner.bytes, key)

    assert len(cache) == 2
    assert cache.get(owners[0], owners[0].bytes) is None  # the least recently used went
    assert cache.get(owners[2], owners[2].bytes) is keys[2]
    assert cache.get(owners[2], b"rewrapped") is None  # keyed by the wrapped bytes too
    cache.forget({owners[2]})
    assert cache.get(owners[2], owners[2].bytes) is None
    assert cache.get(owners[1], owners[1].bytes) is keys[1]
