"""Signal partners as configuration (``HUB_CONFIG_DIR/partners.toml``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from events.catalogue.vocabulary import PartnerType
from services.access.tokens import check_sha256_hex, owner_of, token_hash
from services.config_files import ConfigError, describe, load_toml

PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

WIRE_FIELDS: tuple[str, ...] = (
    "signaalId",
    "signaalpartnerType",
    "soort",
    "bedrag",
    "ontstaansdatum",
    "signaaldatum",
    "dagenAchterstand",
    "maandenAchterstand",
    "crisissignaal",
    "warmeOverdracht",
    "klantnummer",
    "burgerservicenummer",
    "voorletters",
    "voorvoegsel",
    "achternaam",
    "geboortedatum",
    "straatnaam",
    "postcode",
    "huisnummer",
    "huisnummertoevoeging",
    "plaatsnaam",
    "telefoonnummer",
    "email",
)
"""The canonical flat field names: the CSV header of the canonical file format."""


class PartnerConfigError(ConfigError):
    """partners.toml is missing or wrong; the message names the file, entry and field."""


class FileMapping(BaseModel):
    """How one partner's export file differs from the canonical CSV."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: Literal[";", ",", "\t", "|"] | None = None
    decimal: Literal[".", ","] | None = None
    date_format: str | None = None
    encoding: str = "utf-8-sig"
    columns: dict[str, str] = Field(default_factory=dict)

    @field_validator("columns")
    @classmethod
    def _known_wire_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(columns) - set(WIRE_FIELDS))
        if unknown:
            raise ValueError(f"unknown wire field(s) {', '.join(unknown)}")
        return columns


class Partner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    types: tuple[PartnerType, ...] = Field(min_length=1)
    source: str
    api_key_sha256: str | None = None
    """Hex SHA-256 of the partner's HTTP API key; without it the partner cannot use HTTP."""
    file: FileMapping | None = None

    @field_validator("api_key_sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        return None if value is None else check_sha256_hex(value)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not PARTNER_ID.match(value):
            raise ValueError(
                "must be lowercase letters, digits and dashes (it is used in subjects)"
            )
        return value

    @field_validator("source")
    @classmethod
    def _urn(cls, value: str) -> str:
        if not value.startswith("urn:"):
            raise ValueError("must be a URN such as urn:nl:signaalhub:partner:<id>")
        return value

    def may_send(self, partner_type: PartnerType) -> bool:
        return partner_type in self.types


class Partners:
    """The registered partners, looked up by id or by CloudEvents source."""

    def __init__(self, partners: list[Partner]) -> None:
        self._by_id = {p.id: p for p in partners}
        self._by_source = {p.source: p for p in partners}
        if len(self._by_id) != len(partners):
            raise PartnerConfigError("partners.toml: two partners have the same id")
        if len(self._by_source) != len(partners):
            raise PartnerConfigError("partners.toml: two partners have the same source")

    def get(self, partner_id: str) -> Partner | None:
        return self._by_id.get(partner_id)

    def by_source(self, source: str) -> Partner | None:
        return self._by_source.get(source)

    def partner_for_key(self, api_key: str) -> Partner | None:
        """The partner whose HTTP API key this is; None for an unknown or empty key."""
        owner = owner_of(
            api_key, ((p.id, p.api_key_sha256) for p in self if p.api_key_sha256 is not None)
        )
        return self._by_id.get(owner) if owner is not None else None

    def with_api_keys(self, keys: Mapping[str, str]) -> Partners:
        """A copy with ``{partner id: API key}`` set (tests, a demo); only hashes are kept."""
        return Partners(
            [
                p.model_copy(update={"api_key_sha256": token_hash(keys[p.id])})
                if p.id in keys
                else p
                for p in self
            ]
        )

    def __iter__(self) -> Iterator[Partner]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def load_partners(config_dir: Path) -> Partners:
    path = config_dir / "partners.toml"
    try:
        entries = load_toml(path).get("partner", [])
    except ConfigError as error:
        raise PartnerConfigError(str(error)) from None
    if not isinstance(entries, list):
        raise PartnerConfigError(f"{path}: partners are [[partner]] tables")
    partners: list[Partner] = []
    for index, entry in enumerate(entries, start=1):
        try:
            partners.append(Partner.model_validate(entry))
        except ValidationError as error:
            name = entry.get("id", f"#{index}") if isinstance(entry, dict) else f"#{index}"
            raise PartnerConfigError(f"{path}: partner {name}: {describe(error)}") from None
    return Partners(partners)
