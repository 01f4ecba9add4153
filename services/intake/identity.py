"""Signal identity: a partner's signal always maps to the same hub id and stream."""

from __future__ import annotations

import uuid
from functools import lru_cache

SIGNAL_NAMESPACE = uuid.UUID("6f1d2c3e-8a4b-5c6d-9e0f-0141a5e1b2c3")


@lru_cache(maxsize=16_384)  # a batch asks twice for each signal: to load it, and to record it
def signal_id_for(partner_id: str, partner_signal_id: str) -> uuid.UUID:
    return uuid.uuid5(SIGNAL_NAMESPACE, f"{partner_id}/{partner_signal_id}")
