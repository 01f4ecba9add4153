"""The teams' referral API as a wijkteam's own system uses it, on every backend (issue 4, item 4).

Two teams prove isolation: each sees and touches only its own referrals. Cases are routed by
the real intake and routing configuration; the teams and their tokens are the test's own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.http import referrals_api
from adapters.http.app import create_app
from events.catalogue.referrals import ReferralRequested, ReferralRerouted
from events.catalogue.vocabulary import PartnerType, SignalKind
from events.errors import ConcurrencyError
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from services.config_files import ConfigError
from services.intake.receive_signals import SignalIntake
from services.intake.tables import household_cases
from services.referrals.act_on_referral import ReferralActions
from services.referrals.lifecycle import Referral
from services.referrals.teams import Teams, load_teams, load_teams_file, token_hash
from services.settings import Settings
from tests.support.intake import BSN_A, BSN_B, person, routing_intake_for, signal, submit

NOORD = "vroeg-erop-af-noord"
ZUID = "vroeg-erop-af-zuid"
TOKENS = {NOORD: "token-van-noord-" + "n" * 24, ZUID: "token-van-zuid-" + "z" * 24}


def bearer(team: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[team]}"}


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


@pytest.fixture
def intake(store: SqlEventStore) -> SignalIntake:
    return routing_intake_for(store)


@pytest.fixture
async def client(intake: SignalIntake) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(), intake=intake)
    app.state.teams = Teams.from_tokens(TOKENS)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        yield http


async def referral_of(store: SqlEventStore, case_id: object) -> uuid.UUID:
    for recorded in await store.read_all(limit=1000):
        event = recorded.event
        if isinstance(event, ReferralRequested) and event.case_id == case_id:
            return event.referral_id
    raise AssertionError(f"no referral for case {case_id}")


async def routed_to_noord(intake: SignalIntake, signal_id: str = "W-1") -> uuid.UUID:
    [outcome] = await intake.receive([submit(signal(signal_id))])
    return await referral_of(intake.store, outcome.case_id)


async def routed_to_zuid(intake: SignalIntake) -> uuid.UUID:
    someone_in_zuid = person(bsn=BSN_B, postcode="7601AA", house_number=3, surname="Zuid")
    [outcome] = await intake.receive([submit(signal("Z-1", person=someone_in_zuid))])
    return await referral_of(intake.store, outcome.case_id)


async def post(
    client: httpx.AsyncClient, referral_id: uuid.UUID, action: str, body: Any, team: str = NOORD
) -> httpx.Response:
    return await client.post(
        f"/v1/verwijzingen/{referral_id}/{action}", json=body, headers=bearer(team)
    )


def names(response: httpx.Response) -> set[str]:
    return {p["name"] for p in response.json()["invalidParams"]}


# -- isolation and authentication -----------------------------------------------------------


async def test_each_team_lists_and_touches_only_its_own_referrals(
    client: httpx.AsyncClient, intake: SignalIntake
) -> None:
    noord = await routed_to_noord(intake)
    zuid = await routed_to_zuid(intake)

    listed_noord = await client.get("/v1/verwijzingen", headers=bearer(NOORD))
    listed_zuid = await client.get("/v1/verwijzingen", headers=bearer(ZUID))
    assert listed_noord.status_code == 200, listed_noord.text
    assert [e["id"] for e in listed_noord.json()["_embedded"]["verwijzingen"]] == [str(noord)]
    assert [e["id"] for e in listed_zuid.json()["_embedded"]["verwijzingen"]] == [str(zuid)]
    assert listed_noord.headers["API-Version"] == "1.0.0"

    read = await client.get(f"/v1/verwijzingen/{zuid}", headers=bearer(NOORD))
    claimed = await post(client, zuid, "oppakken", {"medewerker": "mw-1"}, team=NOORD)
    assert read.status_code == 403
    assert read.headers["content-type"] == "application/problem+json"
    assert claimed.status_code == 403
    own = await client.get(f"/v1/verwijzingen/{zuid}", headers=bearer(ZUID))
    assert own.status_code == 200
    assert own.json()["status"] == "aangevraagd"  # the refused claim wrote nothing


async def test_without_a_known_token_the_answer_is_401(
    client: httpx.AsyncClient, intake: SignalIntake
) -> None:
    referral_id = await routed_to_noord(intake)

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        listed = await client.get("/v1/verwijzingen", headers=headers)
        read = await client.get(f"/v1/verwijzingen/{referral_id}", headers=headers)
        claimed = await client.post(
            f"/v1/verwijzingen/{referral_id}/oppakken", json={"medewerker": "x"}, headers=headers
        )
        for response in (listed, read, claimed):
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_an_unknown_referral_is_404(client: httpx.AsyncClient) -> None:
    for referral_id in (str(uuid.uuid4()), "geen-uuid"):
        response = await client.get(f"/v1/verwijzingen/{referral_id}", headers=bearer(NOORD))
        assert response.status_code == 404
        assert response.json()["title"] == "Verwijzing niet gevonden"


# -- the work itself ------------------------------------------------------------------------


async def test_claim_two_contact_attempts_and_close_with_an_outcome(
    client: httpx.AsyncClient, intake: SignalIntake, store: SqlEventStore
) -> None:
    referral_id = await routed_to_noord(intake)

    claimed = await post(client, referral_id, "oppakken", {"medewerker": "mw-0042"})
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["status"], claimed.json()["medewerker"]) == ("opgepakt", "mw-0042")
    first = await post(
        client,
        referral_id,
        "contactpogingen",
        {"soort": "Telefoon", "bereikt": False, "datum": "2026-10-05", "dagdeel": "Ochtend"},
    )
    second = await post(
        client,
        referral_id,
        "contactpogingen",
        {"soort": "Huisbezoek", "bereikt": True, "datum": "2026-10-06", "dagdeel": "Middag"},
    )
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "in-behandeling"
    assert second.json()["contactpogingen"] == [
        {"soort": "Telefoon", "bereikt": False, "datum": "2026-10-05", "dagdeel": "Ochtend"},
        {"soort": "Huisbezoek", "bereikt": True, "datum": "2026-10-06", "dagdeel": "Middag"},
    ]
    in_queue = await client.get("/v1/verwijzingen", headers=bearer(NOORD))
    [entry] = in_queue.json()["_embedded"]["verwijzingen"]
    assert (entry["status"], entry["aantalContactpogingen"], entry["bereikt"]) == (
        "in-behandeling",
        2,
        True,
    )

    closed = await post(
        client,
        referral_id,
        "afsluiten",
        {"eindresultaat": "(Budget)advies en/of quick fix", "datum": "2026-10-07"},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "afgesloten"
    assert closed.json()["eindresultaat"] == "(Budget)advies en/of quick fix"
    assert closed.json()["toegestaneActies"] == []
    read = await client.get(f"/v1/verwijzingen/{referral_id}", headers=bearer(NOORD))
    without_case = {k: v for k, v in read.json().items() if k != "_embedded"}
    assert without_case == closed.json()  # actions answer without the personal data
    assert "_embedded" not in closed.json()
    after = await client.get("/v1/verwijzingen", headers=bearer(NOORD))
    assert after.json()["_embedded"]["verwijzingen"] == []  # the queue holds open referrals
    types = [r.event_type for r in await store.read_stream(f"referral-{referral_id}")]
    assert types == [
        "ReferralRequested",
        "ReferralClaimed",
        "ContactAttemptRecorded",
        "ContactAttemptRecorded",
        "ReferralClosed",
    ]


async def test_release_and_reroute_need_a_reason_and_are_recorded(
    client: httpx.AsyncClient, intake: SignalIntake, store: SqlEventStore
) -> None:
    referral_id = await routed_to_noord(intake)
    await post(client, referral_id, "oppakken", {"medewerker": "mw-1"})

    blank = await post(client, referral_id, "vrijgeven", {"reden": "   "})
    released = await post(client, referral_id, "vrijgeven", {"reden": "Afwezig, collega neemt"})
    same_team = await post(
        client,
        referral_id,
        "doorverwijzen",
        {"project": "vroeg-erop-af", "team": NOORD, "reden": "Toch hier"},
    )
    rerouted = await post(
        client,
        referral_id,
        "doorverwijzen",
        {"project": "schuldenspecialisten", "team": "wijkteam-noord", "reden": "Meerdere schulden"},
    )

    assert blank.status_code == 400
    assert names(blank) == {"reden"}
    assert released.json()["status"] == "aangevraagd"
    assert released.json()["aantalKeerVrijgegeven"] == 1
    assert same_team.status_code == 400
    assert names(same_team) == {"team"}
    assert rerouted.status_code == 200, rerouted.text
    assert rerouted.json()["status"] == "doorverwezen"
    assert rerouted.json()["doorverwezenNaar"] == {
        "project": "schuldenspecialisten",
        "team": "wijkteam-noord",
    }
    last = (await store.read_stream(f"referral-{referral_id}"))[-1]
    assert isinstance(last.event, ReferralRerouted)
    assert last.metadata.actor == f"team:{NOORD}"


async def test_a_refused_transition_is_409_naming_the_current_state(
    client: httpx.AsyncClient, intake: SignalIntake
) -> None:
    referral_id = await routed_to_noord(intake)

    refused = await post(
        client,
        referral_id,
        "afsluiten",
        {"eindresultaat": "Inwoner hoeft geen hulp vanuit vroegsignalering", "datum": "2026-10-05"},
    )
    await post(client, referral_id, "oppakken", {"medewerker": "mw-1"})
    again = await post(client, referral_id, "oppakken", {"medewerker": "mw-2"})

    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "is requested" in refused.json()["detail"]
    assert refused.json()["huidigeStatus"] == "aangevraagd"
    assert refused.json()["toegestaneActies"] == ["annuleren", "doorverwijzen", "oppakken"]
    assert again.status_code == 409
    assert again.json()["huidigeStatus"] == "opgepakt"


async def test_invalid_bodies_are_400_listing_every_field(
    client: httpx.AsyncClient, intake: SignalIntake
) -> None:
    referral_id = await routed_to_noord(intake)

    no_worker = await post(client, referral_id, "oppakken", {})
    a_name = await post(client, referral_id, "oppakken", {"medewerker": "Jan de Vries"})
    not_json = await client.post(
        f"/v1/verwijzingen/{referral_id}/oppakken", content=b"{", headers=bearer(NOORD)
    )
    await post(client, referral_id, "oppakken", {"medewerker": "mw-1"})
    everything_wrong = await post(
        client,
        referral_id,
        "contactpogingen",
        {"soort": "Fax", "bereikt": "ja", "datum": "gisteren", "dagdeel": "Nacht", "extra": 1},
    )
    before_request = await post(
        client,
        referral_id,
        "contactpogingen",
        {"soort": "Telefoon", "bereikt": True, "datum": "2026-09-01"},
    )
    bad_outcome = await post(client, referral_id, "afsluiten", {"eindresultaat": "Klaar"})

    assert no_worker.status_code == 400
    assert no_worker.headers["content-type"] == "application/problem+json"
    assert names(no_worker) == {"medewerker"}
    assert names(a_name) == {"medewerker"}
    assert names(not_json) == {"body"}
    assert everything_wrong.status_code == 400
    assert names(everything_wrong) == {"soort", "bereikt", "datum", "dagdeel", "extra"}
    assert before_request.status_code == 400
    assert names(before_request) == {"datum"}
    assert names(bad_outcome) == {"eindresultaat", "datum"}


async def test_the_queue_filters_and_pages(
    client: httpx.AsyncClient, intake: SignalIntake, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both requested on 2 October: first contact due 16 October, closure due 30 October.
    monkeypatch.setattr(referrals_api, "today", lambda: date(2026, 10, 20))
    first = await routed_to_noord(intake, "W-1")
    neighbour = person(bsn=BSN_B, house_number=40, surname="Buur")
    [outcome] = await intake.receive([submit(signal("W-2", person=neighbour))])
    second = await referral_of(intake.store, outcome.case_id)
    await post(client, first, "oppakken", {"medewerker": "mw-1"})
    attempt = {"soort": "Brief", "bereikt": False, "datum": "2026-10-12"}
    assert (await post(client, first, "contactpogingen", attempt)).status_code == 200

    async def listed(**params: str) -> dict[str, Any]:
        response = await client.get("/v1/verwijzingen", params=params, headers=bearer(NOORD))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def ids(body: dict[str, Any]) -> set[str]:
        return {e["id"] for e in body["_embedded"]["verwijzingen"]}

    assert ids(await listed()) == {str(first), str(second)}
    assert ids(await listed(status="in-behandeling")) == {str(first)}
    assert ids(await listed(status="in_progress")) == {str(first)}
    assert ids(await listed(status="aangevraagd")) == {str(second)}
    assert ids(await listed(status="opgepakt")) == set()
    assert ids(await listed(project="vroeg-erop-af")) == {str(first), str(second)}
    assert ids(await listed(project="rub")) == set()
    overdue = await listed(achterstallig="true")
    assert ids(overdue) == {str(second)}  # no contact attempt by 16 October
    assert overdue["_embedded"]["verwijzingen"][0]["achterstallig"] is True
    assert ids(await listed(achterstallig="false")) == {str(first)}

    page_one = await listed(paginaGrootte="1")
    page_two = await listed(paginaGrootte="1", pagina="2")
    assert page_one["paginering"] == {
        "pagina": 1,
        "paginaGrootte": 1,
        "totaal": 2,
        "aantalPaginas": 2,
    }
    assert "next" in page_one["_links"]
    assert "prev" not in page_one["_links"]
    assert "pagina=2" in page_one["_links"]["next"]["href"]
    assert "paginaGrootte=1" in page_one["_links"]["next"]["href"]
    assert "next" not in page_two["_links"]
    assert ids(page_one) | ids(page_two) == {str(first), str(second)}

    for params in ({"status": "afgesloten"}, {"paginaGrootte": "101"}, {"pagina": "0"}):
        response = await client.get("/v1/verwijzingen", params=params, headers=bearer(NOORD))
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"


# -- consistency with intake and routing ------------------------------------------------------


async def test_a_claimed_case_is_not_rerouted_by_a_later_signal(
    client: httpx.AsyncClient, intake: SignalIntake, store: SqlEventStore
) -> None:
    referral_id = await routed_to_noord(intake)
    claimed = await post(client, referral_id, "oppakken", {"medewerker": "mw-1"})
    assert claimed.status_code == 200

    [later] = await intake.receive(
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

    assert later.status == "accepted"
    events = [r.event for r in await store.read_all(limit=1000)]
    assert not [e for e in events if isinstance(e, ReferralRerouted)]
    assert len([e for e in events if isinstance(e, ReferralRequested)]) == 1
    async with store.engine.connect() as conn:
        picked_up = (
            await conn.execute(
                select(household_cases.c.picked_up).where(
                    household_cases.c.referral_id == referral_id
                )
            )
        ).scalar_one()
    assert picked_up is True
    read = await client.get(f"/v1/verwijzingen/{referral_id}", headers=bearer(NOORD))
    assert read.json()["status"] == "opgepakt"


async def test_a_change_between_reading_and_writing_is_a_conflict(
    intake: SignalIntake, store: SqlEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral_id = await routed_to_noord(intake)
    colleague = ReferralActions(store)
    read_stream = store.read_stream

    async def read_then_a_colleague_claims(stream_id: str, after_version: int = 0) -> list[Any]:
        recorded = await read_stream(stream_id, after_version)
        monkeypatch.setattr(store, "read_stream", read_stream)
        await colleague.claim(NOORD, referral_id, "mw-collega")  # lands in between
        return recorded

    monkeypatch.setattr(store, "read_stream", read_then_a_colleague_claims)
    with pytest.raises(ConcurrencyError):
        await ReferralActions(store).claim(NOORD, referral_id, "mw-1")
    referral = await colleague.load(NOORD, referral_id)
    assert referral.worker_id == "mw-collega"


async def test_a_concurrent_change_is_409_over_http(
    client: httpx.AsyncClient, intake: SignalIntake, monkeypatch: pytest.MonkeyPatch
) -> None:
    referral_id = await routed_to_noord(intake)

    async def conflicting(*_args: object, **_kwargs: object) -> Referral:
        raise ConcurrencyError(f"referral-{referral_id}", 1, 2)

    monkeypatch.setattr(ReferralActions, "claim", conflicting)
    response = await post(client, referral_id, "oppakken", {"medewerker": "mw-1"})

    assert response.status_code == 409
    assert response.json()["title"] == "Gelijktijdige wijziging"


# -- configuration ---------------------------------------------------------------------------


def test_tokens_are_matched_by_their_hash_only() -> None:
    teams = Teams.from_tokens(TOKENS)

    assert teams.team_for_token(TOKENS[NOORD]) == NOORD
    assert teams.team_for_token(TOKENS[ZUID]) == ZUID
    assert teams.team_for_token("") is None
    assert teams.team_for_token(token_hash(TOKENS[NOORD])) is None  # the hash is no token


def test_a_teams_file_is_read_and_its_errors_name_file_team_and_field(tmp_path: Path) -> None:
    path = tmp_path / "teams.toml"
    path.write_text(
        f'[[team]]\nid = "{NOORD}"\ntoken_sha256 = "{token_hash("geheim")}"\n', encoding="utf-8"
    )
    assert load_teams(tmp_path).team_for_token("geheim") == NOORD

    path.write_text('[[team]]\nid = "wijkteam-noord"\ntoken_sha256 = "abc"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"teams\.toml: team wijkteam-noord: token_sha256"):
        load_teams_file(path)


def test_the_shipped_teams_file_has_the_demo_teams() -> None:
    teams = load_teams(Path(__file__).resolve().parents[2] / "config")

    for team in ("wijkteam-noord", "wijkteam-zuid", NOORD, ZUID):
        assert team in teams


async def test_the_openapi_document_describes_the_referral_resources(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/v1/openapi.json")).json()

    paths = document["paths"]
    assert {"/v1/verwijzingen", "/v1/verwijzingen/{verwijzing_id}"} <= set(paths)
    contact = paths["/v1/verwijzingen/{verwijzing_id}/contactpogingen"]["post"]
    schema = contact["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["properties"]) == {"soort", "bereikt", "datum", "dagdeel"}
    assert "Telefoon" in str(schema)
    assert "$defs" not in str(schema)


async def test_a_reroute_places_a_new_referral_in_the_target_queue(
    client: httpx.AsyncClient, intake: SignalIntake, store: SqlEventStore
) -> None:
    from sqlalchemy import select

    from events.catalogue.referrals import ReferralRequested
    from services.intake.tables import household_cases

    referral_id = await routed_to_noord(intake)
    unknown_project = await post(
        client,
        referral_id,
        "doorverwijzen",
        {"project": "bestaat-niet", "team": ZUID, "reden": "Verhuisd naar zuid"},
    )
    moved = await post(
        client,
        referral_id,
        "doorverwijzen",
        {"project": "vroeg-erop-af", "team": ZUID, "reden": "Verhuisd naar zuid"},
    )
    zuid_queue = await client.get("/v1/verwijzingen", headers=bearer(ZUID))

    assert unknown_project.status_code == 400
    assert names(unknown_project) == {"project"}
    assert moved.status_code == 200, moved.text
    requested = [
        r.event
        for r in await store.read_all(limit=1000)
        if isinstance(r.event, ReferralRequested) and r.event.team == ZUID
    ]
    assert len(requested) == 1
    assert requested[0].rule_id == "handmatig-doorverwezen"
    listed = zuid_queue.json()["_embedded"]["verwijzingen"]
    assert [item["id"] for item in listed] == [str(requested[0].referral_id)]
    async with store.engine.connect() as conn:
        [case] = (await conn.execute(select(household_cases))).all()
    assert (case.team, case.referral_id, case.picked_up) == (ZUID, requested[0].referral_id, True)


async def case_row(store: SqlEventStore, referral_id: uuid.UUID) -> Any:
    async with store.engine.connect() as conn:
        query = select(household_cases).where(household_cases.c.referral_id == referral_id)
        return (await conn.execute(query)).one()


async def test_cancelling_needs_a_reason_and_ends_the_case(
    client: httpx.AsyncClient, intake: SignalIntake, store: SqlEventStore
) -> None:
    referral_id = await routed_to_noord(intake)

    blank = await post(client, referral_id, "annuleren", {})
    other_team = await post(client, referral_id, "annuleren", {"reden": "Betaald"}, team=ZUID)
    cancelled = await post(client, referral_id, "annuleren", {"reden": "Schuld al betaald"})
    again = await post(client, referral_id, "annuleren", {"reden": "Nog eens"})

    assert blank.status_code == 400
    assert names(blank) == {"reden"}
    assert other_team.status_code == 403
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["reden"]) == (
        "geannuleerd",
        "Schuld al betaald",
    )
    assert again.status_code == 409
    assert again.json()["huidigeStatus"] == "geannuleerd"
    assert (await case_row(store, referral_id)).status == "cancelled"
    queue = await client.get("/v1/verwijzingen", headers=bearer(NOORD))
    assert queue.json()["_embedded"]["verwijzingen"] == []
    # A new, higher signal of the household after the cancel starts a new case and referral.
    higher = signal("W-2", signal_date=date(2026, 10, 2), amount=Decimal("500.00"))
    [later] = await intake.receive([submit(higher)])
    assert later.case_id != (await case_row(store, referral_id)).case_id
    assert await referral_of(store, later.case_id) != referral_id


async def test_after_a_contact_attempt_a_referral_cannot_be_cancelled(
    client: httpx.AsyncClient, intake: SignalIntake
) -> None:
    referral_id = await routed_to_noord(intake)
    await post(client, referral_id, "oppakken", {"medewerker": "mw-7"})
    await post(
        client,
        referral_id,
        "contactpogingen",
        {"soort": "Brief", "bereikt": False, "datum": "2026-10-05"},
    )

    refused = await post(client, referral_id, "annuleren", {"reden": "Betaald"})

    assert refused.status_code == 409
    assert refused.json()["huidigeStatus"] == "in-behandeling"


async def test_closing_the_referral_closes_its_case_with_the_outcome(
    client: httpx.AsyncClient, intake: SignalIntake, store: SqlEventStore
) -> None:
    referral_id = await routed_to_noord(intake)
    await post(client, referral_id, "oppakken", {"medewerker": "mw-7"})
    await post(
        client,
        referral_id,
        "afsluiten",
        {"eindresultaat": "Inwoner hoeft geen hulp vanuit vroegsignalering", "datum": "2026-10-05"},
    )

    row = await case_row(store, referral_id)
    assert (row.status, row.outcome) == (
        "closed",
        "Inwoner hoeft geen hulp vanuit vroegsignalering",
    )
    [later] = await intake.receive([submit(signal("W-2", signal_date=date(2026, 10, 6)))])
    assert later.case_id != row.case_id


async def test_reading_a_referral_shows_the_cases_signals_and_the_residents_details(
    client: httpx.AsyncClient, intake: SignalIntake
) -> None:
    referral_id = await routed_to_noord(intake)
    moved = person(street="Nieuwstraat", house_number=8, phone="0546-123456")
    await intake.receive(
        [
            submit(
                signal(
                    "W-1",
                    kind=SignalKind.UPDATE,
                    amount=Decimal("150.00"),
                    signal_date=date(2026, 10, 3),
                    person=moved,
                )
            )
        ]
    )

    read = await client.get(f"/v1/verwijzingen/{referral_id}", headers=bearer(NOORD))
    stranger = await client.get(f"/v1/verwijzingen/{referral_id}", headers=bearer(ZUID))

    assert read.status_code == 200, read.text
    case = read.json()["_embedded"]["zaak"]
    [only] = case["signalen"]
    assert (only["signaalpartner"], only["signaalpartnerType"], only["bedrag"]) == (
        "vitens",
        "Water",
        "150.00",
    )
    assert only["ingetrokken"] is False
    resident = case["inwoner"]
    assert (resident["achternaam"], resident["voorvoegsel"], resident["voorletters"]) == (
        "Hoff",
        "van 't",
        "J.",
    )
    # The newest delivery's address and phone number, not the first one's.
    assert (resident["straatnaam"], resident["huisnummer"], resident["telefoonnummer"]) == (
        "Nieuwstraat",
        8,
        "0546-123456",
    )
    assert resident["burgerservicenummer"] == BSN_A
    assert stranger.status_code == 403
    assert "Hoff" not in stranger.text


async def test_a_manager_or_partner_token_does_not_open_a_team_queue(
    intake: SignalIntake,
) -> None:
    from services.access.users import UserRole, Users
    from tests.support.intake import PARTNER_KEYS, with_partner_keys

    app = create_app(Settings(), intake=with_partner_keys(intake))
    app.state.teams = Teams.from_tokens(TOKENS)
    app.state.users = Users.from_tokens({"beleid-01": (UserRole.MANAGEMENT, "manager-" + "x" * 30)})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as http:
        manager = await http.get(
            "/v1/verwijzingen", headers={"Authorization": "Bearer manager-" + "x" * 30}
        )
        partner = await http.get("/v1/verwijzingen", headers={"X-Api-Key": PARTNER_KEYS["vitens"]})
        team = await http.get("/v1/verwijzingen", headers=bearer(NOORD))
    assert (manager.status_code, partner.status_code, team.status_code) == (403, 403, 200)
    assert "team" in manager.json()["detail"]
