"""POST /v1/signalen as a partner's integration engineer uses it, on every backend."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.http.app import create_app
from events.catalogue.signals import SignalReceived, SignalRejected
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from services.referrals.teams import Teams
from services.settings import Settings
from tests.support.intake import PARTNER_KEYS, intake_for, partner_key, with_partner_keys


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


@pytest.fixture
async def client(store: SqlEventStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(), intake=with_partner_keys(intake_for(store)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://hub", headers=partner_key("vitens")
    ) as http:
        yield http


def cloud_event(**data_changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "signaalId": "VIT-1",
        "signaalpartnerType": "Water",
        "soort": "vroegsignaal",
        "bedrag": "123,45",
        "ontstaansdatum": "2026-08-01",
        "signaaldatum": "2026-10-01",
        "client": {
            "burgerservicenummer": "999990019",
            "achternaam": "Voorbeeld",
            "postcode": "7604 ab",
            "huisnummer": "12",
        },
    }
    data.update(data_changes)
    return {
        "specversion": "1.0",
        "id": "msg-1",
        "source": "urn:nl:signaalhub:partner:vitens",
        "type": "nl.signaalhub.signaal",
        "data": data,
    }


async def test_structured_cloud_event_is_accepted_then_duplicate(
    client: httpx.AsyncClient, store: SqlEventStore
) -> None:
    headers = {"content-type": "application/cloudevents+json"}
    first = await client.post("/v1/signalen", content=json.dumps(cloud_event()), headers=headers)
    again = await client.post("/v1/signalen", content=json.dumps(cloud_event()), headers=headers)

    assert first.status_code == 201, first.text
    assert first.json()["status"] == "geaccepteerd"
    assert again.status_code == 200
    assert again.json() == {**first.json(), "status": "dubbel"}
    assert first.headers["API-Version"] == "1.0.0"
    types = [r.event_type for r in await store.read_all()]
    assert types.count("SignalReceived") == 1


async def test_binary_mode_carries_attributes_in_headers(client: httpx.AsyncClient) -> None:
    event = cloud_event()
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "msg-2",
        "ce-source": event["source"],
        "ce-type": event["type"],
        "content-type": "application/json",
    }
    response = await client.post("/v1/signalen", content=json.dumps(event["data"]), headers=headers)
    assert response.status_code == 201, response.text


async def test_every_invalid_field_is_listed_in_a_problem(
    client: httpx.AsyncClient, store: SqlEventStore
) -> None:
    event = cloud_event(bedrag="-1", signaaldatum="31-02-2026")
    event["data"]["client"]["postcode"] = "ABCD12"
    event["type"] = "nl.other"

    response = await client.post("/v1/signalen", json=event)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    names = {p["name"] for p in body["invalidParams"]}
    assert {"type", "bedrag", "signaaldatum", "client.postcode"} <= names
    assert all(p["reason"] for p in body["invalidParams"])
    assert "999990019" not in response.text
    [recorded] = await store.read_all()
    assert recorded.event_type == "SignalRejected"
    assert str(recorded.event.rejection_id) == body["afwijzingId"]  # type: ignore[attr-defined]


async def test_unknown_source_and_non_json_are_rejected_not_lost(
    client: httpx.AsyncClient, store: SqlEventStore
) -> None:
    event = cloud_event()
    event["source"] = "urn:nl:somebody-else"
    unknown = await client.post("/v1/signalen", json=event)
    garbage = await client.post("/v1/signalen", content=b"\xff\xfe not json")

    assert unknown.status_code == garbage.status_code == 400
    assert unknown.json()["invalidParams"][0]["name"] == "source"
    assert [r.event_type for r in await store.read_all()] == ["SignalRejected"] * 2


async def test_a_body_over_the_limit_is_refused_with_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/signalen", content=b"x" * (300 * 1024))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_openapi_document_and_health_need_no_authentication(
    client: httpx.AsyncClient,
) -> None:
    spec = await client.get("/v1/openapi.json")
    health = await client.get("/v1/health")
    assert spec.status_code == health.status_code == 200
    assert "/v1/signalen" in spec.json()["paths"]
    assert health.json() == {"status": "ok"}


async def test_without_a_partner_key_nothing_is_accepted(client: httpx.AsyncClient) -> None:
    anonymous = await client.post("/v1/signalen", json=cloud_event(), headers={"Authorization": ""})
    wrong = await client.post(
        "/v1/signalen", json=cloud_event(), headers={"Authorization": "Bearer guessed"}
    )

    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert wrong.status_code == 401


async def test_an_api_key_header_works_as_well(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/signalen",
        json=cloud_event(),
        headers={"Authorization": "", "X-Api-Key": PARTNER_KEYS["vitens"]},
    )
    assert response.status_code == 201, response.text


async def test_a_partner_cannot_deliver_as_another_partner(
    client: httpx.AsyncClient, store: SqlEventStore
) -> None:
    as_vitens = cloud_event()  # its source is Vitens'

    response = await client.post("/v1/signalen", json=as_vitens, headers=partner_key("menzis"))

    assert response.status_code == 400
    reasons = {p["name"]: p["reason"] for p in response.json()["invalidParams"]}
    assert "only send its own signals" in reasons["source"]
    [rejection] = [r.event for r in await store.read_all() if isinstance(r.event, SignalRejected)]
    assert rejection.partner_id == "menzis"  # kept, under the caller's name
    assert not [r for r in await store.read_all() if isinstance(r.event, SignalReceived)]


async def test_a_team_token_cannot_deliver_signals(store: SqlEventStore) -> None:
    app = create_app(Settings(), intake=with_partner_keys(intake_for(store)))
    app.state.teams = Teams.from_tokens({"wijkteam-noord": "team-token-" + "t" * 30})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as http:
        response = await http.post(
            "/v1/signalen",
            json=cloud_event(),
            headers={"Authorization": "Bearer team-token-" + "t" * 30},
        )
    assert response.status_code == 403
    assert not await store.read_all()
