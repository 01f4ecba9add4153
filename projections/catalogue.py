"""The hub's projections, in one place: what the runner keeps up to date."""

from __future__ import annotations

from pathlib import Path

from projections.audit_trail import AuditTrailProjection
from projections.outbox import OutboxProjection
from projections.projection import Projection
from projections.referral_queue import ReferralQueueProjection
from projections.report_facts import ReportFactsProjection


def all_projections(config_dir: Path | None = None) -> list[Projection]:
    """Every projection; ``config_dir`` (default: ``HUB_CONFIG_DIR``) holds the wijken the
    report facts group by."""
    if config_dir is None:
        from services.settings import Settings

        config_dir = Settings().config_dir
    # In this order the runner overlaps each view's fold with the previous view's writes
    # best: the outbox's fold, the largest, with the audit trail's COPY, the largest write.
    return [
        AuditTrailProjection(),
        OutboxProjection(),
        ReportFactsProjection.from_config(config_dir),
        ReferralQueueProjection(),
    ]
