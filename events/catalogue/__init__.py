"""The domain events of the hub, one module per aggregate. Importing this package registers
every event class in ``events.registry.catalogue``."""

from events.catalogue import audit, cases, privacy, referrals, routing, signals

__all__ = ["audit", "cases", "privacy", "referrals", "routing", "signals"]
