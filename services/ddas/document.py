"""The whole DDAS uitwisselmodel v0.9 document: header, one ``levering`` per municipality.

Pure: the fold's content, the personal data loaded for its signals, the configured header and
the moment of delivery go in; a JSON-ready ``dict`` comes out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.ddas.config import DdasConfig
from services.ddas.delivery import DeliveryContent, vroegsignaal, vroegsignaalzaak


@dataclass(frozen=True, slots=True)
class MunicipalityCounts:
    """What one ``levering`` holds."""

    gemeentecode: str
    signals: int
    cases: int
    contact_attempts: int
    signals_without_client: int
    """Signals whose personal data was missing or wholly erased: delivered with an empty
    ``client``."""


def delivery_timestamp(moment: datetime) -> str:
    """``aanleverdatumEnTijd``: UTC, whole seconds, with ``Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the moment of delivery must carry a time zone")
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def assemble_document(
    content: DeliveryContent,
    client_details: Mapping[uuid.UUID, Mapping[str, Any] | None],
    config: DdasConfig,
    delivered_at: datetime,
    *,
    served_gemeentecodes: Iterable[str] = (),
) -> tuple[dict[str, Any], list[MunicipalityCounts]]:
    """The DDAS document and the counts per municipality.

    There is one ``levering`` per municipality that occurs in the content, and one (empty) for
    every code in ``served_gemeentecodes``, so a quiet period still reports "nothing" for each
    municipality the hub serves. ``teller`` numbers them 1, 2, … in gemeentecode order.
    """
    codes = sorted(set(content.gemeentecodes()) | set(served_gemeentecodes))
    leveringen: list[dict[str, Any]] = []
    counts: list[MunicipalityCounts] = []
    for teller, code in enumerate(codes, start=1):
        signals = [
            vroegsignaal(signal, client_details.get(signal.signal_id))
            for signal in content.signals
            if signal.gemeentecode == code
        ]
        cases = [c for c in content.cases if c.gemeentecode == code]
        leveringen.append(
            {
                "teller": teller,
                "gemeentecode": code,
                "aanleverende_organisatie": config.organisation_for(code).as_ddas(),
                "vroegsignalen": signals,
                "vroegsignaalzaken": [vroegsignaalzaak(c) for c in cases],
            }
        )
        counts.append(
            MunicipalityCounts(
                gemeentecode=code,
                signals=len(signals),
                cases=len(cases),
                contact_attempts=sum(len(c.attempts) for c in cases),
                signals_without_client=sum(not signal["client"] for signal in signals),
            )
        )
    document: dict[str, Any] = {
        "codeGegevensleverancier": config.code_gegevensleverancier,
        "startdatumLevering": content.period.starts.isoformat(),
        "einddatumLevering": content.period.ends.isoformat(),
        "aanleverdatumEnTijd": delivery_timestamp(delivered_at),
    }
    if leveringen:  # the schema wants at least one levering when the key is there
        document["leveringen"] = leveringen
    return document, counts
