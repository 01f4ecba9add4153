"""Reports for management, the audit trail for the beheerder, and authentication on every
endpoint (issue 5 item 3; issue 6 items 3 and 4), on every backend."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.http.app import create_app
from events.catalogue.referrals import ReferralRequested
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from services.access.users import UserRole, Users
from services.intake.receive_signals import SignalIntake
from services.referrals.teams import Teams
from services.settings import Settings
from tests.support.intake import BSN_A, routing_intake_for, signal, submit, with_partner_keys

TEAM = "vroeg-erop-af-noord"
NO_HELP_NEEDED = "Inwoner hoeft geen hulp vanuit vroegsignalering"
TOKENS = {
    "team": "team-token-" + "t" * 30,
    "manager": "manager-token-" + "m" * 30,
    "beheerder": "beheerder-token-" + "b" * 30,
}


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who]}"}


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


@pytest.fixture
def intake(store: SqlEventStore) -> SignalIntake:
    return with_partner_keys(routing_intake_for(store))


@pytest.fixture
async def client(intake: SignalIntake) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(), intake=intake)
    app.state.teams = Teams.from_tokens({TEAM: TOKENS["team"]})
    app.state.users = Users.from_tokens(
        {
            "beleid-01": (UserRole.MANAGEMENT, TOKENS["manager"]),
            "fb-01": (UserRole.ADMINISTRATOR, TOKENS["beheerder"]),
        }
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        yield http


async def worked_referral(intake: SignalIntake, http: httpx.AsyncClient) -> tuple[str, str]:
    """A routed case whose referral the team claimed, read and closed; (case, referral)."""
    [outcome] = await intake.receive([submit(signal())])
    requested = [
        r.event for r in await intake.store.read_all() if isinstance(r.event, ReferralRequested)
    ]
    referral = str(requested[0].referral_id)
    path = f"/v1/verwijzingen/{referral}"
    await http.post(f"{path}/oppakken", json={"medewerker": "mw-7"}, headers=bearer("team"))
    read = await http.get(
        path, headers={**bearer("team"), "X-Medewerker": "mw-7", "X-Doel": "eerste contact"}
    )
    assert read.status_code == 200, read.text
    await http.post(
        f"{path}/afsluiten",
        json={
            "eindresultaat": "Inwoner hoeft geen hulp vanuit vroegsignalering",
            "datum": "2026-10-05",
        },
        headers=bearer("team"),
    )
    return str(outcome.case_id), referral


async def test_the_audit_trail_shows_who_read_and_changed_a_case(
    client: httpx.AsyncClient, intake: SignalIntake
) -> None:
    case_id, referral = await worked_referral(intake, client)

    answer = await client.get(
        "/v1/audit", params={"hoofdObject": f"zaak:{case_id}"}, headers=bearer("beheerder")
    )

    assert answer.status_code == 200, answer.text
    entries = answer.json()["resultaten"]
    by_action = {e["actie"]: e for e in entries if e["resource"] == "verwijzing"}
    assert set(by_action) == {"aanmaken", "oppakken", "lezen", "afsluiten"}
    read = by_action["lezen"]
    assert (read["rol"], read["applicatieId"], read["gebruikersId"]) == ("team", TEAM, "mw-7")
    assert read["toelichting"] == "eerste contact"
    assert read["resourceId"] == referral
    # Routing placed it in the transaction of the partner's signal, which caused it.
    assert (by_action["aanmaken"]["rol"], by_action["aanmaken"]["applicatieId"]) == (
        "partner",
        "vitens",
    )
    assert by_action["afsluiten"]["gebruikersId"] == TEAM
    assert {"bron", "resultaat", "aanmaakdatum"} <= set(read)
    positions = [e["aanmaakdatum"] for e in entries]
    assert positions == sorted(positions, reverse=True)  # newest first
    assert BSN_A not in answer.text
    assert "Hoff" not in answer.text


async def test_only_the_beheerder_reads_the_audit_trail(client: httpx.AsyncClient) -> None:
    for who in ("team", "manager"):
        refused = await client.get("/v1/audit", headers=bearer(who))
        assert refused.status_code == 403, who
    assert (await client.get("/v1/audit")).status_code == 401


async def test_management_reads_the_report_in_every_format(
    client: httpx.AsyncClient, intake: SignalIntake
) -> None:
    await worked_referral(intake, client)

    as_json = await client.get(
        "/v1/rapportages", params={"periode": "2026"}, headers=bearer("manager")
    )
    as_html = await client.get(
        "/v1/rapportages", params={"periode": "2026", "formaat": "html"}, headers=bearer("manager")
    )
    as_csv = await client.get(
        "/v1/rapportages",
        params={"periode": "2026-10", "formaat": "csv"},
        headers=bearer("beheerder"),
    )
    as_xlsx = await client.get(
        "/v1/rapportages",
        params={"periode": "2026-Q4", "formaat": "xlsx"},
        headers=bearer("manager"),
    )

    assert as_json.status_code == 200, as_json.text
    report = as_json.json()
    assert report["scope"]["period"]["label"] == "2026"
    [row] = [r for r in report["caseload"]["project"] if r["group"] == "vroeg-erop-af"]
    assert (row["new"], row["closed"]) == (1, 1)
    assert as_html.headers["content-type"].startswith("text/html")
    assert "<svg" in as_html.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "vroeg-erop-af" in as_csv.content.decode("utf-8-sig")
    assert as_xlsx.content[:2] == b"PK"  # a zip: the xlsx container


async def test_a_report_request_is_checked(client: httpx.AsyncClient) -> None:
    bad_period = await client.get(
        "/v1/rapportages", params={"periode": "2026-13"}, headers=bearer("manager")
    )
    future = await client.get(
        "/v1/rapportages", params={"peildatum": "2999-01-01"}, headers=bearer("manager")
    )
    team = await client.get("/v1/rapportages", headers=bearer("team"))

    assert bad_period.status_code == 400
    assert bad_period.json()["invalidParams"][0]["name"] == "periode"
    assert future.status_code == 400
    assert future.json()["invalidParams"][0]["name"] == "peildatum"
    assert team.status_code == 403


async def test_every_endpoint_but_health_and_openapi_needs_a_token(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/v1/openapi.json")).json()
    assert (await client.get("/v1/health")).status_code == 200
    checked = 0
    for path, operations in document["paths"].items():
        if path == "/v1/health":
            continue
        concrete = path.replace("{verwijzing_id}", str(uuid.uuid4()))
        for method in operations:
            response = await client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code}"
            checked += 1
    assert checked >= 10


def test_the_report_period_default_is_this_year() -> None:
    from services.reports.periods import current_year

    assert current_year(date(2026, 11, 28)).label == "2026"
