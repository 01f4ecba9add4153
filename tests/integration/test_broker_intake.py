"""Intake channel 1 end to end: CloudEvents on a real NATS JetStream into the real event store.

FastStream's in-memory TestNatsBroker does not emulate ack, nak or redelivery (DESIGN §11), so
these tests run the intake app against the NATS server of the ``nats_url`` fixture. Each test
gets its own streams, subject prefixes and consumer (the server is shared and persistent) and
deletes its streams afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.broker.signal_intake import (
    CLOUDEVENTS_JSON,
    HUB_SOURCE,
    MSG_ID_HEADER,
    REJECTION_EVENT_TYPE,
    IntakeTopology,
    build_intake_broker,
)
from adapters.signals.cloudevent import SIGNAL_EVENT_TYPE
from events.catalogue.signals import SignalReceived, SignalRejected
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from services.intake.commands import ReceiveSignal
from services.intake.receive_signals import IntakeOutcome, SignalIntake, Submission
from services.intake.rules import IntakeRules
from services.municipalities import load_municipalities
from services.partners import load_partners
from services.privacy.personal_store import read_personal_records
from tests.support.intake import BSN_A, CONFIG

pytestmark = pytest.mark.nats

TODAY = date(2026, 11, 30)  # injected: the signal dates below never go stale
TIMEOUT = 20.0


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


def own_topology(**limits: Any) -> IntakeTopology:
    """Names of one test alone; quick retries so that redelivery tests take a second."""
    tag = uuid.uuid4().hex[:10]
    quick = IntakeTopology(
        signal_stream=f"TEST_{tag.upper()}_SIGNALEN",
        signal_subjects=f"test-{tag}.signalen",
        rejection_stream=f"TEST_{tag.upper()}_AFWIJZINGEN",
        rejection_subjects=f"test-{tag}.afwijzingen",
        durable=f"hub-intake-{tag}",
        retry_delays=(0.2,),
        batch_timeout=0.1,
    )
    return replace(quick, **limits)


async def drop_streams(js: JetStreamContext, topology: IntakeTopology) -> None:
    for name in (topology.signal_stream, topology.rejection_stream):
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(name)


@pytest.fixture
def topology() -> IntakeTopology:
    return own_topology()


@pytest.fixture
async def jetstream(nats_url: str, topology: IntakeTopology) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(nats_url, connect_timeout=5)
    try:
        yield client.jetstream()
    finally:
        await drop_streams(client.jetstream(), topology)
        await client.close()


class RecordingIntake(SignalIntake):
    """The real intake, remembering the statuses of every batch it was given."""

    def __init__(self, store: SqlEventStore) -> None:
        super().__init__(store, load_partners(CONFIG), load_municipalities(CONFIG), IntakeRules())
        self.batches: list[list[str]] = []

    async def receive(self, submissions: Sequence[Submission]) -> list[IntakeOutcome]:
        outcomes = await super().receive(submissions)
        self.batches.append([outcome.status for outcome in outcomes])
        return outcomes


class CrashOnceAfterCommit(RecordingIntake):
    """Dies once between the committed transaction and the acknowledgement."""

    crashed = False

    async def receive(self, submissions: Sequence[Submission]) -> list[IntakeOutcome]:
        outcomes = await super().receive(submissions)
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("the hub died after the commit, before the acknowledgement")
        return outcomes


class DatabaseDown(RecordingIntake):
    """Fails every batch before anything is written."""

    attempts = 0

    async def receive(self, submissions: Sequence[Submission]) -> list[IntakeOutcome]:
        self.attempts += 1
        raise ConnectionError("the database does not answer")


class PoisonedBy(RecordingIntake):
    """Fails every batch that holds the signal ``poison``, before anything is written: a
    message the database cannot take (a constraint, a bug), not an invalid one."""

    def __init__(self, store: SqlEventStore, poison: str) -> None:
        super().__init__(store)
        self.poison = poison
        self.failed: list[int] = []

    async def receive(self, submissions: Sequence[Submission]) -> list[IntakeOutcome]:
        if any(
            isinstance(s.parsed, ReceiveSignal) and s.parsed.partner_signal_id == self.poison
            for s in submissions
        ):
            self.failed.append(len(submissions))
            raise RuntimeError("the database refused this batch")
        return await super().receive(submissions)


@asynccontextmanager
async def running(
    nats_url: str, intake: SignalIntake, topology: IntakeTopology, batch_size: int = 100
) -> AsyncIterator[None]:
    broker, _ = build_intake_broker(
        nats_url, intake, today=lambda: TODAY, batch_size=batch_size, topology=topology
    )
    await broker.start()
    try:
        yield
    finally:
        await broker.stop()


def signal_data(signal_id: str = "W-1", **changes: Any) -> dict[str, Any]:
    """A valid nested signal of Vitens about a synthetic person."""
    data: dict[str, Any] = {
        "signaalId": signal_id,
        "signaalpartnerType": "Water",
        "soort": "vroegsignaal",
        "bedrag": "123.45",
        "ontstaansdatum": "2026-08-01",
        "signaaldatum": "2026-10-01",
        "dagenAchterstand": 61,
        "crisissignaal": False,
        "warmeOverdracht": False,
        "klantnummer": "K-100",
        "client": {
            "burgerservicenummer": BSN_A,
            "voorletters": "J.",
            "voorvoegsel": "van 't",
            "achternaam": "Hoff",
            "geboortedatum": "1990-05-17",
            "straatnaam": "Grotestraat",
            "postcode": "7604AB",
            "huisnummer": 12,
            "plaatsnaam": "Almelo",
        },
    }
    return data | changes


def cloudevent(
    data: object,
    *,
    event_id: str | None = None,
    source: str = "urn:nl:signaalhub:partner:vitens",
) -> bytes:
    document = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": SIGNAL_EVENT_TYPE,
        "datacontenttype": "application/json",
        "data": data,
    }
    return json.dumps(document).encode()


async def publish(
    js: JetStreamContext,
    topology: IntakeTopology,
    body: bytes,
    *,
    partner: str = "vitens",
    msg_id: str | None = None,
) -> int:
    """Publish as a partner does; returns the message's stream sequence."""
    headers = {MSG_ID_HEADER: msg_id} if msg_id else None
    ack = await js.publish(f"{topology.signal_subjects}.{partner}", body, headers=headers)
    return int(ack.seq)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        await asyncio.sleep(0.05)


