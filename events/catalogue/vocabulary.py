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


class Outcome(StrEnum):
    """DDAS EnumEindresultaat: how a case ended."""

    REPEAT_SIGNAL = "Niet opgepakt: herhaalde melding"
    UNJUSTIFIED_SIGNAL = "Niet opgepakt: onterecht signaal"
    DECEASED = "Inwoner is overleden"
    NOT_A_RESIDENT = "Persoon is geen inwoner (meer) in de gemeente"
    NOT_PICKED_UP_OTHER = "Niet opgepakt: andere reden"
    KNOWN_TO_DEBT_SERVICES = "Inwoner al bekend bij schuldhulpverlening"
    OTHER_TRAJECTORY = "Inwoner heeft al een ander lopend traject"
    NO_CONTACT = "Definitief geen contact kunnen krijgen"
    NO_RESPONSE_AFTER_CONTACT = "Geen reactie na eerder contact"
    NO_HELP_NEEDED = "Inwoner hoeft geen hulp vanuit vroegsignalering"
    ALREADY_PAID = "Inwoner heeft zelf al betaald/betalingsregeling getroffen"
    ADVICE_OR_QUICK_FIX = "(Budget)advies en/of quick fix"
    FOLLOW_UP_FINANCIAL = "Vervolghulp en/of verwijzing financieel"
    REFERRAL_WITHOUT_CONTACT = "Verwijzing zonder contact"
    FOLLOW_UP_NON_FINANCIAL = "Vervolghulp en/of verwijzing niet financieel"


class Channel(StrEnum):
    """How a signal reached the hub."""

    BROKER = "broker"
    HTTP = "http"
    FILE = "file"
