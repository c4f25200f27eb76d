"""Loading `MarketMakerConfig` from a TOML file plus environment overrides (SPEC 2).

An environment variable `MMFAST_<PATH>` overrides the field at `<path>`, lowercased, with `__`
between nested names: `MMFAST_ASSET=BTC`, `MMFAST_RECONCILE__MAX_BPS_DIFF=5`. Variables that name
no config field (`MMFAST_PRIVATE_KEY`, ...) are not config and are left alone: secrets never go
through here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from mmfast._core import MarketMakerConfig
from mmfast.errors import ConfigError

ENV_PREFIX = "MMFAST_"


def env_overrides(environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Returns the `(dotted.path, raw value)` overrides the environment holds."""
    env = os.environ if environ is None else environ
    known = set(MarketMakerConfig.known_paths())
    out = []
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = name[len(ENV_PREFIX) :].lower().replace("__", ".")
        if path in known:
            out.append((path, value))
    return sorted(out)


def load_config(
    path: str | os.PathLike[str], environ: Mapping[str, str] | None = None
) -> MarketMakerConfig:
    """Reads, overrides and validates a config file.

    Raises `ConfigError` naming the path when the file is missing or unreadable, and listing every
    violation when it is invalid.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read config file: {e}") from None
    return MarketMakerConfig.from_toml(text, str(p), env_overrides(environ))
