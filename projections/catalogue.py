"""The hub's projections, in one place: what the runner keeps up to date."""

from __future__ import annotations

from projections.outbox import OutboxProjection
from projections.projection import Projection
from projections.referral_queue import ReferralQueueProjection


def all_projections() -> list[Projection]:
    return [ReferralQueueProjection(), OutboxProjection()]
