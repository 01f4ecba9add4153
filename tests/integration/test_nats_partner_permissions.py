"""The NATS users and permissions of deploy/nats/nats.conf (issue 6, item 3), on a real server.

Each test starts its own ``nats-server`` with that configuration (a free port and a temporary
JetStream directory given on the command line, as docker-compose.yml gives its own), so the
streams have their production names. The hub's own code declares them, logged in as ``hub``:
the intake broker (SIGNALEN, AFWIJZINGEN and its consumer) and the outbox relay's
``ensure_streams`` (VERWIJZINGEN, TERUGKOPPELING). The passwords are the demo ones of
deploy/nats/passwords.conf.

A refused publish or subscription is seen the way the server reports it: a "permissions
violation" error on the client's connection, after which the server has dropped the message or
the subscription. A refused JetStream API request gets no answer at all, so those requests are
made with a short timeout and the refusal is read from the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sized
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError
from sqlalchemy import insert

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.broker.outbox_relay import OutboxRelay, OutboxTopology, ensure_streams
from adapters.broker.signal_intake import (
    HUB_SOURCE,
    MSG_ID_HEADER,
    REJECTION_EVENT_TYPE,
    IntakeTopology,
    build_intake_broker,
)
from adapters.signals.cloudevent import SIGNAL_EVENT_TYPE
from events.catalogue.signals import SignalReceived, SignalRejected
from events.store import SqlEventStore
from projections.outbox import outbox
from services.bootstrap import build_signal_intake, open_migrated_event_store
from services.partners import load_partners
from services.settings import Settings
from tests.support.services import unavailable

pytestmark = pytest.mark.nats

ROOT = Path(__file__).resolve().parents[2]
NATS_CONF = ROOT / "deploy" / "nats" / "nats.conf"
CONFIG = ROOT / "config"
TODAY = date(2026, 11, 30)  # injected into the intake: the signal dates below never go stale
TIMEOUT = 20.0
REFUSED_WITHIN = 1.0
"""Seconds to wait for the answer to a JetStream request the server will refuse. It never comes
(the server drops a request it does not permit); the local server answers others in ms."""

SIGNALEN, AFWIJZINGEN = "SIGNALEN", "AFWIJZINGEN"
VERWIJZINGEN, TERUGKOPPELING = "VERWIJZINGEN", "TERUGKOPPELING"


def demo_password(user: str) -> str:
    """The demo password whose bcrypt hash deploy/nats/passwords.conf holds for ``user``."""
    return f"demo-wachtwoord-{user}"


def inbox_prefix(user: str) -> str:
    """Replies come back under the user's own inbox prefix; the hub keeps the default."""
    return "_INBOX" if user == "hub" else f"_INBOX_{user}"


# -- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SecuredNatsServer:
    """nats-server with deploy/nats/nats.conf, on a free port, for one test."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not os.path.exists(binary):
            unavailable("nats-server is not installed")
        self.port = free_port()
        self.log = directory / "nats-server.log"
        command = [binary, "-c", str(NATS_CONF), "-a", "127.0.0.1", "-p", str(self.port)]
        command += ["-js", "-sd", str(directory / "jetstream"), "-l", str(self.log)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.process.poll() is not None:
                _, stderr = self.process.communicate()
                log = self.log.read_text() if self.log.exists() else ""
                pytest.fail(f"nats-server refused deploy/nats/nats.conf: {stderr.decode()}{log}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            if time.monotonic() > deadline:
                pytest.fail("nats-server with deploy/nats/nats.conf did not start")
            time.sleep(0.05)

    def url(self, user: str | None = None, password: str | None = None) -> str:
        if user is None:
            return f"nats://127.0.0.1:{self.port}"
        secret = demo_password(user) if password is None else password
        return f"nats://{user}:{secret}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=TIMEOUT)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SecuredNatsServer]:
    running = SecuredNatsServer(tmp_path)
    try:
        yield running
    finally:
        running.stop()


# -- clients ---------------------------------------------------------------------------------


@dataclass
class Session:
    """One user's connection, with the errors the server reported on it."""

    user: str
    client: Client
    errors: list[str] = field(default_factory=list)

    def jetstream(self, timeout: float = 5.0) -> JetStreamContext:
        return self.client.jetstream(timeout=timeout)

    async def refused(self, action: str, subject: str) -> None:
        """Wait until the server reports that it refused ``action`` ("publish" or
        "subscription") on ``subject`` for this user."""
        expected = f'permissions violation for {action} to "{subject}"'.lower()
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while not any(expected in error.lower() for error in self.errors):
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"the server did not refuse {self.user}'s {action} to {subject}")
            await asyncio.sleep(0.02)

    async def round_trip(self) -> None:
        """A PING answered: everything the server sent this client before has arrived."""
        await self.client.flush(timeout=int(TIMEOUT))


