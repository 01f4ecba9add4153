"""Partner files through the file channel: formats, rejects with line numbers, duplicates."""

from __future__ import annotations

import csv
import gc
import json
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

import pytest

import adapters.files.ingest_files as ingest_module
import events.catalogue  # noqa: F401  (registers the domain events)
from adapters.files.ingest_files import ingest_files
from adapters.files.signal_file import UnreadableFileError
from events.registry import EventRegistry, catalogue
from events.store import SqlEventStore
from services.partners import WIRE_FIELDS
from tests.support.intake import intake_for

TODAY = date(2026, 11, 28)
GOOD = {
    "signaalId": "V-1",
    "signaalpartnerType": "Water",
    "soort": "vroegsignaal",
    "bedrag": "123.45",
    "ontstaansdatum": "2026-08-01",
    "signaaldatum": "2026-10-01",
    "dagenAchterstand": "61",
    "burgerservicenummer": "999990019",
    "voorletters": "Z.",
    "voorvoegsel": "van 't",
    "achternaam": "Hoff-Çelik",
    "postcode": "7604AB",
    "huisnummer": "12",
    "plaatsnaam": "Almelo",
}


@pytest.fixture
def registry() -> EventRegistry:
    return catalogue


def canonical_line(delimiter: str = ";", **changes: str) -> str:
    row = {**GOOD, **changes}
    return delimiter.join(row.get(name, "") for name in WIRE_FIELDS)


