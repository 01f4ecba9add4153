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


def expand_pc4(values: tuple[str, ...]) -> tuple[str, ...]:
    """PC4 codes from single codes and ranges (``7600``, ``7600-7609``) in config files."""
    expanded: list[str] = []
    for value in values:
        low, _, high = value.partition("-")
        high = high or low
        if not (low.isdigit() and high.isdigit() and len(low) == len(high) == 4):
            raise ValueError(f"{value!r} is not a PC4 (7600) or a range (7600-7609)")
        if int(low) > int(high):
            raise ValueError(f"{value!r}: the range runs backwards")
        expanded.extend(str(n) for n in range(int(low), int(high) + 1))
    return tuple(expanded)