@asynccontextmanager
async def session(
    server: SecuredNatsServer, user: str, password: str | None = None
) -> AsyncIterator[Session]:
    errors: list[str] = []

    async def remember(error: Exception) -> None:
        errors.append(str(error))

    client = await nats.connect(
        server.url(user, password),
        inbox_prefix=inbox_prefix(user),
        error_cb=remember,
        allow_reconnect=False,
        max_reconnect_attempts=0,
        connect_timeout=5,
    )
    try:
        yield Session(user, client, errors)
    finally:
        await client.close()


async def eventually(check: Callable[[], Awaitable[Sized]], what: str) -> None:
    """Wait until ``check`` returns something non-empty."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        await asyncio.sleep(0.05)


# -- the hub ---------------------------------------------------------------------------------


@dataclass
class Hub:
    """The hub's intake running against the secured server as user ``hub``, its streams
    declared by its own code, and a JetStream session of its own for publishing and looking."""

    store: SqlEventStore
    session: Session

    @property
    def js(self) -> JetStreamContext:
        return self.session.jetstream()

    async def subjects_in(self, stream: str) -> dict[str, int]:
        """How many messages ``stream`` holds per subject."""
        info = await self.js.stream_info(stream, subjects_filter=">")
        return dict(info.state.subjects or {})


@pytest.fixture
async def hub(server: SecuredNatsServer, tmp_path: Path) -> AsyncIterator[Hub]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.sqlite3'}",
        nats_url=server.url("hub"),
        config_dir=CONFIG,
    )
    assert settings.nats_url is not None
    store = await open_migrated_event_store(settings)
    intake = build_signal_intake(settings, store)
    # Production names; only quicker to notice a lone message than production's defaults.
    topology = IntakeTopology(retry_delays=(0.2,), batch_timeout=0.1)
    broker, _ = build_intake_broker(
        settings.nats_url, intake, today=lambda: TODAY, topology=topology
    )
    await broker.start()  # declares SIGNALEN and AFWIJZINGEN and the consumer hub-intake
    try:
        async with session(server, "hub") as hub_session:
            await ensure_streams(hub_session.jetstream(), OutboxTopology())
            yield Hub(store, hub_session)
    finally:
        await broker.stop()
        await store.close()


# -- messages --------------------------------------------------------------------------------


def signal_cloudevent(partner: str = "vitens", **data_changes: Any) -> bytes:
    """A valid Vitens water signal about a synthetic person, as a structured CloudEvent."""
    data: dict[str, Any] = {
        "signaalId": f"W-{uuid.uuid4().hex[:8]}",
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
            "burgerservicenummer": "999990019",
            "voorletters": "J.",
            "achternaam": "Hoff",
            "geboortedatum": "1990-05-17",
            "straatnaam": "Grotestraat",
            "postcode": "7604AB",
            "huisnummer": 12,
            "plaatsnaam": "Almelo",
        },
    }
    document = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"urn:nl:signaalhub:partner:{partner}",
        "type": SIGNAL_EVENT_TYPE,
        "datacontenttype": "application/json",
        "data": data | data_changes,
    }
    return json.dumps(document).encode()


async def publish_for_partners(hub: Hub, *partners: str) -> dict[str, bytes]:
    """The hub tells each partner something on its rejection and its feedback subject;
    returns the bodies by subject."""
    sent: dict[str, bytes] = {}
    for partner in partners:
        for subject in (f"afwijzingen.{partner}", f"terugkoppeling.{partner}"):
            body = f"voor {partner} op {subject}: {uuid.uuid4()}".encode()
            await hub.js.publish(subject, body)
            sent[subject] = body
    return sent


def own_consumer(partner: str, subject: str) -> ConsumerConfig:
    """A partner's durable pull consumer, named after itself, filtered on ``subject``."""
    return ConsumerConfig(
        name=partner, durable_name=partner, filter_subject=subject, ack_policy=AckPolicy.EXPLICIT
    )