async def hub_is_down(js: JetStreamContext, topology: IntakeTopology) -> None:
    """Wait until no fetch of a stopped hub is still waiting at the consumer: a message
    published meanwhile would go to that fetch and wait out ``ack_wait`` unacknowledged."""

    async def no_fetch_waiting() -> bool:
        info = await js.consumer_info(topology.signal_stream, topology.durable)
        return not info.num_waiting

    await eventually(no_fetch_waiting, "the stopped hub's fetches were gone")


async def all_acknowledged(js: JetStreamContext, topology: IntakeTopology, last: int) -> None:
    """Wait until the consumer has acknowledged every message up to stream sequence ``last``
    and holds nothing pending or unacknowledged."""

    async def done() -> bool:
        info = await js.consumer_info(topology.signal_stream, topology.durable)
        return bool(
            (info.ack_floor.stream_seq or 0) >= last
            and info.num_ack_pending == 0
            and info.num_pending == 0
        )

    await eventually(done, f"the consumer acknowledged stream sequence {last}")


async def recorded(store: SqlEventStore, event_type: type[Any]) -> list[Any]:
    return [r.event for r in await store.read_all(limit=10_000) if isinstance(r.event, event_type)]


async def rejection_sent(
    js: JetStreamContext, topology: IntakeTopology, partner: str = "vitens"
) -> tuple[dict[str, Any], dict[str, str]]:
    message = await js.get_last_msg(topology.rejection_stream, topology.rejection_subject(partner))
    assert message.data is not None
    event: dict[str, Any] = json.loads(message.data)
    return event, dict(message.headers or {})


