"""The signing key and the account it trades for (SPEC 10; issue 7 item 5).

The key comes from `MMFAST_PRIVATE_KEY` or, when that is unset, from the encrypted keystore file
named by `live.keystore` with its password in `MMFAST_KEYSTORE_PASSWORD`. It goes straight into
the Rust `Signer` and no Python object keeps it: nothing here logs it, puts it in an exception
(every error is raised `from None`, so no chained traceback carries it either) or writes it.

`live.master_address` names the account an agent (API wallet) key trades for; queries (`info`
requests, user subscriptions) always use that account, never the agent's address (PROTOCOL 2).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmfast.errors import ConfigError, SigningError, redact

KEY_ENV = "MMFAST_PRIVATE_KEY"
PASSWORD_ENV = "MMFAST_KEYSTORE_PASSWORD"

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


@dataclass(frozen=True)
class Identity:
    """Who signs and for whom. `signer` holds the key; its repr never shows it."""

    signer: Any
    #: Address of the signing key (an agent's, or the account's own).
    signer_address: str
    #: The account queried and traded for (lowercase); the master when an agent signs.
    account: str

    @property
    def is_agent(self) -> bool:
        return self.account != self.signer_address


def check_address(field: str, value: str) -> str:
    """Returns the address lowercased, or raises `ConfigError` naming the field and the value's
    redacted form (a key pasted here by mistake must not be shown)."""
    if not _ADDRESS.match(value):
        raise ConfigError(f"{field} = {redact(value)}: not an address (0x and 40 hex digits)")
    return value.lower()


def _key_from_keystore(path: str, environ: Mapping[str, str]) -> str:
    from eth_keyfile import decode_keyfile_json

    password = environ.get(PASSWORD_ENV)
    if password is None:
        raise ConfigError(f"live.keystore = {path!r}: set {PASSWORD_ENV} to its password")
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"live.keystore = {path!r}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"live.keystore = {path!r}: not a readable keystore ({e})") from None
    try:
        raw = decode_keyfile_json(doc, password.encode())
    except ValueError:
        # eth-keyfile says "MAC mismatch" for a wrong password; say it in our words.
        raise SigningError(
            f"live.keystore = {path!r}: cannot decrypt (wrong {PASSWORD_ENV}?)"
        ) from None
    except Exception as e:  # a malformed keystore: name the kind of failure, never the content
        raise SigningError(
            f"live.keystore = {path!r}: not a valid keystore ({type(e).__name__})"
        ) from None
    return bytes(raw).hex()


def _make_signer(key_hex: str, source: str, factory: Any, is_mainnet: bool) -> Any:
    if not _KEY.match(key_hex):
        raise SigningError(f"{source}: not a private key (64 hex digits, optional 0x)")
    try:
        return factory(key_hex, is_mainnet=is_mainnet)
    except Exception as e:
        raise SigningError(f"{source}: rejected by the signer ({type(e).__name__})") from None


def load_key_hex(live: Any, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The key's hex and where it came from, for `load_identity` and for the one other holder,
    the guardian process (which gets it through a pipe). Never log or keep the result."""
    env = os.environ if environ is None else environ
    key = env.get(KEY_ENV, "").strip()
    if key:
        return key, KEY_ENV
    if live.keystore:
        return _key_from_keystore(live.keystore, env), f"live.keystore = {live.keystore!r}"
    raise ConfigError(f"no signing key: set {KEY_ENV} or live.keystore (with {PASSWORD_ENV})")


def load_identity(
    live: Any,
    environ: Mapping[str, str] | None = None,
    signer_factory: Any = None,
    is_mainnet: bool = True,
) -> Identity:
    """Builds the `Signer` and names the account, from the environment and `live` config.

    `live` is the config's `[live]` section; `is_mainnet` selects the signing source ("a" on
    mainnet, "b" on testnet and on a local venue in testnet mode). Raises `ConfigError` when no
    key is configured or the keystore cannot be read, and `SigningError` when the key is
    malformed or the keystore does not decrypt; no message contains key material.
    """
    if signer_factory is None:
        from mmfast._core import Signer as signer_factory
    key, source = load_key_hex(live, environ)
    signer = _make_signer(key, source, signer_factory, is_mainnet)
    del key
    address = str(signer.address).lower()
    master = live.master_address
    account = check_address("live.master_address", master) if master else address
    return Identity(signer=signer, signer_address=address, account=account)