async def refused_request(partner: Session, request: Awaitable[object], subject: str) -> None:
    """``request`` (a JetStream API call to ``subject``) gets no answer and the server reports
    the refused publish."""
    with pytest.raises(nats.errors.TimeoutError):
        await request
    await partner.refused("publish", subject)


# -- the tests -------------------------------------------------------------------------------


async def test_the_hub_declares_its_streams_and_publishes_where_it_must(hub: Hub) -> None:
    streams = {info.config.name: info.config.subjects for info in await hub.js.streams_info()}
    assert streams == {
        SIGNALEN: ["signalen.*"],
        AFWIJZINGEN: ["afwijzingen.*"],
        VERWIJZINGEN: ["verwijzingen.>"],
        TERUGKOPPELING: ["terugkoppeling.>"],
    }
    consumer = await hub.js.consumer_info(SIGNALEN, "hub-intake")
    assert consumer.config.filter_subject == "signalen.*"

    for subject, stream in (
        ("afwijzingen.vitens", AFWIJZINGEN),
        ("verwijzingen.vroeg-erop-af.wijkteam-noord", VERWIJZINGEN),
        ("terugkoppeling.vitens", TERUGKOPPELING),
    ):
        ack = await hub.js.publish(subject, b"{}", headers={MSG_ID_HEADER: str(uuid.uuid4())})
        assert ack.stream == stream


async def test_the_hubs_outbox_relay_publishes_feedback_and_referrals_as_the_hub(
    server: SecuredNatsServer, hub: Hub
) -> None:
    """The relay's own connection (credentials in the URL, as HUB_NATS_URL has them)."""
    referral, feedback = "verwijzingen.vroeg-erop-af.wijkteam-noord", "terugkoppeling.vitens"
    async with hub.store.engine.begin() as conn:
        await conn.execute(
            insert(outbox),
            [
                {"message_id": str(uuid.uuid4()), "subject": subject, "body": body}
                | {"created_at": datetime.now(UTC), "attempts": 0}
                for subject, body in ((referral, '{"v": 1}'), (feedback, '{"t": 1}'))
            ],
        )
    relay = OutboxRelay(hub.store, server.url("hub"), publish_timeout=TIMEOUT)
    try:
        assert await relay.publish_pending() == 2
    finally:
        await relay.close()

    for user, stream, reads, wanted, body in (
        ("vitens", TERUGKOPPELING, feedback, feedback, b'{"t": 1}'),
        ("teams", VERWIJZINGEN, "verwijzingen.>", referral, b'{"v": 1}'),
    ):
        async with session(server, user) as reader:
            subscription = await reader.jetstream().pull_subscribe(
                reads, durable=user, stream=stream
            )
            [message] = await subscription.fetch(1, timeout=TIMEOUT)
            await message.ack_sync()
        assert (message.subject, message.data) == (wanted, body)


async def test_the_hub_may_not_publish_a_signal_as_a_partner(hub: Hub) -> None:
    await hub.session.client.publish("signalen.vitens", signal_cloudevent())

    await hub.session.refused("publish", "signalen.vitens")
    assert "signalen.vitens" not in await hub.subjects_in(SIGNALEN)


async def test_the_hub_records_a_partners_signal_and_tells_it_about_a_rejection(
    server: SecuredNatsServer, hub: Hub
) -> None:
    async with session(server, "vitens") as vitens:
        js = vitens.jetstream()
        accepted = await js.publish("signalen.vitens", signal_cloudevent(signaalId="W-ok"))
        rejected = await js.publish("signalen.vitens", signal_cloudevent(bedrag="veel"))
        assert (accepted.stream, rejected.stream) == (SIGNALEN, SIGNALEN)

        rejections = await js.pull_subscribe(
            "afwijzingen.vitens", durable="vitens", stream=AFWIJZINGEN
        )
        [message] = await rejections.fetch(1, timeout=TIMEOUT)
        await message.ack_sync()

    rejection = json.loads(message.data)
    assert (rejection["source"], rejection["type"]) == (HUB_SOURCE, REJECTION_EVENT_TYPE)
    assert rejection["data"]["redenen"]
    recorded = [r.event for r in await hub.store.read_all(limit=100)]
    received = [e for e in recorded if isinstance(e, SignalReceived)]
    assert [(e.partner_id, e.partner_signal_id) for e in received] == [("vitens", "W-ok")]
    assert [e.partner_id for e in recorded if isinstance(e, SignalRejected)] == ["vitens"]


