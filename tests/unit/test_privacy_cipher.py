"""Sealing personal-data records and wrapping data keys: round trips, and every kind of
tampering detected (a changed byte, a record moved to another row, the wrong key)."""

from __future__ import annotations

import base64
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.privacy.cipher import (
    DataKey,
    TamperedPersonalData,
    generation_of,
    key_id_of,
    new_data_key,
    open_sealed,
    seal,
    sealed_key_id,
    unwrap_data_key,
    wrap_data_key,
)
from services.privacy.keys import MasterKey

SUBJECT = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER_SUBJECT = uuid.UUID("00000000-0000-4000-8000-000000000002")
HOUSEHOLD = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
OTHER_HOUSEHOLD = uuid.UUID("00000000-0000-4000-8000-0000000000a2")
RECORD = '{"bsn": "999990019", "surname": "Hoff", "street": "Grotestraat"}'


def flipped(envelope: str, at: int) -> str:
    prefix, key_id, body = envelope.split(":")
    raw = bytearray(base64.b64decode(body))
    raw[at] ^= 0x01
    return f"{prefix}:{key_id}:{base64.b64encode(bytes(raw)).decode()}"


def test_a_sealed_record_opens_to_the_same_text_and_shows_none_of_it() -> None:
    key = new_data_key()
    envelope = seal(key, RECORD, SUBJECT, HOUSEHOLD, "signal")

    assert envelope.startswith(f"v1:{key.key_id}:")
    for plain in ("999990019", "Hoff", "Grotestraat"):
        assert plain not in envelope
    assert open_sealed(key, envelope, SUBJECT, HOUSEHOLD, "signal") == RECORD


@given(st.text(max_size=300))
def test_any_text_round_trips(text: str) -> None:
    key = DataKey.from_bytes(b"k" * 32)
    envelope = seal(key, text, SUBJECT, None, "rejected-input")
    assert open_sealed(key, envelope, SUBJECT, None, "rejected-input") == text


def test_the_same_record_sealed_twice_differs_by_its_random_nonce() -> None:
    key = new_data_key()
    first = seal(key, RECORD, SUBJECT, HOUSEHOLD, "signal")
    second = seal(key, RECORD, SUBJECT, HOUSEHOLD, "signal")
    assert first != second


@pytest.mark.parametrize("at", [0, 11, 12, 30, -1])  # nonce, ciphertext and tag bytes
def test_a_flipped_byte_is_detected(at: int) -> None:
    key = new_data_key()
    envelope = seal(key, RECORD, SUBJECT, HOUSEHOLD, "signal")
    with pytest.raises(TamperedPersonalData, match=str(SUBJECT)):
        open_sealed(key, flipped(envelope, at), SUBJECT, HOUSEHOLD, "signal")


@pytest.mark.parametrize(
    ("subject", "household", "kind"),
    [
        (OTHER_SUBJECT, HOUSEHOLD, "signal"),  # swapped onto another row
        (SUBJECT, OTHER_HOUSEHOLD, "signal"),  # moved to another household
        (SUBJECT, HOUSEHOLD, "signal-update"),  # relabelled
        (SUBJECT, None, "signal"),
    ],
)
def test_a_record_moved_to_another_row_does_not_open(
    subject: uuid.UUID, household: uuid.UUID | None, kind: str
) -> None:
    key = new_data_key()
    envelope = seal(key, RECORD, SUBJECT, HOUSEHOLD, "signal")
    with pytest.raises(TamperedPersonalData):
        open_sealed(key, envelope, subject, household, kind)


def test_the_wrong_key_does_not_open_it() -> None:
    key, wrong = new_data_key(), new_data_key()
    envelope = seal(key, RECORD, SUBJECT, HOUSEHOLD, "signal")
    assert wrong.key_id == key.key_id  # both a household's first key: the tag decides
    with pytest.raises(TamperedPersonalData, match="does not authenticate"):
        open_sealed(wrong, envelope, SUBJECT, HOUSEHOLD, "signal")
    with pytest.raises(TamperedPersonalData, match="another data key"):
        open_sealed(new_data_key(generation=2), envelope, SUBJECT, HOUSEHOLD, "signal")


def test_damaged_envelopes_are_tampering_not_crashes() -> None:
    key = new_data_key()
    for text in ("v1:zz:abc", f"v1:{key.key_id}:not base64!", f"v1:{key.key_id}:AAAA"):
        with pytest.raises(TamperedPersonalData):
            open_sealed(key, text, SUBJECT, HOUSEHOLD, "signal")


def test_key_ids_name_the_generation_and_are_read_from_the_envelope() -> None:
    key = DataKey.from_bytes(bytes(range(32)), generation=3)
    assert key.key_id == key_id_of(3) == "00000003"
    assert generation_of(key.key_id) == 3
    assert sealed_key_id(seal(key, "x", SUBJECT, None, "k")) == "00000003"
    assert sealed_key_id('{"surname": "Hoff"}') is None
    assert bytes(range(32)).hex() not in repr(key)


def test_a_wrapped_data_key_unwraps_only_for_its_household_under_its_master_key() -> None:
    master = MasterKey.from_bytes(b"m" * 32)
    other_master = MasterKey.from_bytes(b"n" * 32)
    key = new_data_key()
    wrapped = wrap_data_key(master, HOUSEHOLD, key)

    assert key.secret not in wrapped
    assert unwrap_data_key(master, HOUSEHOLD, 1, wrapped).secret == key.secret
    with pytest.raises(TamperedPersonalData):
        unwrap_data_key(master, OTHER_HOUSEHOLD, 1, wrapped)
    with pytest.raises(TamperedPersonalData):
        unwrap_data_key(master, HOUSEHOLD, 2, wrapped)  # claimed to be a later generation
    with pytest.raises(TamperedPersonalData, match=other_master.key_id):
        unwrap_data_key(other_master, HOUSEHOLD, 1, wrapped)


def test_rotating_the_master_key_keeps_every_record_readable() -> None:
    old, new = MasterKey.from_bytes(b"o" * 32), MasterKey.from_bytes(b"p" * 32)
    key = new_data_key()
    envelope = seal(key, RECORD, SUBJECT, HOUSEHOLD, "signal")
    under_old = wrap_data_key(old, HOUSEHOLD, key)

    rewrapped = wrap_data_key(new, HOUSEHOLD, unwrap_data_key(old, HOUSEHOLD, 1, under_old))

    assert rewrapped != under_old
    again = unwrap_data_key(new, HOUSEHOLD, 1, rewrapped)
    assert open_sealed(again, envelope, SUBJECT, HOUSEHOLD, "signal") == RECORD
    with pytest.raises(TamperedPersonalData):
        unwrap_data_key(old, HOUSEHOLD, 1, rewrapped)
