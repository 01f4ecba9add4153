"""The DDAS delivery header from ``HUB_CONFIG_DIR/ddas.toml``: what the hub cannot know.

``config/ddas.toml`` documents every key. Errors name the file and the key
(``ddas.toml: aanleverende_organisatie.contactpersonen.0.email: ...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.config_files import ConfigError, describe, load_toml

CONFIG_FILE = "ddas.toml"


class ContactPerson(BaseModel):
    """DDAS ``contactpersoonen[]``: whom the CBS may ask about the delivery (a role, ideally)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    naam: str = Field(min_length=1)
    telefoonnummer: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    functietitel: str = Field(min_length=1)


class DeliveringOrganisation(BaseModel):
    """DDAS ``aanleverende_organisatie``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    naam: str = Field(min_length=1)
    kvk_nummer: str = Field(pattern=r"^\d{8}$")
    contactpersonen: tuple[ContactPerson, ...] = Field(min_length=1)

    def as_ddas(self) -> dict[str, Any]:
        return {
            "naam": self.naam,
            "kvk-nummer": self.kvk_nummer,
            "contactpersoonen": [person.model_dump() for person in self.contactpersonen],
        }


class MunicipalityEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    aanleverende_organisatie: DeliveringOrganisation


class DdasConfig(BaseModel):
    """The whole of ``ddas.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code_gegevensleverancier: str = Field(min_length=1)
    aanleverende_organisatie: DeliveringOrganisation
    gemeente: dict[str, MunicipalityEntry] = Field(default_factory=dict)

    def organisation_for(self, gemeentecode: str) -> DeliveringOrganisation:
        """The organisation that delivers for ``gemeentecode``: its own entry or the default."""
        entry = self.gemeente.get(gemeentecode)
        return entry.aanleverende_organisatie if entry else self.aanleverende_organisatie


def load_ddas_config(config_dir: Path) -> DdasConfig:
    """Read and check ``ddas.toml``; ``ConfigError`` names the file and every wrong key."""
    path = config_dir / CONFIG_FILE
    raw = load_toml(path)
    try:
        config = DdasConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{path}: {describe(error)}") from None
    for code in config.gemeente:
        if not (len(code) == 4 and code.isdigit()):
            raise ConfigError(f'{path}: gemeente."{code}": not a CBS gemeentecode (4 digits)')
    return config
