"""Recording a read of personal data in the audit trail (DESIGN §9, issue 6 item 4).

Changes are recorded by their own events; a read changes nothing, so it appends a
``PersonalDataViewed`` event to the day's ``audit-<yyyy-mm-dd>`` stream. The read is
answered only after that append has committed: no personal data leaves the hub unrecorded.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from events.catalogue.audit import PersonalDataViewed
from events.envelope import Metadata, NewEvent, StreamState
from events.store import SqlEventStore

DEFAULT_PURPOSE = "behandeling van de verwijzing"


async def record_personal_data_read(
    store: SqlEventStore,
    *,
    actor: str,
    case_id: uuid.UUID,
    referral_id: uuid.UUID | None,
    resource: str,
    purpose: str | None,
    correlation_id: str | None = None,
) -> None:
    viewed = PersonalDataViewed(
        case_id=case_id,
        referral_id=referral_id,
        resource=resource,
        purpose=(purpose or "").strip()[:200] or DEFAULT_PURPOSE,
    )
    day = datetime.now(UTC).date().isoformat()
    await store.append(
        f"audit-{day}",
        [NewEvent(viewed, Metadata(actor=actor, correlation_id=correlation_id))],
        StreamState.ANY,
    )
