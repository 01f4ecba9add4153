"""``POST /v1/signalen``: a partner delivers one signal as a CloudEvent, authenticated with its
API key (``partners.toml`` holds the key's SHA-256)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.http.auth import Refused, require
from adapters.http.problems import invalid_params, problem
from adapters.signals.cloudevent import (
    MAX_SIGNAL_BYTES,
    binary_envelope,
    is_binary_mode,
    structured_envelope,
    submission_from,
)
from events.catalogue.vocabulary import Channel
from services.access.principals import Role
from services.clock import today
from services.intake.receive_signals import IntakeOutcome, SignalIntake
from services.logging import get_logger

router = APIRouter(prefix="/v1", tags=["signalen"])
log = get_logger(__name__)

MAX_BODY_BYTES = MAX_SIGNAL_BYTES

SIGNAL_EXAMPLE: dict[str, Any] = {
    "specversion": "1.0",
    "id": "2f0c6a4e-6c1f-4a63-9d2b-0a5b9b2d1c01",
    "source": "urn:nl:signaalhub:partner:vitens",
    "type": "nl.signaalhub.signaal",
    "datacontenttype": "application/json",
    "data": {
        "signaalId": "VIT-2026-000123",
        "signaalpartnerType": "Water",
        "soort": "vroegsignaal",
        "bedrag": "123.45",
        "ontstaansdatum": "2026-08-01",
        "signaaldatum": "2026-10-01",
        "dagenAchterstand": 61,
        "client": {
            "burgerservicenummer": "999990019",
            "voorletters": "J.",
            "achternaam": "Voorbeeld",
            "postcode": "7604AB",
            "huisnummer": "12",
        },
    },
}


@router.post(
    "/signalen",
    status_code=201,
    summary="Deliver one signal (CloudEvents 1.0, structured or binary mode)",
    responses={
        200: {"description": "Duplicate: this signal was received before; nothing written."},
        201: {"description": "Accepted."},
        400: {"description": "Rejected, with every invalid field (problem+json)."},
        401: {"description": "No or an unknown API key (problem+json)."},
        403: {"description": "The key is not a partner's (problem+json)."},
        413: {"description": "The body is too large."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/cloudevents+json": {
                    "schema": {"type": "object"},
                    "example": SIGNAL_EXAMPLE,
                },
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def post_signal(request: Request) -> JSONResponse:
    try:
        caller = require(request, Role.PARTNER)
    except Refused as refused:
        return refused.response
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return problem(
            413,
            "Bericht te groot",
            f"A signal may be at most {MAX_BODY_BYTES} bytes; this one has {len(body)}.",
            instance=request.url.path,
        )
    headers = dict(request.headers)
    envelope = (
        binary_envelope(headers, body) if is_binary_mode(headers) else structured_envelope(body)
    )
    intake: SignalIntake = request.app.state.intake
    submission = submission_from(
        envelope,
        body,
        partners=intake.partners,
        channel=Channel.HTTP,
        today=today(),
        # A partner delivers only as itself: another partner's source is rejected (and kept,
        # under the caller's name, with the reason).
        expected_partner=intake.partners.get(caller.id),
    )
    [outcome] = await intake.receive([submission])
    log.info("signal_received_over_http", status=outcome.status, partner=submission.partner_id)
    if outcome.status == "rejected":
        return problem(
            400,
            "Ongeldig signaal",
            f"The signal was rejected: {len(outcome.reasons)} problem(s), listed in "
            "invalidParams. Nothing was recorded as a signal.",
            instance=request.url.path,
            invalidParams=invalid_params(outcome.reasons),
            afwijzingId=str(outcome.rejection_id),
        )
    return JSONResponse(
        _accepted_body(outcome), status_code=201 if outcome.status == "accepted" else 200
    )


def _accepted_body(outcome: IntakeOutcome) -> dict[str, Any]:
    return {
        "status": "geaccepteerd" if outcome.status == "accepted" else "dubbel",
        "id": str(outcome.signal_id),
        "zaakId": str(outcome.case_id) if outcome.case_id else None,
    }
