"""Use case: the DDAS delivery of a period, read from the log, checked, ready to write.

read the log in pages up to the position it had when the export started → fold (pure) → load
the personal data of the delivered signals → assemble → validate against the schema → record
the read in the audit trail. An invalid document raises ``InvalidDeliveryError`` and is never
returned, so it cannot be written. ``write_delivery`` writes a valid one; the file holds
personal data, so only its owner may read it.

A delivery discloses personal data, so before the document is returned every case whose
client details it holds gets a ``PersonalDataViewed`` (resource ``ddas-levering``, the
period as purpose, ``reader`` as actor) in the day's ``audit-<yyyy-mm-dd>`` stream (DESIGN
§9: no personal data leaves the hub unrecorded).
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from events.catalogue.audit import PersonalDataViewed
from events.envelope import Metadata, NewEvent, StreamState
from events.store import SqlEventStore
from services.ddas.config import DdasConfig
from services.ddas.delivery import DeliveryContent, DeliveryFold, Period, client_block
from services.ddas.document import MunicipalityCounts, assemble_document
from services.ddas.personal_details import load_client_details
from services.ddas.validation import validate_delivery

PAGE_SIZE: Final = 5000
AUDIT_RESOURCE: Final = "ddas-levering"


@dataclass(frozen=True)
class DdasExport:
    """A valid DDAS document and what it holds."""

    document: dict[str, Any]
    per_municipality: list[MunicipalityCounts]
    up_to_position: int
    """The log position the delivery includes; the same position gives the same content."""
    reads_recorded: int
    """``PersonalDataViewed`` events appended: one per case whose client details it holds."""

    @property
    def signals(self) -> int:
        return sum(c.signals for c in self.per_municipality)

    @property
    def cases(self) -> int:
        return sum(c.cases for c in self.per_municipality)

    @property
    def contact_attempts(self) -> int:
        return sum(c.contact_attempts for c in self.per_municipality)

    @property
    def signals_without_client(self) -> int:
        return sum(c.signals_without_client for c in self.per_municipality)


async def export_ddas(
    store: SqlEventStore,
    period: Period,
    config: DdasConfig,
    delivered_at: datetime,
    *,
    reader: str,
    served_gemeentecodes: Iterable[str] = (),
    progress: Callable[[int, int], None] | None = None,
    stage: Callable[[str], None] | None = None,
    page_size: int = PAGE_SIZE,
) -> DdasExport:
    """Build and validate the delivery for ``period``.

    ``reader`` is the actor recorded with the audit events (``cli:<login>``).
    ``progress(position, last_position)`` is called after every page read, ``stage(what)``
    when a step after reading starts (validating a year takes seconds). Raises
    ``InvalidDeliveryError`` (with the first problems and their JSON paths) when the document
    does not match the schema.
    """
    last = await store.last_position()
    fold = DeliveryFold(period)
    position = 0
    while position < last:
        page = await store.read_all(after=position, limit=page_size)
        if not page:
            break
        fold.apply_all(r for r in page if r.position <= last)
        position = page[-1].position
        if progress is not None:
            progress(min(position, last), last)
    content = fold.result()
    if stage is not None:
        stage("Loading client details")
    async with store.engine.connect() as conn:
        details = await load_client_details(conn, (s.signal_id for s in content.signals))
    document, counts = assemble_document(
        content, details, config, delivered_at, served_gemeentecodes=served_gemeentecodes
    )
    if stage is not None:
        stage("Validating against the DDAS schema")
    validate_delivery(document)
    reads = await _record_reads(store, content, details, reader, delivered_at)
    return DdasExport(document, counts, last, reads)


async def _record_reads(
    store: SqlEventStore,
    content: DeliveryContent,
    details: Mapping[uuid.UUID, Mapping[str, Any] | None],
    reader: str,
    delivered_at: datetime,
) -> int:
    disclosed = dict.fromkeys(
        signal.case_id
        for signal in content.signals
        if signal.case_id is not None and client_block(details.get(signal.signal_id))
    )
    if not disclosed:
        return 0
    purpose = (
        f"DDAS-levering aan het CBS over {content.period.starts.isoformat()} "
        f"t/m {content.period.ends.isoformat()}"
    )
    metadata = Metadata(actor=reader)
    viewed = [
        NewEvent(
            PersonalDataViewed(case_id=case_id, resource=AUDIT_RESOURCE, purpose=purpose),
            metadata,
        )
        for case_id in disclosed
        if case_id is not None
    ]
    day = delivered_at.astimezone(UTC).date().isoformat()
    await store.append(f"audit-{day}", viewed, StreamState.ANY)
    return len(viewed)


def write_delivery(path: Path, document: dict[str, Any]) -> None:
    """Write the document as UTF-8 JSON, atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
