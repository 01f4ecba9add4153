"""A signal's whole way through the hub on PostgreSQL and NATS JetStream (issue 4, tests).

A partner publishes a CloudEvent on ``signalen.vitens``; the hub records and routes it; the
referral message appears on the team's subject ``verwijzingen.<project>.<team>``; the team
claims the referral, records two contact attempts and closes it over HTTP; the partner
receives its feedback on ``terugkoppeling.vitens``. Every part is the real one: the intake
broker, the projection runner following the log, the outbox relay and the FastAPI app.
The test's streams and subjects carry a prefix of its own on the shared NATS server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.broker.outbox_relay import OutboxRelay, OutboxTopology, ensure_streams
from adapters.broker.signal_intake import IntakeTopology, build_intake_broker
from adapters.http.app import create_app
from adapters.signals.cloudevent import SIGNAL_EVENT_TYPE
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from projections.catalogue import all_projections
from projections.runner import ProjectionRunner
from services.referrals.teams import Teams
from services.settings import Settings
from tests.support.intake import BSN_A, routing_intake_for

pytestmark = [pytest.mark.postgres, pytest.mark.nats]

TEAM = "vroeg-erop-af-noord"
TOKEN = "token-van-noord-" + "n" * 24
TIMEOUT = 20.0


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def jetstream(nats_url: str, tag: str) -> AsyncIterator[JetStreamContext]:
    client = await nats.connect(nats_url, connect_timeout=5)
    try:
        yield client.jetstream()
    finally:
        js = client.jetstream()
        for suffix in ("SIGNALEN", "AFWIJZINGEN", "VERWIJZINGEN", "TERUGKOPPELING"):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(f"TEST_{tag.upper()}_{suffix}")
        await client.close()


def signal_event() -> bytes:
    """Vitens' water arrears of a synthetic resident of Almelo-Noord (PC4 7604)."""
    data = {
        "signaalId": "W-2026-0001",
        "signaalpartnerType": "Water",
        "soort": "vroegsignaal",
        "bedrag": "312.40",
        "ontstaansdatum": "2026-08-01",
        "signaaldatum": "2026-10-01",
        "dagenAchterstand": 61,
        "client": {
            "burgerservicenummer": BSN_A,
            "voorletters": "J.",
            "achternaam": "Hoff",
            "straatnaam": "Grotestraat",
            "postcode": "7604AB",
            "huisnummer": 12,
            "plaatsnaam": "Almelo",
        },
    }
    document = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:nl:signaalhub:partner:vitens",
        "type": SIGNAL_EVENT_TYPE,
        "datacontenttype": "application/json",
        "data": data,
    }
    return json.dumps(document).encode()


async def next_message(subscription: Any) -> dict[str, Any]:
    message = await subscription.next_msg(timeout=TIMEOUT)
    await message.ack()
    body: dict[str, Any] = json.loads(message.data)
    return body


async def test_signal_to_referral_message_to_http_work_to_partner_feedback(
    postgres_store: SqlEventStore, nats_url: str, jetstream: JetStreamContext, tag: str
) -> None:
    store = postgres_store
    intake = routing_intake_for(store)
    intake_topology = IntakeTopology(
        signal_stream=f"TEST_{tag.upper()}_SIGNALEN",
        signal_subjects=f"test-{tag}.signalen",
        rejection_stream=f"TEST_{tag.upper()}_AFWIJZINGEN",
        rejection_subjects=f"test-{tag}.afwijzingen",
        durable=f"hub-intake-{tag}",
        batch_timeout=0.1,
    )
    outbox_topology = OutboxTopology(
        referral_stream=f"TEST_{tag.upper()}_VERWIJZINGEN",
        feedback_stream=f"TEST_{tag.upper()}_TERUGKOPPELING",
        subject_prefix=f"test-{tag}.",
    )
    broker, _ = build_intake_broker(
        nats_url, intake, today=lambda: date(2026, 11, 30), topology=intake_topology
    )
    relay = OutboxRelay(store, nats_url, topology=outbox_topology, poll_interval=0.05)
    stop = asyncio.Event()
    await broker.start()
    background = [
        asyncio.create_task(ProjectionRunner(store, all_projections()).follow(stop)),
        asyncio.create_task(relay.run(stop)),
    ]
    app = create_app(Settings(), intake=intake)
    app.state.teams = Teams.from_tokens({TEAM: TOKEN})
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as http:
            await _round_trip(jetstream, intake_topology, outbox_topology, http, headers)
    finally:
        stop.set()
        await asyncio.gather(*background)
        await broker.stop()


async def _round_trip(
    js: JetStreamContext,
    intake_topology: IntakeTopology,
    outbox_topology: OutboxTopology,
    http: httpx.AsyncClient,
    headers: dict[str, str],
) -> None:
    referral_subject = outbox_topology.subject(f"verwijzingen.vroeg-erop-af.{TEAM}")
    feedback_subject = outbox_topology.subject("terugkoppeling.vitens")
    await ensure_streams(js, outbox_topology)  # as the relay does on its first connection
    referrals = await js.subscribe(referral_subject, stream=outbox_topology.referral_stream)
    feedback = await js.subscribe(feedback_subject, stream=outbox_topology.feedback_stream)

    await js.publish(f"{intake_topology.signal_subjects}.vitens", signal_event())

    requested = await next_message(referrals)
    assert requested["type"] == "nl.signaalhub.verwijzing.aangevraagd"
    referral_id = requested["data"]["verwijzingId"]
    assert requested["data"]["team"] == TEAM
    assert requested["data"]["details"] == f"/v1/verwijzingen/{referral_id}"
    for personal in (BSN_A, "Hoff", "Grotestraat", "7604AB"):
        assert personal not in json.dumps(requested)  # ids and a link, no personal data

    path = f"/v1/verwijzingen/{referral_id}"
    claimed = await http.post(f"{path}/oppakken", json={"medewerker": "mw-1"}, headers=headers)
    assert claimed.status_code == 200, claimed.text
    picked_up = await next_message(feedback)
    assert picked_up["data"] == {"signaalId": "W-2026-0001", "opgepakt": True}
    for attempt in (
        {"soort": "Telefoon", "bereikt": False, "datum": "2026-10-05", "dagdeel": "Ochtend"},
        {"soort": "Huisbezoek", "bereikt": True, "datum": "2026-10-07", "dagdeel": "Middag"},
    ):
        answer = await http.post(f"{path}/contactpogingen", json=attempt, headers=headers)
        assert answer.status_code == 200, answer.text
    closed = await http.post(
        f"{path}/afsluiten",
        json={"eindresultaat": "Vervolghulp en/of verwijzing financieel", "datum": "2026-10-09"},
        headers=headers,
    )
    assert closed.status_code == 200, closed.text
    assert [a["bereikt"] for a in closed.json()["contactpogingen"]] == [False, True]

    final = await next_message(feedback)
    assert final["data"] == {
        "signaalId": "W-2026-0001",
        "opgepakt": True,
        "hulpGeaccepteerd": True,
    }
    assert "Vervolghulp" not in json.dumps(final)  # the outcome itself stays with the hub
    with pytest.raises(nats.errors.TimeoutError):
        await referrals.next_msg(timeout=0.5)  # one referral message, not a second one
