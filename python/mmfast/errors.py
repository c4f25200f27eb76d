"""The exception tree of mmfast. Callers catch `MmfastError` or one of its subclasses.

Declared here, in Python, so that value errors are also `ValueError`s; the Rust binding raises
these very classes (`rust/py/src/errors.rs`).
"""

from __future__ import annotations


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


__all__ = [
    "BookError",
    "ConfigError",
    "EngineError",
    "InputError",
    "MmfastError",
    "SigningError",
    "VenueError",
]
