"""Reading the TOML files in ``HUB_CONFIG_DIR`` with errors that name file, entry and field."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError


class ConfigError(Exception):
    """A configuration file is missing or wrong; the message names file, entry and field."""


def load_toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found (set HUB_CONFIG_DIR)") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None


def describe(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