async def test_a_valid_signal_is_recorded_once_and_acknowledged(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    async with running(nats_url, intake, topology):
        sequence = await publish(jetstream, topology, cloudevent(signal_data()), msg_id="m-1")
        await all_acknowledged(jetstream, topology, sequence)

    [received] = await recorded(store, SignalReceived)
    assert (received.partner_id, received.partner_signal_id) == ("vitens", "W-1")
    assert received.channel == "broker"
    assert intake.batches == [["accepted"]]
    stream = await jetstream.stream_info(topology.rejection_stream)
    assert stream.state.messages == 0


async def test_a_binary_mode_cloudevent_is_accepted_too(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "ce-binary",
        "ce-source": "urn:nl:signaalhub:partner:vitens",
        "ce-type": SIGNAL_EVENT_TYPE,
        "content-type": "application/json",
    }
    async with running(nats_url, intake, topology):
        ack = await jetstream.publish(
            f"{topology.signal_subjects}.vitens",
            json.dumps(signal_data("W-BIN")).encode(),
            headers=headers,
        )
        await all_acknowledged(jetstream, topology, int(ack.seq))

    [received] = await recorded(store, SignalReceived)
    assert received.partner_signal_id == "W-BIN"


async def test_the_same_signal_twice_with_other_message_ids_is_a_duplicate(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    body = cloudevent(signal_data(), event_id="ce-1")
    async with running(nats_url, intake, topology):
        first = await publish(jetstream, topology, body, msg_id="m-1")
        await all_acknowledged(jetstream, topology, first)
        second = await publish(jetstream, topology, body, msg_id="m-2")
        await all_acknowledged(jetstream, topology, second)

    assert len(await recorded(store, SignalReceived)) == 1
    assert intake.batches == [["accepted"], ["duplicate"]]


async def test_a_message_id_published_twice_is_dropped_by_the_stream(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    async with running(nats_url, intake, topology):
        first = await publish(jetstream, topology, cloudevent(signal_data()), msg_id="m-1")
        again = await publish(jetstream, topology, cloudevent(signal_data()), msg_id="m-1")
        await all_acknowledged(jetstream, topology, first)

    assert again == first  # the partner's retried publish: one message in the stream
    assert len(await recorded(store, SignalReceived)) == 1


async def test_a_crash_between_commit_and_acknowledgement_redelivers_without_a_second_record(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = CrashOnceAfterCommit(store)
    async with running(nats_url, intake, topology):
        sequence = await publish(jetstream, topology, cloudevent(signal_data()))
        await all_acknowledged(jetstream, topology, sequence)

    assert intake.batches == [["accepted"], ["duplicate"]]  # delivered twice
    info = await jetstream.consumer_info(topology.signal_stream, topology.durable)
    assert info.delivered.consumer_seq == 2
    assert len(await recorded(store, SignalReceived)) == 1


async def test_a_redelivered_rejection_is_published_once(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = CrashOnceAfterCommit(store)
    async with running(nats_url, intake, topology):
        sequence = await publish(jetstream, topology, cloudevent(signal_data(bedrag="veel")))
        await all_acknowledged(jetstream, topology, sequence)

    assert intake.batches == [["rejected"], ["rejected"]]
    stream = await jetstream.stream_info(topology.rejection_stream)
    assert stream.state.messages == 1


async def test_an_invalid_signal_is_rejected_and_the_partner_hears_every_reason(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    client = signal_data()["client"] | {"postcode": "12AB", "burgerservicenummer": "123456789"}
    data = signal_data(
        "W-BAD", bedrag="veel", soort="herinnering", signaaldatum="2099-01-01", client=client
    )
    async with running(nats_url, intake, topology):
        sequence = await publish(jetstream, topology, cloudevent(data, event_id="ce-bad"))
        await all_acknowledged(jetstream, topology, sequence)

    expected = {
        "bedrag",
        "soort",
        "signaaldatum",
        "client.postcode",
        "client.burgerservicenummer",
    }
    [rejected] = await recorded(store, SignalRejected)
    assert rejected.partner_id == "vitens"
    assert {reason.field for reason in rejected.reasons} == expected
    assert await recorded(store, SignalReceived) == []

    event, headers = await rejection_sent(jetstream, topology)
    assert (event["type"], event["source"], event["specversion"]) == (
        REJECTION_EVENT_TYPE,
        HUB_SOURCE,
        "1.0",
    )
    assert headers[MSG_ID_HEADER] == event["id"]
    assert headers["content-type"] == CLOUDEVENTS_JSON
    assert event["data"]["signaalId"] == "W-BAD"
    assert event["data"]["berichtId"] == "ce-bad"
    assert event["data"]["afwijzingId"] == str(rejected.rejection_id)
    assert [r["veld"] for r in event["data"]["redenen"]] == [r.field for r in rejected.reasons]
    assert all(r["probleem"] for r in event["data"]["redenen"])
    published = json.dumps(event)
    for personal in ("123456789", "Hoff", "Grotestraat", "12AB", "1990-05-17"):
        assert personal not in published


async def test_a_source_of_another_partner_is_rejected(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    body = cloudevent(signal_data(), source="urn:nl:signaalhub:partner:menzis")
    async with running(nats_url, intake, topology):
        sequence = await publish(jetstream, topology, body)
        await all_acknowledged(jetstream, topology, sequence)

    [rejected] = await recorded(store, SignalRejected)
    assert rejected.partner_id == "vitens"
    [reason] = [r for r in rejected.reasons if r.field == "source"]
    assert "menzis" in reason.problem
    event, _ = await rejection_sent(jetstream, topology, "vitens")
    assert "source" in [r["veld"] for r in event["data"]["redenen"]]
    assert await recorded(store, SignalReceived) == []


async def test_a_message_that_is_not_json_is_rejected_and_kept(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    async with running(nats_url, intake, topology):
        sequence = await publish(jetstream, topology, b"dit is geen JSON \xff")
        await all_acknowledged(jetstream, topology, sequence)

    [rejected] = await recorded(store, SignalRejected)
    assert rejected.partner_id == "vitens"
    assert "not valid JSON" in rejected.reasons[0].problem
    async with store.engine.connect() as conn:
        records = await read_personal_records(conn, subject_ids=[rejected.rejection_id])
    kept = records[rejected.rejection_id].content
    assert isinstance(kept, str)
    assert kept.startswith("dit is geen JSON")  # nothing vanishes: the raw input is kept
    event, _ = await rejection_sent(jetstream, topology)
    assert (event["data"]["signaalId"], event["data"]["berichtId"]) == (None, None)
    assert event["data"]["redenen"][0]["probleem"].startswith("the body is not valid JSON")


async def test_an_unknown_partner_is_rejected_under_its_sanitised_id(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    async with running(nats_url, intake, topology):
        sequence = await publish(
            jetstream, topology, cloudevent(signal_data()), partner="ACME_Corp"
        )
        await all_acknowledged(jetstream, topology, sequence)

    [rejected] = await recorded(store, SignalRejected)
    assert rejected.partner_id == "acme-corp"
    assert rejected.reasons[0].field == "subject"
    event, _ = await rejection_sent(jetstream, topology, "acme-corp")
    assert event["data"]["redenen"][0]["veld"] == "subject"


async def test_many_signals_are_recorded_in_batches(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    async with running(nats_url, intake, topology, batch_size=16):
        pass  # declares the streams and the durable consumer
    await hub_is_down(jetstream, topology)
    last = 0
    for number in range(40):  # queued while the hub is down
        last = await publish(jetstream, topology, cloudevent(signal_data(f"W-{number}")))
    async with running(nats_url, intake, topology, batch_size=16):
        await all_acknowledged(jetstream, topology, last)

    assert len(await recorded(store, SignalReceived)) == 40
    assert sum(len(batch) for batch in intake.batches) == 40
    # A fetch of up to 16 is one transaction (ideally 16 + 16 + 8; a straggler of a fetch may
    # land in a batch of its own, which costs speed, not correctness).
    assert max(len(batch) for batch in intake.batches) <= 16
    assert len(intake.batches) <= 8


async def test_a_failing_batch_is_retried_a_bounded_number_of_times_and_kept(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext
) -> None:
    topology = own_topology(max_deliver=3, retry_delays=(0.1, 0.2))
    intake = DatabaseDown(store)
    try:
        async with running(nats_url, intake, topology):
            await publish(jetstream, topology, cloudevent(signal_data()))

            async def gave_up() -> bool:
                return intake.attempts >= topology.max_deliver

            await eventually(gave_up, "the last delivery failed")
            await asyncio.sleep(1.0)  # longer than every retry delay: no fourth delivery

        assert intake.attempts == topology.max_deliver
        stream = await jetstream.stream_info(topology.signal_stream)
        assert stream.state.messages == 1  # still there for a replay
        assert await store.read_all() == []
    finally:
        await drop_streams(jetstream, topology)


async def test_one_message_that_cannot_be_recorded_does_not_hold_back_its_batch(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext
) -> None:
    topology = own_topology(max_deliver=2, retry_delays=(0.1,))
    intake = PoisonedBy(store, poison="W-3")
    try:
        async with running(nats_url, intake, topology, batch_size=16):
            pass  # declares the streams and the durable consumer
        await hub_is_down(jetstream, topology)
        for number in range(8):  # queued while the hub is down: they come as one batch
            await publish(jetstream, topology, cloudevent(signal_data(f"W-{number}")))
        async with running(nats_url, intake, topology, batch_size=16):

            async def gave_up_on_the_poison() -> bool:
                info = await jetstream.consumer_info(topology.signal_stream, topology.durable)
                # Every message delivered, none waiting for an acknowledgement: the poison
                # one was naked until max_deliver, the others were acknowledged.
                return (
                    info.num_pending == 0
                    and info.num_ack_pending == 0
                    and intake.failed.count(1) == topology.max_deliver
                )

            try:
                await eventually(gave_up_on_the_poison, "the poison message was given up")
            except pytest.fail.Exception:
                info = await jetstream.consumer_info(topology.signal_stream, topology.durable)
                pytest.fail(
                    "the poison message was not given up in time: consumer pending "
                    f"{info.num_pending}, awaiting acks {info.num_ack_pending}, redelivered "
                    f"{info.num_redelivered}, fetches waiting {info.num_waiting}; failed batch "
                    f"sizes {intake.failed}; recorded batches {intake.batches}"
                )

        received = sorted(e.partner_signal_id for e in await recorded(store, SignalReceived))
        assert received == [f"W-{n}" for n in range(8) if n != 3]  # the other seven, once each
        assert intake.failed[0] > 1  # it failed in a batch with others first
        assert sorted(status for batch in intake.batches for status in batch) == ["accepted"] * 7
        stream = await jetstream.stream_info(topology.signal_stream)
        assert stream.state.messages == 8  # the poison message is kept for a replay
    finally:
        await drop_streams(jetstream, topology)


async def test_the_app_brings_an_existing_consumer_up_to_date(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    async with running(nats_url, intake, topology):
        pass
    stale = await jetstream.consumer_info(topology.signal_stream, topology.durable)
    stale.config.max_deliver = 2
    await jetstream.add_consumer(topology.signal_stream, stale.config)

    _, app = build_intake_broker(nats_url, intake, today=lambda: TODAY, topology=topology)
    async with app:
        info = await jetstream.consumer_info(topology.signal_stream, topology.durable)

    assert info.config.max_deliver == topology.max_deliver


async def test_an_oversized_message_is_rejected_with_its_size_and_acknowledged(
    store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, topology: IntakeTopology
) -> None:
    intake = RecordingIntake(store)
    padded = signal_data(opmerking="x" * (300 * 1024))
    async with running(nats_url, intake, topology):
        sequence = await publish(jetstream, topology, cloudevent(padded))
        await all_acknowledged(jetstream, topology, sequence)

    [rejected] = await recorded(store, SignalRejected)
    assert rejected.partner_id == "vitens"
    [reason] = rejected.reasons
    assert "at most 262144" in reason.problem
    assert not await recorded(store, SignalReceived)
