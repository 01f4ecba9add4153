"""Intake rules from ``HUB_CONFIG_DIR/intake.toml``: the matching and repeat windows."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.config_files import ConfigError, describe, load_toml


class IntakeRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_days: int = Field(default=30, ge=1, le=366)
    repeat_window_days: int = Field(default=90, ge=0, le=3660)


def load_intake_rules(config_dir: Path) -> IntakeRules:
    path = config_dir / "intake.toml"
    matching = load_toml(path).get("matching", {})
    try:
        return IntakeRules.model_validate(matching)
    except ValidationError as error:
        raise ConfigError(f"{path}: [matching] {describe(error)}") from None
