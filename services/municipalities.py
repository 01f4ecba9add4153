"""The municipalities a hub serves, from ``HUB_CONFIG_DIR/municipalities.toml``."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.config_files import ConfigError, describe, expand_pc4, load_toml


class Municipality(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^\d{4}$", description="CBS gemeentecode, e.g. 0141")
    name: str
    inhabitants: int = Field(gt=0)
    pc4: tuple[str, ...] = Field(min_length=1)
    default: bool = False

    @field_validator("pc4")
    @classmethod
    def _ranges(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return expand_pc4(values)


class Municipalities:
    def __init__(self, municipalities: list[Municipality]) -> None:
        defaults = [m for m in municipalities if m.default]
        if len(defaults) != 1:
            raise ConfigError("municipalities.toml: exactly one gemeente needs default = true")
        self.default = defaults[0]
        self._by_pc4: dict[str, Municipality] = {}
        for municipality in municipalities:
            for pc4 in municipality.pc4:
                other = self._by_pc4.setdefault(pc4, municipality)
                if other is not municipality:
                    raise ConfigError(
                        f"municipalities.toml: PC4 {pc4} is in both {other.code} and "
                        f"{municipality.code}"
                    )
        self._by_code = {m.code: m for m in municipalities}

    def for_pc4(self, pc4: str) -> Municipality | None:
        return self._by_pc4.get(pc4)

    def get(self, code: str) -> Municipality | None:
        return self._by_code.get(code)


def load_municipalities(config_dir: Path) -> Municipalities:
    path = config_dir / "municipalities.toml"
    entries = load_toml(path).get("gemeente", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: needs at least one [[gemeente]]")
    try:
        return Municipalities([Municipality.model_validate(e) for e in entries])
    except ValidationError as error:
        raise ConfigError(f"{path}: {describe(error)}") from None