async def test_every_configured_partner_publishes_its_own_signals_with_a_jetstream_ack(
    server: SecuredNatsServer, hub: Hub
) -> None:
    partners = [partner.id for partner in load_partners(CONFIG)]
    assert len(partners) >= 9

    for partner in partners:
        async with session(server, partner) as user:
            ack = await user.jetstream().publish(
                f"signalen.{partner}",
                signal_cloudevent(partner),
                headers={MSG_ID_HEADER: str(uuid.uuid4())},
            )
        assert ack.stream == SIGNALEN

    held = await hub.subjects_in(SIGNALEN)
    assert held == {f"signalen.{partner}": 1 for partner in partners}


async def test_a_partner_cannot_publish_as_another_partner_or_as_the_hub(
    server: SecuredNatsServer, hub: Hub
) -> None:
    forbidden = [
        "signalen.menzis",
        "signalen.vitens.extra",
        "afwijzingen.vitens",
        "terugkoppeling.menzis",
        "verwijzingen.vroeg-erop-af.wijkteam-noord",
    ]
    async with session(server, "vitens") as vitens:
        with pytest.raises(nats.errors.TimeoutError):  # no PubAck: the stream never saw it
            await vitens.jetstream(timeout=REFUSED_WITHIN).publish(
                "signalen.menzis", signal_cloudevent("menzis")
            )
        for subject in forbidden:
            await vitens.client.publish(subject, b"{}")
            await vitens.refused("publish", subject)
        await refused_request(
            vitens,
            vitens.jetstream(timeout=REFUSED_WITHIN).purge_stream(SIGNALEN),
            f"$JS.API.STREAM.PURGE.{SIGNALEN}",
        )
        await refused_request(
            vitens,
            vitens.jetstream(timeout=REFUSED_WITHIN).delete_stream(AFWIJZINGEN),
            f"$JS.API.STREAM.DELETE.{AFWIJZINGEN}",
        )

    # The server drops a refused message before routing it: no stream holds any of them.
    held = {
        subject
        for stream in (SIGNALEN, AFWIJZINGEN, VERWIJZINGEN, TERUGKOPPELING)
        for subject in await hub.subjects_in(stream)
    }
    assert held == set()


async def test_a_partner_reads_its_own_rejections_and_feedback_and_acknowledges_them(
    server: SecuredNatsServer, hub: Hub
) -> None:
    sent = await publish_for_partners(hub, "vitens", "menzis")

    async with session(server, "vitens") as vitens:
        js = vitens.jetstream()
        for stream, subject in (
            (AFWIJZINGEN, "afwijzingen.vitens"),
            (TERUGKOPPELING, "terugkoppeling.vitens"),
        ):
            subscription = await js.pull_subscribe(subject, durable="vitens", stream=stream)
            messages = await subscription.fetch(10, timeout=TIMEOUT)
            for message in messages:
                await message.ack_sync()

            assert [(m.subject, m.data) for m in messages] == [(subject, sent[subject])]
            consumer = await js.consumer_info(stream, "vitens")
            assert (consumer.num_pending, consumer.num_ack_pending) == (0, 0)
        assert vitens.errors == []


