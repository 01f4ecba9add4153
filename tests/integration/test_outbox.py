"""The transactional outbox (a projection) and its relay to a real NATS JetStream (issue 4, item 5).

The projection runs on every backend. The relay tests publish on the NATS server of the
``nats_url`` fixture under stream names and a subject prefix of their own, and delete their
streams afterwards; the restart test starts a NATS server of its own (``nats-server``) and
stops and restarts it mid-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import func, select, update

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.broker.outbox_relay import MSG_ID_HEADER, OutboxRelay, OutboxTopology, backoff_delay
from events.catalogue.referrals import ContactKind, ReferralRequested
from events.catalogue.vocabulary import Outcome, PartnerType
from events.envelope import NewEvent
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from projections.catalogue import all_projections
from projections.outbox import (
    FEEDBACK,
    REFERRAL_CANCELLED,
    REFERRAL_REQUESTED,
    REFERRAL_REROUTED,
    OutboxProjection,
    outbox,
)
from projections.runner import ProjectionRunner
from services.referrals import lifecycle
from services.referrals.act_on_referral import ReferralActions, stream_of
from tests.support.intake import BSN_A, BSN_B, person, routing_intake_for, signal, submit

NOON = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
PERSONAL = (BSN_A, BSN_B, "Hoff", "Grotestraat", "7604AB", "1990-05-17", "Jansen", "Kerkstraat")
"""The synthetic person's details (tests.support.intake.person), and the second household's."""
TIMEOUT = 20.0


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


# -- building a log ------------------------------------------------------------------------


async def two_partner_case(store: SqlEventStore) -> uuid.UUID:
    """Vitens and Beter Wonen signal the same household: the case is requested at
    vroeg-erop-af, rerouted to schuldenspecialisten and requested there. Returns the case."""
    intake = routing_intake_for(store)
    [first] = await intake.receive([submit(signal("W-1"))])
    await intake.receive(
        [
            submit(
                signal(
                    "H-1",
                    partner_id="beter-wonen",
                    partner_type=PartnerType.RENT,
                    signal_date=date(2026, 10, 10),
                ),
                partner_id="beter-wonen",
            )
        ]
    )
    assert first.case_id is not None
    return first.case_id


async def requests(store: SqlEventStore) -> list[ReferralRequested]:
    return [
        r.event
        for r in await store.read_all(limit=10_000)
        if isinstance(r.event, ReferralRequested)
    ]


async def claim_and_close(
    store: SqlEventStore, request: ReferralRequested, outcome: Outcome
) -> None:
    actions = ReferralActions(store, clock=lambda: NOON)
    await actions.claim(request.team, request.referral_id, "w-17")
    await actions.record_contact_attempt(
        request.team, request.referral_id, ContactKind.PHONE, True, date(2026, 10, 6)
    )
    await actions.close(request.team, request.referral_id, outcome, date(2026, 10, 20))


async def cancelled_case(store: SqlEventStore) -> ReferralRequested:
    """Another household; its referral is cancelled with a reason that names the person."""
    other = person(bsn=BSN_B, surname="Jansen", street="Kerkstraat", house_number=3)
    [outcome] = await routing_intake_for(store).receive([submit(signal("W-9", person=other))])
    [request] = [r for r in await requests(store) if r.case_id == outcome.case_id]
    stream = await store.read_stream(stream_of(request.referral_id))
    referral = lifecycle.fold([r.event for r in stream])
    events = lifecycle.cancel(referral, "betaald, zegt mevrouw Jansen (Kerkstraat 3)", NOON)
    await store.append(
        stream_of(request.referral_id),
        [NewEvent(e) for e in events],
        expected_version=len(stream),
    )
    return request


async def project(store: SqlEventStore) -> None:
    await ProjectionRunner(store, [OutboxProjection()]).catch_up()


async def rows(store: SqlEventStore) -> list[dict[str, Any]]:
    async with store.engine.connect() as conn:
        result = await conn.execute(select(outbox).order_by(outbox.c.id))
        return [dict(row) for row in result.mappings()]


def bodies(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [json.loads(row["body"]) for row in found]


# -- the projection ------------------------------------------------------------------------


async def test_the_hub_keeps_the_outbox_with_its_other_projections() -> None:
    assert "outbox" in [p.name for p in all_projections()]


async def test_each_referral_event_becomes_a_message_on_its_teams_subject(
    store: SqlEventStore,
) -> None:
    case_id = await two_partner_case(store)
    cancelled = await cancelled_case(store)
    await project(store)

    first, second, other = await requests(store)
    found = await rows(store)
    messages = [
        (row["subject"], body["type"], body["data"].get("verwijzingId"))
        for row, body in zip(found, bodies(found), strict=True)
    ]
    assert messages == [
        (f"verwijzingen.{first.project}.{first.team}", REFERRAL_REQUESTED, str(first.referral_id)),
        (
            f"verwijzingen.{second.project}.{second.team}",
            REFERRAL_REROUTED,
            str(first.referral_id),
        ),
        (
            f"verwijzingen.{second.project}.{second.team}",
            REFERRAL_REQUESTED,
            str(second.referral_id),
        ),
        (f"verwijzingen.{other.project}.{other.team}", REFERRAL_REQUESTED, str(other.referral_id)),
        (
            f"verwijzingen.{cancelled.project}.{cancelled.team}",
            REFERRAL_CANCELLED,
            str(cancelled.referral_id),
        ),
    ]
    requested = bodies(found)[2]
    assert requested["specversion"] == "1.0"
    assert requested["source"] == "urn:nl:signaalhub"
    assert requested["id"] == found[2]["message_id"]
    assert requested["data"] == {
        "verwijzingId": str(second.referral_id),
        "casusId": str(case_id),
        "project": second.project,
        "team": second.team,
        "urgent": second.urgent,
        "aangevraagdOp": second.requested_on.isoformat(),
        "eersteContactpogingUiterlijk": second.first_contact_due.isoformat(),
        "afsluitenUiterlijk": second.closure_due.isoformat(),
        "details": f"/v1/verwijzingen/{second.referral_id}",
    }
    rerouted = bodies(found)[1]["data"]
    assert (rerouted["vanProject"], rerouted["naarProject"]) == (first.project, second.project)
    assert all(row["published_at"] is None and row["attempts"] == 0 for row in found)


async def test_partners_hear_only_picked_up_and_help_accepted(store: SqlEventStore) -> None:
    await two_partner_case(store)
    _, second = await requests(store)
    await claim_and_close(store, second, Outcome.ADVICE_OR_QUICK_FIX)
    await project(store)

    found = await rows(store)
    feedback = [
        (row["subject"], body["data"])
        for row, body in zip(found, bodies(found), strict=True)
        if body["type"] == FEEDBACK
    ]
    assert feedback == [
        ("terugkoppeling.beter-wonen", {"signaalId": "H-1", "opgepakt": True}),
        ("terugkoppeling.vitens", {"signaalId": "W-1", "opgepakt": True}),
        (
            "terugkoppeling.beter-wonen",
            {"signaalId": "H-1", "opgepakt": True, "hulpGeaccepteerd": True},
        ),
        ("terugkoppeling.vitens", {"signaalId": "W-1", "opgepakt": True, "hulpGeaccepteerd": True}),
    ]
    published = json.dumps(bodies(found))
    assert Outcome.ADVICE_OR_QUICK_FIX.value not in published  # never the outcome itself


@pytest.mark.parametrize(
    ("outcome", "picked_up", "accepted"),
    [
        (Outcome.FOLLOW_UP_FINANCIAL, True, True),
        (Outcome.FOLLOW_UP_NON_FINANCIAL, True, True),
        (Outcome.NO_HELP_NEEDED, True, False),
        (Outcome.ALREADY_PAID, True, False),
    ],
)
async def test_help_accepted_follows_the_outcome(
    store: SqlEventStore, outcome: Outcome, picked_up: bool, accepted: bool
) -> None:
    [result] = await routing_intake_for(store).receive([submit(signal())])
    [request] = await requests(store)
    await claim_and_close(store, request, outcome)
    await project(store)

    closing = bodies(await rows(store))[-1]
    assert closing["type"] == FEEDBACK
    assert closing["data"] == {
        "signaalId": "S-1",
        "opgepakt": picked_up,
        "hulpGeaccepteerd": accepted,
    }
    assert result.case_id == request.case_id


async def test_no_message_holds_personal_data(store: SqlEventStore) -> None:
    await two_partner_case(store)
    _, second = await requests(store)
    await claim_and_close(store, second, Outcome.FOLLOW_UP_FINANCIAL)
    await cancelled_case(store)
    await project(store)

    found = await rows(store)
    assert len(found) == 9
    text = json.dumps([row["body"] for row in found]) + json.dumps(bodies(found))
    for personal in PERSONAL:
        assert personal not in text
    assert "betaald" not in text  # a reason is a work note: never published


async def test_applying_the_log_again_adds_no_row(store: SqlEventStore) -> None:
    await two_partner_case(store)
    _, second = await requests(store)
    await claim_and_close(store, second, Outcome.FOLLOW_UP_FINANCIAL)
    await cancelled_case(store)
    await project(store)
    before = await rows(store)

    projection = OutboxProjection()
    async with store.unit_of_work() as uow:  # a replay of the whole log, as after a crash
        for recorded in await store.read_all(limit=10_000):
            await projection.apply(uow.connection, recorded)
    assert await rows(store) == before

    await ProjectionRunner(store, [projection]).rebuild("outbox")
    rebuilt = await rows(store)
    assert [(r["message_id"], r["subject"], r["body"]) for r in rebuilt] == [
        (r["message_id"], r["subject"], r["body"]) for r in before
    ]


async def test_a_rebuild_keeps_what_was_published_and_sends_nothing_again(
    store: SqlEventStore,
) -> None:
    await two_partner_case(store)
    _, second = await requests(store)
    await claim_and_close(store, second, Outcome.FOLLOW_UP_FINANCIAL)
    await project(store)
    sent = datetime(2026, 11, 2, 9, tzinfo=UTC)
    async with store.engine.begin() as conn:  # what the relay does after each PubAck
        await conn.execute(update(outbox).values(published_at=sent))
    before = await rows(store)
    await cancelled_case(store)  # new events: their messages are the only ones to send

    await ProjectionRunner(store, [OutboxProjection()]).rebuild("outbox")

    after = await rows(store)
    assert after[: len(before)] == before  # the same rows, ids and publication times
    new = after[len(before) :]
    assert new
    assert all(row["published_at"] is None for row in new)
    assert {b["type"] for b in bodies(new)} >= {REFERRAL_REQUESTED, REFERRAL_CANCELLED}


async def test_a_reclaim_after_a_release_does_not_tell_the_partner_again(
    store: SqlEventStore,
) -> None:
    await routing_intake_for(store).receive([submit(signal())])
    [request] = await requests(store)
    actions = ReferralActions(store, clock=lambda: NOON)
    await actions.claim(request.team, request.referral_id, "w-17")
    await actions.release(request.team, request.referral_id, "ziek")
    await actions.claim(request.team, request.referral_id, "w-18")
    await project(store)

    feedback = [b for b in bodies(await rows(store)) if b["type"] == FEEDBACK]
    assert [b["data"] for b in feedback] == [{"signaalId": "S-1", "opgepakt": True}]


async def test_a_signal_joining_a_claimed_case_is_reported_picked_up(
    store: SqlEventStore,
) -> None:
    intake = routing_intake_for(store)
    await intake.receive([submit(signal("W-1"))])
    [request] = await requests(store)
    await ReferralActions(store, clock=lambda: NOON).claim(request.team, request.referral_id, "w-1")
    later = signal(
        "H-1",
        partner_id="beter-wonen",
        partner_type=PartnerType.RENT,
        signal_date=date(2026, 10, 10),
    )
    await intake.receive([submit(later, partner_id="beter-wonen")])
    assert len(await requests(store)) == 1  # the claimed case stayed with its team
    await project(store)

    found = await rows(store)
    feedback = [
        (row["subject"], body["data"])
        for row, body in zip(found, bodies(found), strict=True)
        if body["type"] == FEEDBACK
    ]
    assert feedback == [
        ("terugkoppeling.vitens", {"signaalId": "W-1", "opgepakt": True}),
        ("terugkoppeling.beter-wonen", {"signaalId": "H-1", "opgepakt": True}),
    ]


# -- the relay -----------------------------------------------------------------------------


@pytest.fixture
def topology() -> OutboxTopology:
    tag = uuid.uuid4().hex[:10]
    return OutboxTopology(
        referral_stream=f"TEST_{tag.upper()}_VERWIJZINGEN",
        feedback_stream=f"TEST_{tag.upper()}_TERUGKOPPELING",
        subject_prefix=f"test-{tag}.",
    )


def test_the_relay_backs_off_exponentially_up_to_a_limit() -> None:
    delays = [backoff_delay(failures, 0.5, 30.0) for failures in range(9)]
    assert delays == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_the_default_streams_take_every_team_and_partner_subject() -> None:
    referrals, feedback = OutboxTopology().stream_configs()
    assert (referrals.name, referrals.subjects) == ("VERWIJZINGEN", ["verwijzingen.>"])
    assert (feedback.name, feedback.subjects) == ("TERUGKOPPELING", ["terugkoppeling.>"])
    assert referrals.duplicate_window == feedback.duplicate_window == 24 * 3600


@contextlib.asynccontextmanager
async def jetstream_at(url: str, topology: OutboxTopology) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(url, connect_timeout=5)
    try:
        yield client.jetstream()
    finally:
        js = client.jetstream()
        for name in (topology.referral_stream, topology.feedback_stream):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(name)
        await client.close()


async def consume(js: JetStreamContext, stream: str, subjects: str) -> list[tuple[str, str]]:
    """Every message in ``stream``, read by an ephemeral consumer: (Nats-Msg-Id, CloudEvent id)."""
    info = await js.stream_info(stream)
    expected = int(info.state.messages)
    subscription = await js.pull_subscribe(subjects, stream=stream)
    seen: list[tuple[str, str]] = []
    try:
        while len(seen) < expected:
            for message in await subscription.fetch(expected - len(seen), timeout=TIMEOUT):
                await message.ack()
                headers = message.headers or {}
                seen.append((headers[MSG_ID_HEADER], json.loads(message.data)["id"]))
    finally:
        await subscription.unsubscribe()
    return seen


async def delivered(js: JetStreamContext, topology: OutboxTopology) -> list[tuple[str, str]]:
    return await consume(js, topology.referral_stream, topology.referral_filter) + await consume(
        js, topology.feedback_stream, topology.feedback_filter
    )


async def outbox_with_every_kind(store: SqlEventStore) -> list[dict[str, Any]]:
    await two_partner_case(store)
    _, second = await requests(store)
    await claim_and_close(store, second, Outcome.FOLLOW_UP_FINANCIAL)
    await cancelled_case(store)
    await project(store)
    return await rows(store)


async def unpublished(store: SqlEventStore) -> int:
    async with store.engine.connect() as conn:
        query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        return int((await conn.execute(query)).scalar_one())


async def forget_publishing(store: SqlEventStore) -> None:
    """As if the relay died after every PubAck, before marking the rows."""
    async with store.engine.begin() as conn:
        await conn.execute(update(outbox).values(published_at=None))


@pytest.mark.nats
async def test_the_relay_publishes_each_message_once_even_when_published_again(
    store: SqlEventStore, nats_url: str, topology: OutboxTopology
) -> None:
    found = await outbox_with_every_kind(store)
    relay = OutboxRelay(store, nats_url, topology=topology)
    async with jetstream_at(nats_url, topology) as js:
        try:
            assert await relay.publish_pending() == len(found)
            assert await unpublished(store) == 0
            assert await relay.publish_pending() == 0

            await forget_publishing(store)
            assert await relay.publish_pending() == len(found)  # published again ...
        finally:
            await relay.close()
        messages = await delivered(js, topology)  # ... and the streams dropped the copies

    assert sorted(messages) == sorted((row["message_id"], row["message_id"]) for row in found)
    assert len(set(messages)) == len(found)
    referral_messages = await rows(store)
    assert all(row["published_at"] is not None for row in referral_messages)


@pytest.mark.nats
async def test_a_relay_that_cannot_reach_nats_keeps_the_rows_and_delivers_later(
    store: SqlEventStore, nats_url: str, topology: OutboxTopology
) -> None:
    found = await outbox_with_every_kind(store)
    down = OutboxRelay(
        store, f"nats://127.0.0.1:{free_port()}", topology=topology, connect_timeout=0.5
    )
    try:
        assert await down.publish_pending() == 0
        assert await down.publish_pending() == 0
    finally:
        await down.close()
    assert down.failures == 2
    after = await rows(store)
    assert [row["attempts"] for row in after] == [2] + [0] * (len(found) - 1)
    assert await unpublished(store) == len(found)

    relay = OutboxRelay(store, nats_url, topology=topology)
    async with jetstream_at(nats_url, topology) as js:
        try:
            assert await relay.publish_pending() == len(found)
        finally:
            await relay.close()
        assert relay.failures == 0
        messages = await delivered(js, topology)
    assert sorted(m for m, _ in messages) == sorted(row["message_id"] for row in found)


@pytest.mark.nats
async def test_run_delivers_new_rows_and_stops(
    store: SqlEventStore, nats_url: str, topology: OutboxTopology
) -> None:
    relay = OutboxRelay(store, nats_url, topology=topology, poll_interval=0.05)
    stop = asyncio.Event()
    async with jetstream_at(nats_url, topology) as js:
        running = asyncio.create_task(relay.run(stop))
        found = await outbox_with_every_kind(store)
        await eventually(lambda: unpublished(store), 0)
        stop.set()
        await asyncio.wait_for(running, TIMEOUT)
        messages = await delivered(js, topology)
    assert len(messages) == len(found)


# -- NATS stopped and restarted mid-way ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnNatsServer:
    """A nats-server with JetStream that this test starts, stops and starts again."""

    def __init__(self, store_dir: Path) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not os.path.exists(binary):
            if os.environ.get("CI") == "true":
                pytest.fail("nats-server is not installed")
            pytest.skip("nats-server is not installed")
        self.binary = binary
        self.store_dir = store_dir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> None:
        command = [self.binary, "-a", "127.0.0.1", "-p", str(self.port)]
        command += ["-js", "-sd", str(self.store_dir)]
        self.process = subprocess.Popen(  # noqa: ASYNC220  (starts at once; not awaited)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while True:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                await writer.wait_closed()
                return
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail("the test's own nats-server did not start")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=TIMEOUT)
            self.process = None


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[OwnNatsServer]:
    server = OwnNatsServer(tmp_path / "jetstream")
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.nats
async def test_nats_stopped_and_restarted_mid_way_delivers_every_message_once(
    store: SqlEventStore, own_nats: OwnNatsServer, topology: OutboxTopology
) -> None:
    found = await outbox_with_every_kind(store)
    await own_nats.start()
    relay = OutboxRelay(
        store, own_nats.url, topology=topology, publish_timeout=1.0, connect_timeout=1.0
    )
    try:
        assert await relay.publish_pending(limit=4) == 4
        own_nats.stop()
        assert await relay.publish_pending() == 0  # NATS is down: nothing is lost ...
        assert await unpublished(store) == len(found) - 4
        await forget_publishing_of(store, 2)  # ... and two PubAcks were "lost" before the stop
        await own_nats.start()
        assert await relay.publish_pending() == len(found) - 2
    finally:
        await relay.close()

    attempts = [row["attempts"] for row in await rows(store)]
    assert attempts[4] == 1
    assert sum(attempts) == 1
    async with jetstream_at(own_nats.url, topology) as js:
        messages = await delivered(js, topology)
    assert sorted(m for m, _ in messages) == sorted(row["message_id"] for row in found)


async def forget_publishing_of(store: SqlEventStore, count: int) -> None:
    """The last ``count`` published rows lose their mark, as if the relay died before it."""
    async with store.engine.begin() as conn:
        ids = (
            await conn.execute(
                select(outbox.c.id)
                .where(outbox.c.published_at.is_not(None))
                .order_by(outbox.c.id.desc())
                .limit(count)
            )
        ).scalars()
        await conn.execute(
            update(outbox).where(outbox.c.id.in_(list(ids))).values(published_at=None)
        )


async def eventually(value: Any, expected: object) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while await value() != expected:
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {expected!r}")
        await asyncio.sleep(0.05)


@pytest.mark.nats
@pytest.mark.postgres
async def test_only_one_relay_publishes_a_round_at_a_time(
    postgres_store: SqlEventStore, nats_url: str, topology: OutboxTopology
) -> None:
    from sqlalchemy import text

    from adapters.broker.outbox_relay import RELAY_LOCK_KEY

    store = postgres_store
    found = await outbox_with_every_kind(store)
    relay = OutboxRelay(store, nats_url, topology=topology)
    async with jetstream_at(nats_url, topology) as js:
        try:
            async with store.engine.connect() as other_hub, other_hub.begin():
                # Another hub's relay is in the middle of its round.
                await other_hub.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": RELAY_LOCK_KEY}
                )
                assert await relay.publish_pending() == 0
                assert await unpublished(store) == len(found)
            assert await relay.publish_pending() == len(found)  # its turn, once the other is done
        finally:
            await relay.close()
        messages = await delivered(js, topology)
    assert len(messages) == len(found)