def write(path: Path, lines: list[str], *, newline: str = "\n", bom: bool = False) -> Path:
    text = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def read_rejects(path: Path) -> list[tuple[str, str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows[0] == ["bestand", "regel", "veld", "reden"]
    return [(line, field, reason) for _, line, field, reason in rows[1:]]


# Parsed here, in the worker process, and in the worker in chunks of 2 lines (so chunks are
# handed over ahead and a batch's lines come from several of them): always the same result.
PARSERS = pytest.mark.parametrize(
    ("parser_process", "batch_size"), [(False, 1000), (True, 1000), (True, 2)]
)


@PARSERS
async def test_a_file_mixing_every_kind_of_bad_line(
    store: SqlEventStore, tmp_path: Path, parser_process: bool, batch_size: int
) -> None:
    header = ";".join(WIRE_FIELDS)
    path = write(
        tmp_path / "vitens.csv",
        [
            header,  # 1
            canonical_line(),  # 2 accepted
            "",  # 3 blank: ignored
            canonical_line(signaalId="V-2", postcode="ABCD", bedrag="-3"),  # 4
            canonical_line(signaalId="V-3", burgerservicenummer="123456789"),  # 5
            "V-4;Water;vroegsignaal",  # 6 too few fields
            canonical_line(),  # 7 duplicate of line 2
            canonical_line(signaalId="V-5", signaalpartnerType="Huur"),  # 8 not registered
            canonical_line(bedrag="99.00"),  # 9 known id, other content
            canonical_line(signaalId="V-6", signaaldatum="2027-01-01"),  # 10 in the future
        ],
    )
    rejects = tmp_path / "rejects.csv"
    partner = intake_for(store).partners.get("vitens")
    assert partner is not None

    summary = await ingest_files(
        intake_for(store),
        partner,
        [path],
        rejects,
        today=TODAY,
        parser_process=parser_process,
        batch_size=batch_size,
    )

    assert (summary.accepted, summary.duplicates, summary.rejected) == (1, 1, 6)
    found = read_rejects(rejects)
    by_line: dict[str, set[str]] = {}
    for line, field, _ in found:
        by_line.setdefault(line, set()).add(field)
    assert by_line == {
        "4": {"postcode", "bedrag"},
        "5": {"burgerservicenummer"},
        "6": {"(signal)"},
        "8": {"signaalpartnerType"},
        "9": {"signaalId"},
        "10": {"signaaldatum"},
    }
    expected = f"header has {len(WIRE_FIELDS)}"
    assert any(expected in reason for line, _, reason in found if line == "6")
    assert "999990019" not in rejects.read_text(encoding="utf-8")
    types = [r.event_type for r in await store.read_all(limit=1000)]
    assert types.count("SignalReceived") == 1
    assert types.count("SignalRejected") == 6
    assert gc.isenabled()  # the collector, paused while the file was recorded, runs again


async def test_bom_crlf_and_comma_delimiter_are_read(store: SqlEventStore, tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.csv",
        [",".join(WIRE_FIELDS), canonical_line(","), canonical_line(",", signaalId="V-2")],
        newline="\r\n",
        bom=True,
    )
    partner = intake_for(store).partners.get("vitens")
    assert partner is not None
    summary = await ingest_files(
        intake_for(store), partner, [path], tmp_path / "r.csv", today=TODAY
    )
    assert (summary.accepted, summary.rejected) == (2, 0)


async def test_partner_mapping_columns_encoding_and_formats(
    store: SqlEventStore, tmp_path: Path
) -> None:
    intake = intake_for(store)
    partner = intake.partners.get("sint-joseph")
    assert partner is not None
    assert partner.file is not None
    columns = partner.file.columns
    names = list(columns)
    values = {
        **GOOD,
        "signaalpartnerType": "Huur",
        "bedrag": "1.234,56",
        "ontstaansdatum": "01-08-2026",
        "signaaldatum": "01-10-2026",
    }
    header = ";".join(columns[n] for n in names)
    good = ";".join(values.get(n, "") for n in names)
    bad = ";".join({**values, "signaalId": "SJ-2", "postcode": "76"}.get(n, "") for n in names)
    path = tmp_path / "sint-joseph.csv"
    path.write_bytes(f"{header}\n{good}\n{bad}\n".encode("cp1252"))
    rejects = tmp_path / "r.csv"

    summary = await ingest_files(intake, partner, [path], rejects, today=TODAY)

    assert (summary.accepted, summary.rejected) == (1, 1)
    [(line, column, _)] = read_rejects(rejects)
    assert (line, column) == ("3", "Postcode")  # the partner's own column name
    received = (await store.read_all())[0].event
    assert str(received.amount) == "1234.56"  # type: ignore[attr-defined]


@PARSERS
async def test_json_lines(
    store: SqlEventStore, tmp_path: Path, parser_process: bool, batch_size: int
) -> None:
    client_fields = {"burgerservicenummer", "voorletters", "voorvoegsel", "achternaam"}
    client_fields |= {"postcode", "huisnummer", "plaatsnaam"}
    nested: dict[str, object] = {k: v for k, v in GOOD.items() if k not in client_fields}
    nested["client"] = {k: v for k, v in GOOD.items() if k in client_fields}
    path = write(
        tmp_path / "vitens.jsonl",
        [json.dumps(nested), "", "[1, 2]", "{not json", json.dumps({**nested, "bedrag": "x"})],
    )
    partner = intake_for(store).partners.get("vitens")
    assert partner is not None
    rejects = tmp_path / "r.csv"
    summary = await ingest_files(
        intake_for(store),
        partner,
        [path],
        rejects,
        today=TODAY,
        parser_process=parser_process,
        batch_size=batch_size,
    )

    assert (summary.accepted, summary.duplicates, summary.rejected) == (1, 0, 3)
    assert [line for line, _, _ in read_rejects(rejects)] == ["3", "4", "5"]


@pytest.mark.parametrize("parser_process", [False, True])
async def test_unknown_columns_make_the_file_unreadable(
    store: SqlEventStore, tmp_path: Path, parser_process: bool
) -> None:
    path = write(tmp_path / "x.csv", ["signaalId;Bedragje", "V-1;12"])
    partner = intake_for(store).partners.get("vitens")
    assert partner is not None
    with pytest.raises(UnreadableFileError, match="'Bedragje'"):
        await ingest_files(
            intake_for(store),
            partner,
            [path],
            tmp_path / "r.csv",
            today=TODAY,
            parser_process=parser_process,
        )
    assert await store.read_all() == []


class _DeadWorker:
    """A worker pool whose process died: every chunk handed to it fails."""

    def __init__(self) -> None:
        self.handed: int = 0

    def submit(self, *_: object) -> Future[object]:
        self.handed += 1
        future: Future[object] = Future()
        future.set_exception(BrokenProcessPool("the worker died"))
        return future


@pytest.mark.parametrize("worker", ["dead", "none"])
async def test_lines_the_worker_could_not_parse_are_parsed_here(
    store: SqlEventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: str
) -> None:
    dead = _DeadWorker()
    monkeypatch.setattr(ingest_module, "_parser_pool", lambda: dead if worker == "dead" else None)
    lines = [canonical_line(signaalId=f"V-{n}", huisnummer=str(n + 1)) for n in range(5)]
    path = write(tmp_path / "vitens.csv", [";".join(WIRE_FIELDS), *lines, "V-9;Water"])
    partner = intake_for(store).partners.get("vitens")
    assert partner is not None
    rejects = tmp_path / "r.csv"

    summary = await ingest_files(
        intake_for(store), partner, [path], rejects, today=TODAY, parser_process=True, batch_size=2
    )

    assert (summary.accepted, summary.duplicates, summary.rejected) == (5, 0, 1)
    assert [line for line, _, _ in read_rejects(rejects)] == ["7"]
    assert dead.handed == (3 if worker == "dead" else 0)
