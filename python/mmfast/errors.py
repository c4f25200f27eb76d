"""The exception tree of mmfast. Callers catch `MmfastError` or one of its subclasses.

Declared here, in Python, so that value errors are also `ValueError`s; the Rust binding raises
these very classes (`rust/py/src/errors.rs`).
"""

from __future__ import annotations

import re


class MmfastError(Exception):
    """Base class of every error mmfast raises on purpose."""


class InputError(MmfastError, ValueError):
    """An argument outside its domain (NaN, infinite, negative, zero where forbidden)."""


class ConfigError(MmfastError, ValueError):
    """A configuration that failed validation.

    `violations` lists every `(field, value, reason)` found, not only the first.
    """

    violations: list[tuple[str, str, str]]

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.violations = []


class BookError(MmfastError, ValueError):
    """A malformed market-data frame; the book it was applied to is unchanged."""


class SigningError(MmfastError, ValueError):
    """A signing or recovery failure. Never contains key material."""


class VenueError(MmfastError):
    """A request the venue or the matching engine refused."""


class EngineError(MmfastError):
    """A quote-engine state error (bad saved state, inconsistent order state)."""


_SHOWN = 6
_WHOLE_UP_TO = 12
_KEY_SHAPE = re.compile(r"^\s*(0x)?[0-9a-fA-F]{64}\s*$")


def redact(value: object) -> str:
    """The form of a config value that an error about an address or key field may show.

    A value of up to 12 characters is shown whole (it cannot hold a secret); a longer one shows
    its first 6 characters and its length only, since a private key pasted into the wrong field
    must never reach a screen or a log (issue 13 item 9). A value shaped like a private key says
    so.
    """
    text = str(value)
    if len(text) <= _WHOLE_UP_TO:
        return repr(text)
    out = f"{text[:_SHOWN]!r}… ({len(text)} characters, redacted)"
    if _KEY_SHAPE.match(text):
        out = out[:-1] + "; this looks like a private key: never put a key in the config)"
    return out


__all__ = [
    "BookError",
    "ConfigError",
    "EngineError",
    "InputError",
    "MmfastError",
    "SigningError",
    "VenueError",
    "redact",
]