async def test_a_partner_cannot_read_another_partners_rejections_or_feedback(
    server: SecuredNatsServer, hub: Hub
) -> None:
    sent = await publish_for_partners(hub, "menzis")

    async with session(server, "menzis") as menzis:
        menzis_js = menzis.jetstream()
        await menzis_js.add_consumer(AFWIJZINGEN, own_consumer("menzis", "afwijzingen.menzis"))

        async with session(server, "vitens") as vitens:
            js = vitens.jetstream(timeout=REFUSED_WITHIN)
            for stream, subject in (
                (AFWIJZINGEN, "afwijzingen.menzis"),
                (TERUGKOPPELING, "terugkoppeling.menzis"),
            ):
                # Its own consumer name, the other's filter.
                await refused_request(
                    vitens,
                    js.add_consumer(stream, own_consumer("vitens", subject)),
                    f"$JS.API.CONSUMER.CREATE.{stream}.vitens.{subject}",
                )
                # The other's consumer name and filter.
                await refused_request(
                    vitens,
                    js.add_consumer(stream, own_consumer("menzis", subject)),
                    f"$JS.API.CONSUMER.CREATE.{stream}.menzis.{subject}",
                )
            # A filter wider than its own.
            for wider in ("afwijzingen.*", "afwijzingen.>"):
                await refused_request(
                    vitens,
                    js.add_consumer(AFWIJZINGEN, own_consumer("vitens", wider)),
                    f"$JS.API.CONSUMER.CREATE.{AFWIJZINGEN}.vitens.{wider}",
                )
            # The create subjects that carry no filter at all.
            legacy = ConsumerConfig(durable_name="vitens", filter_subject="afwijzingen.menzis")
            await refused_request(
                vitens,
                js.add_consumer(AFWIJZINGEN, legacy),
                f"$JS.API.CONSUMER.DURABLE.CREATE.{AFWIJZINGEN}.vitens",
            )
            unfiltered = ConsumerConfig(name="vitens", durable_name="vitens")
            await refused_request(
                vitens,
                js.add_consumer(AFWIJZINGEN, unfiltered),
                f"$JS.API.CONSUMER.CREATE.{AFWIJZINGEN}.vitens",
            )
            # Menzis's existing consumer: no information, no fetch.
            await refused_request(
                vitens,
                js.consumer_info(AFWIJZINGEN, "menzis"),
                f"$JS.API.CONSUMER.INFO.{AFWIJZINGEN}.menzis",
            )
            borrowed = await js.pull_subscribe_bind("menzis", stream=AFWIJZINGEN)
            with pytest.raises(nats.errors.TimeoutError):
                await borrowed.fetch(1, timeout=REFUSED_WITHIN)
            await vitens.refused("publish", f"$JS.API.CONSUMER.MSG.NEXT.{AFWIJZINGEN}.menzis")
            # Reading the stream directly.
            await refused_request(
                vitens,
                js.get_msg(AFWIJZINGEN, 1),
                f"$JS.API.STREAM.MSG.GET.{AFWIJZINGEN}",
            )
            # Plain subscriptions: to the subjects, to everything, to other users' replies.
            taps = ["afwijzingen.menzis", "terugkoppeling.menzis", "signalen.>", ">"]
            taps += ["_INBOX.>", "_INBOX_menzis.>"]
            subscriptions = [await vitens.client.subscribe(subject) for subject in taps]
            for subject in taps:
                await vitens.refused("subscription", subject)
            await hub.js.publish("terugkoppeling.menzis", b"na de tap")
            await hub.js.publish("afwijzingen.menzis", b"na de tap")
            await vitens.round_trip()
            assert [s.pending_msgs for s in subscriptions] == [0] * len(taps)

        # The other partner's messages are all still there for it, none was taken.
        own = await menzis_js.pull_subscribe_bind("menzis", stream=AFWIJZINGEN)
        messages = await own.fetch(10, timeout=TIMEOUT)
        assert [m.data for m in messages] == [sent["afwijzingen.menzis"], b"na de tap"]
        for message in messages:
            await message.ack_sync()


async def test_a_partner_redirecting_its_own_messages_cannot_forge_another_partners_signal(
    server: SecuredNatsServer, hub: Hub
) -> None:
    """What permissions cannot limit: the reply subject of a fetch is the partner's choice, so
    vitens can have its own rejection delivered to signalen.menzis. The message keeps its own
    subject, afwijzingen.vitens, so SIGNALEN holds nothing under signalen.menzis and the
    intake (filter signalen.*) never takes it for a signal of Menzis."""
    await hub.js.publish("afwijzingen.vitens", b"eigen afwijzing")
    async with session(server, "vitens") as vitens:
        await vitens.jetstream().add_consumer(
            AFWIJZINGEN, own_consumer("vitens", "afwijzingen.vitens")
        )
        await vitens.client.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{AFWIJZINGEN}.vitens",
            json.dumps({"batch": 1}).encode(),
            reply="signalen.menzis",
        )
        await eventually(lambda: hub.subjects_in(SIGNALEN), "SIGNALEN holds the redirected message")
        # A real signal after it: the intake consumer takes SIGNALEN in order.
        await vitens.jetstream().publish("signalen.vitens", signal_cloudevent(signaalId="W-na"))

    async def recorded() -> list[Any]:
        return [r.event for r in await hub.store.read_all(limit=100)]

    await eventually(recorded, "the intake recorded the real signal")
    events = await recorded()
    received = [e for e in events if isinstance(e, SignalReceived)]
    assert [(e.partner_id, e.partner_signal_id) for e in received] == [("vitens", "W-na")]
    assert not [e for e in events if isinstance(e, SignalRejected)]
    assert await hub.subjects_in(SIGNALEN) == {"afwijzingen.vitens": 1, "signalen.vitens": 1}


