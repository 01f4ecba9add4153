"""Reading one partner file as a stream of submissions, one per data line.

CSV (``;`` or ``,``; UTF-8 with or without BOM or the partner's encoding; CRLF or LF; blank
lines ignored; the canonical header or the partner's column mapping) and JSON lines. The
file is read line by line, so memory stays flat however large it is; every line ends as a
submission (possibly with problems), so nothing in the file is silently skipped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from adapters.signals.wire import WHOLE_RECORD, parse_signal
from events.catalogue.vocabulary import Channel
from services.intake.commands import FieldProblem, ReceiveSignal
from services.intake.receive_signals import Submission, prepare
from services.partners import WIRE_FIELDS, FileMapping, Partner

JSON_LINES_SUFFIXES = {".jsonl", ".ndjson"}
MAX_LINE_BYTES = 64 * 1024


class UnreadableFileError(Exception):
    """The file as a whole cannot be read (missing, unknown columns, no header)."""


@dataclass(frozen=True)
class FileFormat:
    delimiter: str | None
    decimal: str | None
    date_format: str | None
    encoding: str
    columns: dict[str, str]  # the partner's column name -> wire field name

    @classmethod
    def for_partner(cls, partner: Partner) -> FileFormat:
        mapping = partner.file or FileMapping()
        return cls(
            delimiter=mapping.delimiter,
            decimal=mapping.decimal,
            date_format=mapping.date_format,
            encoding=mapping.encoding,
            columns={column: wire for wire, column in mapping.columns.items()},
        )


def read_submissions(
    path: Path,
    partner: Partner,
    *,
    today: date,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Submission]:
    """One submission per data line of ``path``; raises ``UnreadableFileError`` up front when
    the file as a whole cannot be read."""
    for chunk in read_chunks(path, partner, today=today, on_bytes=on_bytes):
        yield from parse_chunk(chunk)


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    problem: str | None = None


@dataclass(frozen=True)
class LineChunk:
    """Consecutive lines of one file with what it takes to read them: plain data, so that
    another process can turn them into submissions (``parse_chunk``)."""

    partner: Partner
    today: date
    lines: list[_Line]
    fields: list[str] | None
    """The wire names of the CSV columns; ``None`` for JSON lines."""
    delimiter: str = ";"
    decimal: str | None = None
    date_format: str | None = None


def read_chunks(
    path: Path,
    partner: Partner,
    *,
    today: date,
    on_bytes: Callable[[int], None] | None = None,
    lines_per_chunk: int = 1000,
) -> Iterator[LineChunk]:
    """The file's lines after the header, ``lines_per_chunk`` at a time (blank lines
    included, ``parse_chunk`` skips them); raises ``UnreadableFileError`` up front when the
    file as a whole cannot be read (missing, no header, unknown columns)."""
    file_format = FileFormat.for_partner(partner)
    try:
        handle = path.open("rb")
    except OSError as error:
        raise UnreadableFileError(f"{path}: {error.strerror or error}") from None
    with handle:
        lines = _decoded_lines(handle, file_format.encoding, on_bytes)
        if path.suffix.lower() in JSON_LINES_SUFFIXES:
            template = LineChunk(partner, today, [], None)
        else:
            header_line = next((line for line in lines if line.text.strip()), None)
            if header_line is None:
                raise UnreadableFileError(f"{path}: the file is empty (no header line)")
            delimiter = file_format.delimiter or _sniff_delimiter(header_line.text)
            header = next(csv.reader([header_line.text], delimiter=delimiter))
            fields = _wire_names(path, [h.strip() for h in header], file_format)
            template = LineChunk(
                partner,
                today,
                [],
                fields,
                delimiter,
                file_format.decimal,
                file_format.date_format,
            )
        while chunk := list(islice(lines, lines_per_chunk)):
            yield replace(template, lines=chunk)


def parse_chunk(chunk: LineChunk) -> list[Submission]:
    """A submission for every line of the chunk that is not blank."""
    if chunk.fields is None:
        return list(_json_lines(chunk.lines, chunk.partner, chunk.today))
    return list(_csv_rows(chunk))


def parse_and_prepare_chunk(chunk: LineChunk) -> list[Submission]:
    """``parse_chunk``, each command with what intake derives from it alone (``prepare``):
    for a parser process, which does that work beside the one that records."""
    return [
        replace(s, prepared=prepare(s.parsed)) if isinstance(s.parsed, ReceiveSignal) else s
        for s in parse_chunk(chunk)
    ]


def _decoded_lines(
    handle: BinaryIO, encoding: str, on_bytes: Callable[[int], None] | None
) -> Iterator[_Line]:
    # Decode line by line, so one badly encoded line is rejected on its own instead of
    # failing the whole file half-way. Only the file's first bytes may be a BOM: utf-8-sig
    # would silently drop one at the start of every line.
    if encoding.lower().replace("_", "-") in {"utf-8-sig", "utf8-sig"}:
        encoding = "utf-8"
    for number, raw in enumerate(handle, start=1):
        if on_bytes is not None:
            on_bytes(len(raw))
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if len(raw) > MAX_LINE_BYTES:
            yield _Line(number, "", f"the line is longer than {MAX_LINE_BYTES} bytes")
            continue
        try:
            yield _Line(number, raw.decode(encoding))
        except UnicodeDecodeError:
            text = raw.decode(encoding, errors="replace")
            yield _Line(number, text, f"the line is not valid {encoding} text")


def _json_lines(lines: Iterable[_Line], partner: Partner, today: date) -> Iterator[Submission]:
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        if line.problem:
            yield _rejected(partner, line, FieldProblem(WHOLE_RECORD, line.problem))
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield _rejected(
                partner, line, FieldProblem(WHOLE_RECORD, f"not valid JSON: {error.msg}")
            )
            continue
        if not isinstance(record, dict):
            yield _rejected(partner, line, FieldProblem(WHOLE_RECORD, "must be a JSON object"))
            continue
        yield _submission(partner, line, parse_signal(record, partner, today=today))


def _csv_rows(chunk: LineChunk) -> Iterator[Submission]:
    partner, fields, delimiter = chunk.partner, chunk.fields or [], chunk.delimiter
    for line in chunk.lines:
        if not line.text.strip():
            continue
        if line.problem:
            yield _rejected(partner, line, FieldProblem(WHOLE_RECORD, line.problem))
            continue
        # One physical line is one record: partner exports have no line breaks inside
        # fields, and a line that does not parse is rejected on its own.
        try:
            values = next(csv.reader([line.text], delimiter=delimiter, strict=True))
        except csv.Error as error:
            yield _rejected(partner, line, FieldProblem(WHOLE_RECORD, f"not valid CSV: {error}"))
            continue
        if len(values) != len(fields):
            problem = f"has {len(values)} fields, the header has {len(fields)}"
            yield _rejected(partner, line, FieldProblem(WHOLE_RECORD, problem))
            continue
        record = {name: value for name, value in zip(fields, values, strict=True) if value != ""}
        parsed = parse_signal(
            record,
            partner,
            today=chunk.today,
            decimal=chunk.decimal,
            date_format=chunk.date_format,
        )
        yield _submission(partner, line, parsed)


def _sniff_delimiter(header: str) -> str:
    return ";" if header.count(";") >= header.count(",") else ","


def _wire_names(path: Path, header: list[str], file_format: FileFormat) -> list[str]:
    names = [file_format.columns.get(column, column) for column in header]
    unknown = [
        column for column, name in zip(header, names, strict=True) if name not in WIRE_FIELDS
    ]
    if unknown:
        raise UnreadableFileError(
            f"{path}: unknown column(s) {', '.join(repr(c) for c in unknown)}; expected the "
            f"canonical header ({';'.join(WIRE_FIELDS)}) or the partner's configured columns"
        )
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise UnreadableFileError(f"{path}: column(s) {', '.join(duplicated)} appear twice")
    return names


def _submission(
    partner: Partner, line: _Line, parsed: ReceiveSignal | list[FieldProblem]
) -> Submission:
    return Submission(
        partner_id=partner.id,
        channel=Channel.FILE,
        raw=line.text.rstrip("\r\n"),
        parsed=parsed,
        line_number=line.number,
        message_id=f"line:{line.number}",
    )


def _rejected(partner: Partner, line: _Line, problem: FieldProblem) -> Submission:
    return _submission(partner, line, [problem])
