"""Property: whatever bytes or JSON a partner sends, every message ends accepted, duplicate or
rejected — no exception, no silence (issue 3, DESIGN §5)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.files.ingest_files import ingest_files
from adapters.files.signal_file import UnreadableFileError
from adapters.http.app import create_app
from events.migrations import upgrade
from events.registry import catalogue
from events.store import SqlEventStore
from events.store.engine import create_engine
from services.partners import WIRE_FIELDS
from services.settings import Settings
from tests.support.intake import intake_for, partner_key, with_partner_keys

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)
wire_records = st.dictionaries(
    st.sampled_from([*WIRE_FIELDS, "client", "onbekend"]), json_values, max_size=12
)


@pytest.fixture
async def sqlite_hub_store(tmp_path: Path) -> AsyncIterator[SqlEventStore]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fuzz.sqlite3'}")
    await upgrade(engine)
    store = SqlEventStore(engine, catalogue)
    yield store
    await store.close()


@FUZZ
@given(body=st.binary(max_size=2000) | json_values.map(lambda v: json.dumps(v).encode()))
async def test_any_http_body_gets_an_answer_and_a_record(
    sqlite_hub_store: SqlEventStore, body: bytes
) -> None:
    app = create_app(Settings(), intake=with_partner_keys(intake_for(sqlite_hub_store)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=partner_key()
    ) as http:
        response = await http.post("/v1/signalen", content=body)
    assert response.status_code in {200, 201, 400}
    answer = response.json()
    if response.status_code == 400:
        assert answer["invalidParams"], "a rejection must say why"
        stream = f"rejection-{answer['afwijzingId']}"
    else:
        stream = f"signal-{answer['id']}"
    assert await sqlite_hub_store.read_stream(stream), "every answer is backed by a record"


@FUZZ
@given(data=wire_records)
async def test_any_cloud_event_data_ends_accepted_duplicate_or_rejected(
    sqlite_hub_store: SqlEventStore, data: dict[str, Any]
) -> None:
    event = {
        "specversion": "1.0",
        "id": "fuzz",
        "source": "urn:nl:signaalhub:partner:vitens",
        "type": "nl.signaalhub.signaal",
        "data": data,
    }
    app = create_app(Settings(), intake=with_partner_keys(intake_for(sqlite_hub_store)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=partner_key()
    ) as http:
        response = await http.post("/v1/signalen", content=json.dumps(event).encode())
    assert response.status_code in {200, 201, 400}


@FUZZ
@given(
    lines=st.lists(
        st.binary(max_size=300)
        | st.lists(st.text(max_size=15), min_size=1, max_size=25).map(
            lambda cells: ";".join(cells).encode("utf-8", "surrogatepass")
        ),
        max_size=12,
    )
)
async def test_any_file_line_ends_with_an_outcome(
    sqlite_hub_store: SqlEventStore, tmp_path: Path, lines: list[bytes]
) -> None:
    header = ";".join(WIRE_FIELDS).encode()
    body = b"\n".join(line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines)
    path = tmp_path / "fuzz.csv"
    path.write_bytes(header + b"\n" + body + b"\n")
    intake = intake_for(sqlite_hub_store)
    partner = intake.partners.get("vitens")
    assert partner is not None
    non_blank = sum(1 for line in lines if line.replace(b"\n", b" ").replace(b"\r", b" ").strip())

    try:
        summary = await ingest_files(
            intake, partner, [path], tmp_path / "r.csv", today=date(2026, 11, 28)
        )
    except UnreadableFileError:  # pragma: no cover - the header is always the canonical one
        pytest.fail("a canonical header must never make the file unreadable")

    assert summary.accepted + summary.duplicates + summary.rejected == non_blank
