"""Enumerations shared by events, with the national DDAS v0.9 values as their values."""

from __future__ import annotations

from enum import StrEnum


class PartnerType(StrEnum):
    """DDAS EnumSignaalpartner."""

    ENERGY = "Energie"
    RENT = "Huur"
    MORTGAGE = "Hypotheek"
    CAK_HEALTH_INSURANCE = "CAK Zorgverzekeringen"
    HEALTH_INSURANCE = "Zorg"
    WATER = "Water"
    DUO = "DUO"
    TAX_AUTHORITY = "Belastingdienst"
    CAK_PERSONAL_CONTRIBUTION = "CAK Eigen bijdrage"
    OTHER = "Overige"
    BENEFITS_AGENCY = "Dienst Toeslagen"


class SignalKind(StrEnum):
    """DESIGN §5 ``soort``."""

    EARLY_SIGNAL = "vroegsignaal"
    FINAL_DELIVERY_SIGNAL = "eindeleveringssignaal"
    UPDATE = "update"
    WITHDRAWAL = "intrekking"
