"""Dutch labels for the municipal reader, shared by the HTML and XLSX renderers. Unknown ids
(a new dimension or step) are shown as they are."""

from __future__ import annotations

DIMENSIONS = {
    "project": "project",
    "team": "team",
    "wijk": "wijk",
    "partner_type": "type signaalpartner",
}

GRANULARITIES = {
    "day": "dag",
    "week": "week",
    "month": "maand",
    "quarter": "kwartaal",
    "year": "jaar",
}

STEPS = {
    "signal_to_received": "Signaaldatum → ontvangen",
    "received_to_claimed": "Ontvangen → opgepakt door team",
    "claimed_to_first_attempt": "Opgepakt → eerste contactpoging",
    "first_attempt_to_first_reached": "Eerste contactpoging → eerste contact",
    "received_to_closed": "Ontvangen → afgesloten",
    "signal_to_closed": "Signaaldatum → afgesloten",
}

CASELOAD_MEASURES = {
    "new": "Nieuw",
    "open": "Open",
    "claimed": "Geclaimd",
    "in_progress": "In behandeling",
    "closed": "Afgesloten",
    "overdue": "Te laat",
}

RATES = {
    "bereik": "Bereik",
    "hulpacceptatie": "Hulpacceptatie",
    "no_contact_rate": "Geen contact",
}


def dimension(key: str) -> str:
    return DIMENSIONS.get(key, key)


def granularity(key: str) -> str:
    return GRANULARITIES.get(key, key)


def step(key: str) -> str:
    return STEPS.get(key, key)
