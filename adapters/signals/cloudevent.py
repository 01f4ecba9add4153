"""CloudEvents 1.0 (NL GOV profile) carrying one signal, in structured or binary mode.

Broker and HTTP share this: they differ only in how the envelope arrives. The envelope is
checked first (specversion, id, source, type), then the signal in ``data``; every problem
of both is reported at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.signals.wire import WHOLE_RECORD, parse_signal
from events.catalogue.vocabulary import Channel
from services.intake.commands import FieldProblem
from services.intake.receive_signals import Submission
from services.partners import Partner, Partners

SIGNAL_EVENT_TYPE = "nl.signaalhub.signaal"
SPEC_VERSION = "1.0"
MAX_ID_LENGTH = 200
UNKNOWN_PARTNER = "onbekend"


@dataclass(frozen=True)
class Envelope:
    id: str | None
    source: str | None
    type: str | None
    specversion: str | None
    data: object


MAX_SIGNAL_BYTES = 256 * 1024
"""The largest signal message any channel accepts (HTTP body, NATS message); a real signal
is about 1 KiB."""


def oversized(body: bytes) -> FieldProblem | None:
    """The problem of a message over ``MAX_SIGNAL_BYTES``, or None."""
    if len(body) <= MAX_SIGNAL_BYTES:
        return None
    return FieldProblem(
        WHOLE_RECORD,
        f"the message has {len(body)} bytes; a signal may have at most {MAX_SIGNAL_BYTES}",
    )


def structured_envelope(body: bytes) -> Envelope | FieldProblem:
    """A structured-mode CloudEvent (``application/cloudevents+json``)."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return FieldProblem(WHOLE_RECORD, f"the body is not valid JSON: {error}")
    if not isinstance(document, dict):
        return FieldProblem(WHOLE_RECORD, "the body must be a JSON object (a CloudEvent)")
    return Envelope(
        id=_text(document.get("id")),
        source=_text(document.get("source")),
        type=_text(document.get("type")),
        specversion=_text(document.get("specversion")),
        data=document.get("data"),
    )


def binary_envelope(headers: Mapping[str, str], body: bytes) -> Envelope | FieldProblem:
    """A binary-mode CloudEvent: attributes in ``ce-*`` headers, the signal as the body."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return FieldProblem("data", f"the body is not valid JSON: {error}")
    return Envelope(
        id=lowered.get("ce-id"),
        source=lowered.get("ce-source"),
        type=lowered.get("ce-type"),
        specversion=lowered.get("ce-specversion"),
        data=data,
    )


def is_binary_mode(headers: Mapping[str, str]) -> bool:
    return any(k.lower() == "ce-specversion" for k in headers)


def submission_from(
    envelope: Envelope | FieldProblem,
    raw: bytes,
    *,
    partners: Partners,
    channel: Channel,
    today: date,
    expected_partner: Partner | None = None,
) -> Submission:
    """Check the envelope and the signal; the result always names a partner id, so that a
    rejection can be recorded and reported back to someone."""
    raw_text = raw.decode("utf-8", errors="replace")
    if isinstance(envelope, FieldProblem):
        partner_id = expected_partner.id if expected_partner else UNKNOWN_PARTNER
        return Submission(partner_id, channel, raw_text, [envelope])
    problems = _envelope_problems(envelope)
    partner = expected_partner
    by_source = partners.by_source(envelope.source) if envelope.source else None
    if envelope.source and by_source is None:
        problems.append(FieldProblem("source", "is not the source URN of a registered partner"))
    elif by_source is not None and expected_partner is not None and by_source != expected_partner:
        problems.append(
            FieldProblem(
                "source",
                f"belongs to partner {by_source.id}, but this message came from "
                f"partner {expected_partner.id}; a partner may only send its own signals",
            )
        )
    partner = partner or by_source
    if partner is None:
        return Submission(
            UNKNOWN_PARTNER, channel, raw_text, problems, message_id=_short(envelope.id)
        )
    if not isinstance(envelope.data, Mapping):
        problems.append(FieldProblem("data", "must be a JSON object holding the signal"))
        parsed: Any = problems
    else:
        parsed = parse_signal(envelope.data, partner, today=today)
        if problems:
            parsed = problems + (parsed if isinstance(parsed, list) else [])
    return Submission(
        partner.id,
        channel,
        raw_text,
        parsed,
        correlation_id=_short(envelope.id),
        message_id=_short(envelope.id),
    )


def _envelope_problems(envelope: Envelope) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if envelope.specversion != SPEC_VERSION:
        problems.append(FieldProblem("specversion", f"must be {SPEC_VERSION!r}"))
    if not envelope.id:
        problems.append(FieldProblem("id", "is required: a unique id per message"))
    elif len(envelope.id) > MAX_ID_LENGTH:
        problems.append(FieldProblem("id", f"is longer than {MAX_ID_LENGTH} characters"))
    if not envelope.source:
        problems.append(FieldProblem("source", "is required: the partner's URN"))
    if envelope.type != SIGNAL_EVENT_TYPE:
        problems.append(FieldProblem("type", f"must be {SIGNAL_EVENT_TYPE!r}"))
    return problems


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None if value is None else str(value)


def _short(value: str | None) -> str | None:
    return value[:MAX_ID_LENGTH] if value else None
