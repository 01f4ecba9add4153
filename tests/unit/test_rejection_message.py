"""The broker intake's pure parts: the rejection CloudEvent, partner ids from subjects, the
retry schedule and the topology's own checks."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from adapters.broker.signal_intake import (
    HUB_SOURCE,
    REJECTION_EVENT_TYPE,
    IntakeTopology,
    Rejection,
    encode_rejection,
    partner_signal_id_in,
    rejection_cloudevent,
    rejection_message_id,
    retry_delay,
    sanitise_partner_id,
)
from adapters.signals.cloudevent import Envelope
from services.intake.commands import FieldProblem

NOW = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


def test_the_rejection_is_a_cloudevent_with_ids_and_every_reason() -> None:
    recorded_as = uuid.uuid4()
    rejection = Rejection(
        id=rejection_message_id("SIGNALEN", 7),
        partner_id="vitens",
        reasons=(
            FieldProblem("bedrag", "must not be negative"),
            FieldProblem("client.postcode", "must be a Dutch postcode"),
        ),
        partner_signal_id="W-1",
        message_id="ce-1",
        recorded_as=recorded_as,
    )

    event = rejection_cloudevent(rejection, time=NOW)

    assert event == {
        "specversion": "1.0",
        "id": str(rejection.id),
        "source": HUB_SOURCE,
        "type": REJECTION_EVENT_TYPE,
        "time": "2026-11-30T09:15:00+00:00",
        "datacontenttype": "application/json",
        "data": {
            "signaalId": "W-1",
            "berichtId": "ce-1",
            "afwijzingId": str(recorded_as),
            "redenen": [
                {"veld": "bedrag", "probleem": "must not be negative"},
                {"veld": "client.postcode", "probleem": "must be a Dutch postcode"},
            ],
        },
    }
    assert json.loads(encode_rejection(rejection, time=NOW)) == event


def test_a_rejection_without_ids_says_so_with_nulls() -> None:
    rejection = Rejection(
        id=uuid.uuid4(), partner_id="onbekend", reasons=(FieldProblem("", "not JSON"),)
    )
    data = rejection_cloudevent(rejection, time=NOW)["data"]
    assert (data["signaalId"], data["berichtId"], data["afwijzingId"]) == (None, None, None)


def test_the_rejection_id_depends_on_the_place_in_the_stream_only() -> None:
    assert rejection_message_id("SIGNALEN", 7) == rejection_message_id("SIGNALEN", 7)
    assert rejection_message_id("SIGNALEN", 7) != rejection_message_id("SIGNALEN", 8)
    assert rejection_message_id("SIGNALEN", 7) != rejection_message_id("OTHER", 7)


@pytest.mark.parametrize(
    ("token", "partner_id"),
    [
        ("vitens", "vitens"),
        ("ACME_Corp", "acme-corp"),
        ("--weird--name--", "weird--name"),
        ("é", "onbekend"),
        ("", "onbekend"),
        ("a" * 100, "a" * 63),
        ("a" * 62 + "_b", "a" * 62),
    ],
)
def test_a_subject_token_becomes_a_safe_partner_id(token: str, partner_id: str) -> None:
    assert sanitise_partner_id(token) == partner_id


def test_the_partner_is_the_token_after_the_prefix() -> None:
    topology = IntakeTopology(signal_subjects="t1.signalen", rejection_subjects="t1.afwijzingen")
    assert topology.partner_token("t1.signalen.vitens") == "vitens"
    assert topology.signal_filter == "t1.signalen.*"
    assert topology.rejection_subject("vitens") == "t1.afwijzingen.vitens"


def test_retry_delays_grow_and_the_last_repeats() -> None:
    delays = (1.0, 5.0, 30.0)
    assert [retry_delay(n, delays) for n in range(1, 6)] == [1.0, 5.0, 30.0, 30.0, 30.0]
    assert retry_delay(0, delays) == 1.0
    assert retry_delay(3, ()) == 0.0


def test_the_rejection_dedup_window_must_outlast_every_redelivery() -> None:
    default = IntakeTopology()
    assert default.rejection_duplicate_window >= default.redelivery_span()
    with pytest.raises(ValueError, match="redelivery span"):
        IntakeTopology(rejection_duplicate_window=60.0)
    with pytest.raises(ValueError, match="max_deliver"):
        IntakeTopology(max_deliver=0)


@pytest.mark.parametrize(
    ("data", "signal_id"),
    [
        ({"signaalId": " W-1 "}, "W-1"),
        ({"signaalId": 42}, "42"),
        ({"signaalId": True}, None),
        ({"signaalId": ["W-1"]}, None),
        ({"signaalId": "x" * 300}, "x" * 100),
        ({}, None),
        ("not an object", None),
    ],
)
def test_the_signal_id_of_a_rejected_message_when_it_has_one(
    data: object, signal_id: str | None
) -> None:
    envelope = Envelope(id="ce-1", source=None, type=None, specversion="1.0", data=data)
    assert partner_signal_id_in(envelope) == signal_id
    assert partner_signal_id_in(FieldProblem("", "not JSON")) is None