async def test_a_consumer_create_request_must_name_the_filter_its_subject_allows(
    server: SecuredNatsServer, hub: Hub
) -> None:
    """The permission covers the create subject, the filter the server applies is in the body:
    the server itself refuses a body whose filter differs from the subject's."""
    await publish_for_partners(hub, "menzis")
    async with session(server, "vitens") as vitens:
        request = {
            "stream_name": AFWIJZINGEN,
            "config": {
                "name": "vitens",
                "durable_name": "vitens",
                "filter_subject": "afwijzingen.menzis",
                "ack_policy": "explicit",
            },
        }
        answer = await vitens.client.request(
            f"$JS.API.CONSUMER.CREATE.{AFWIJZINGEN}.vitens.afwijzingen.vitens",
            json.dumps(request).encode(),
            timeout=TIMEOUT,
        )
    error = json.loads(answer.data)["error"]
    assert error["code"] == 400
    assert "did not match filtered subject" in error["description"]
    with pytest.raises(NotFoundError):
        await hub.js.consumer_info(AFWIJZINGEN, "vitens")


async def test_the_teams_reader_reads_referrals_and_nothing_else(
    server: SecuredNatsServer, hub: Hub
) -> None:
    referral = "verwijzingen.vroeg-erop-af.wijkteam-noord"
    await hub.js.publish(referral, b"verwijzing")
    await publish_for_partners(hub, "vitens")

    async with session(server, "teams") as teams:
        js = teams.jetstream()
        subscription = await js.pull_subscribe(
            "verwijzingen.>", durable="teams", stream=VERWIJZINGEN
        )
        [message] = await subscription.fetch(1, timeout=TIMEOUT)
        await message.ack_sync()
        assert (message.subject, message.data) == (referral, b"verwijzing")

        await refused_request(
            teams,
            teams.jetstream(timeout=REFUSED_WITHIN).add_consumer(
                AFWIJZINGEN, own_consumer("teams", "afwijzingen.vitens")
            ),
            f"$JS.API.CONSUMER.CREATE.{AFWIJZINGEN}.teams.afwijzingen.vitens",
        )
        await teams.client.publish(referral, b"vervalst")
        await teams.refused("publish", referral)


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("vitens", "wrong-password"),
        ("vitens", demo_password("menzis")),  # another partner's password
        ("hub", demo_password("vitens")),
        ("nobody", demo_password("nobody")),
        (None, None),  # anonymous: there is no user without a password
    ],
)
async def test_a_wrong_password_an_unknown_user_and_no_login_are_refused(
    server: SecuredNatsServer, user: str | None, password: str | None
) -> None:
    url = server.url() if user is None else server.url(user, password)
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=5)


async def test_the_compose_hub_url_logs_in_as_the_hub_with_the_mounted_configuration(
    server: SecuredNatsServer,
) -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    nats_service = services["nats"]
    assert nats_service["command"][:2] == ["-c", "/etc/nats/nats.conf"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in nats_service["volumes"]}
    assert (ROOT / mounts["/etc/nats/nats.conf"]).resolve() == NATS_CONF
    assert (ROOT / mounts["/etc/nats/passwords.conf"]).resolve() == NATS_CONF.with_name(
        "passwords.conf"
    )

    # ${HUB_NATS_PASSWORD:-default}: the demo default, as compose fills it in when unset.
    url = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", services["hub"]["environment"]["HUB_NATS_URL"])
    url = url.replace("@nats:4222", f"@127.0.0.1:{server.port}")
    client = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0)
    try:
        await ensure_streams(client.jetstream(), OutboxTopology())
        ack = await client.jetstream().publish("terugkoppeling.vitens", b"{}")
        assert ack.stream == TERUGKOPPELING
    finally:
        await client.close()
