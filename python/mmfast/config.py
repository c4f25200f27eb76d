"""Loading `MarketMakerConfig` from a TOML file plus environment overrides (SPEC 2): the one
configuration path of `run`, `paper` and the job API.

An environment variable `MMFAST_<PATH>` overrides the field at `<path>`, lowercased, with `__`
between nested names: `MMFAST_ASSET=BTC`, `MMFAST_RECONCILE__MAX_BPS_DIFF=5`. A `MMFAST_`
variable that names no field is an error naming the variable (a typo would otherwise be
silently ignored), except the few that are not config: the secrets (`MMFAST_PRIVATE_KEY`,
`MMFAST_KEYSTORE_PASSWORD`, which never go through here) and `MMFAST_SHARED` (where the test
data lives). A bad value given by a variable is reported under the variable's name.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from mmfast._core import MarketMakerConfig
from mmfast.errors import ConfigError, redact

ENV_PREFIX = "MMFAST_"
#: `MMFAST_` variables that are not config fields.
NOT_CONFIG = frozenset({"MMFAST_PRIVATE_KEY", "MMFAST_KEYSTORE_PASSWORD", "MMFAST_SHARED"})


def env_name(path: str) -> str:
    """The variable that overrides the field at dotted `path`."""
    return ENV_PREFIX + path.upper().replace(".", "__")


def env_overrides(environ: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Returns the `(dotted.path, raw value)` overrides the environment holds.

    Raises `ConfigError` naming every `MMFAST_` variable that names no field.
    """
    env = os.environ if environ is None else environ
    known = set(MarketMakerConfig.known_paths())
    out, unknown = [], []
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name in NOT_CONFIG:
            continue
        path = name[len(ENV_PREFIX) :].lower().replace("__", ".")
        if path in known:
            out.append((path, value))
        else:
            unknown.append(name)
    if unknown:
        names = [env_name(p) for p in sorted(known)]
        lines = []
        for name in sorted(unknown):
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            lines.append(f"  {name}: names no config field{hint}")
        err = ConfigError("environment: unknown MMFAST_ variables\n" + "\n".join(lines))
        err.violations = [(n, "", "names no config field") for n in sorted(unknown)]
        raise err
    return sorted(out)


def read_config_text(path: str | os.PathLike[str]) -> str:
    """The file's text, or `ConfigError` naming the path (missing, a directory, unreadable)."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{p}: is a directory, not a config file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read config file: {e}") from None


def load_config(
    path: str | os.PathLike[str] | None,
    environ: Mapping[str, str] | None = None,
    overrides: Sequence[tuple[str, str]] = (),
    *,
    defaults: Sequence[tuple[str, str]] = (),
) -> MarketMakerConfig:
    """Reads, overrides and validates a config file (`None`: the built-in defaults).

    Precedence, lowest first: `defaults` (a caller's defaults for when there is no file, e.g.
    paper's capital; ignored with a file), the file, the environment, `overrides` (what the
    caller must fix, e.g. paper's venue endpoints). Raises `ConfigError` naming the path when the
    file is missing or unreadable, and listing every violation when it is invalid; a violation
    caused by a variable names the variable.
    """
    text = "" if path is None else read_config_text(path)
    source = "<defaults>" if path is None else str(path)
    env = env_overrides(environ)
    base = list(defaults) if path is None else []
    try:
        return MarketMakerConfig.from_toml(text, source, [*base, *env, *overrides])
    except ConfigError as e:
        forced = {k for k, _ in overrides}
        by_env = {k: v for k, v in env if k not in forced}
        if not any(f in by_env for f, _, _ in e.violations):
            raise
        raise _attributed(e, source, by_env) from None


def _shown(field: str, value: str) -> str:
    """A variable's value as an error may show it: a key-shaped or address value redacted."""
    if "address" in field or "keystore" in field or _KEY_SHAPE.match(value):
        return redact(value)
    return value


_KEY_SHAPE = re.compile(r"^\s*(0x)?[0-9a-fA-F]{64}\s*$")


def _attributed(e: ConfigError, source: str, by_env: dict[str, str]) -> ConfigError:
    """The error re-worded so that what came from the environment names its variable."""
    lines = []
    for field, value, reason in e.violations:
        if field in by_env:
            lines.append(
                f"  {env_name(field)}={_shown(field, by_env[field])} (environment): {reason}"
            )
        elif value:
            lines.append(f"  {field} = {value}: {reason}")
        else:
            lines.append(f"  {field}: {reason}")
    n = len(e.violations)
    head = f"{source} and environment: " + (
        "invalid configuration" if n == 1 else f"{n} configuration errors"
    )
    out = ConfigError(head + "\n" + "\n".join(lines))
    out.violations = [(env_name(f) if f in by_env else f, v, r) for f, v, r in e.violations]
    return out
