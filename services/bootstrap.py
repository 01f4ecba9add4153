"""The composition root: builds the application's parts from settings, in one place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import events.catalogue  # noqa: F401  (registers the domain events)
from events.migrations import upgrade
from events.registry import catalogue
from events.store import SqlEventStore
from events.store.engine import create_engine
from events.store.recorders import utc_now
from services.intake.receive_signals import SignalIntake
from services.intake.rules import load_intake_rules
from services.logging import configure_logging
from services.municipalities import load_municipalities
from services.partners import load_partners
from services.routing.route_case import CaseRouter
from services.settings import Settings


def configure(settings: Settings) -> None:
    configure_logging(settings.log_format, settings.log_level)


def build_event_store(settings: Settings, clock: Callable[[], datetime] = utc_now) -> SqlEventStore:
    return SqlEventStore(create_engine(settings.database_url), catalogue, clock=clock)


async def open_migrated_event_store(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> SqlEventStore:
    """The event store with its schema brought up to date (idempotent). ``clock`` stamps
    ``recorded_at``; only a simulation passes its own."""
    store = build_event_store(settings, clock)
    await upgrade(store.engine)
    return store


def build_signal_intake(settings: Settings, store: SqlEventStore) -> SignalIntake:
    """Intake with the partners, municipalities, intake rules and routing of HUB_CONFIG_DIR."""
    config = settings.config_dir
    return SignalIntake(
        store,
        load_partners(config),
        load_municipalities(config),
        load_intake_rules(config),
        router=CaseRouter.from_config(config),
    )
