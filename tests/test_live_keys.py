"""Key loading: environment first, then the keystore named in config with its password from the
environment; the master address for agent keys; no error ever shows key material."""

from __future__ import annotations

import json
import secrets
import types
from pathlib import Path
from typing import ClassVar

import pytest
from mmfast.errors import ConfigError, SigningError
from mmfast.keys import KEY_ENV, PASSWORD_ENV, load_identity

KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
ADDRESS = "0x14791697260e4c9a71f18484c9f997b308e59325"


class RecordingSigner:
    """Stands in for the Rust `Signer` in these unit tests only: records what it was built with
    and derives the address as the real one does (eth-account, a test dependency)."""

    built: ClassVar[list[str]] = []

    def __init__(self, key_hex: str, is_mainnet: bool = True) -> None:
        from eth_account import Account

        RecordingSigner.built.append(key_hex)
        self.address = Account.from_key(key_hex).address

    def __repr__(self) -> str:
        return "Signer(<key hidden>)"


def live(**kw: str) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{"keystore": "", "master_address": "", **kw})


def no_key_in(text: str, key: str = KEY) -> bool:
    k = key.lower().removeprefix("0x")
    return k not in text.lower() and k[:16] not in text.lower()


def test_key_from_environment_trades_for_itself() -> None:
    ident = load_identity(live(), {KEY_ENV: KEY}, RecordingSigner)
    assert ident.signer_address == ADDRESS and ident.account == ADDRESS
    assert not ident.is_agent
    assert no_key_in(repr(ident))


def test_agent_key_queries_with_the_master_address() -> None:
    master = "0x" + "AB" * 20
    ident = load_identity(live(master_address=master), {KEY_ENV: KEY}, RecordingSigner)
    assert ident.account == master.lower() and ident.is_agent


def test_bad_master_address_names_field_and_value() -> None:
    with pytest.raises(ConfigError, match=r"live.master_address = '0x12'"):
        load_identity(live(master_address="0x12"), {KEY_ENV: KEY}, RecordingSigner)


def test_no_key_configured() -> None:
    with pytest.raises(ConfigError, match=KEY_ENV):
        load_identity(live(), {}, RecordingSigner)


@pytest.mark.parametrize("bad", [KEY[:-1], KEY + "00", KEY.replace("0123", "zz12", 1)])
def test_malformed_key_error_shows_no_key(bad: str) -> None:
    with pytest.raises(SigningError) as e:
        load_identity(live(), {KEY_ENV: bad}, RecordingSigner)
    text = str(e.value) + repr(e.value) + repr(e.value.__cause__) + repr(e.value.__context__)
    assert KEY_ENV in str(e.value) and no_key_in(text, bad)


def test_signer_refusal_error_shows_no_key() -> None:
    def refuse(key_hex: str, is_mainnet: bool) -> None:
        raise ValueError(f"invalid scalar {key_hex}")  # a careless signer error

    zero = "0x" + "0" * 64
    with pytest.raises(SigningError) as e:
        load_identity(live(), {KEY_ENV: zero}, refuse)
    assert e.value.__cause__ is None and e.value.__suppress_context__
    assert "0" * 64 not in str(e.value)


@pytest.fixture()
def keystore(tmp_path: Path) -> tuple[Path, str, str]:
    from eth_account import Account

    key = "0x" + secrets.token_hex(32)
    password = "correct horse"
    doc = Account.encrypt(key, password, kdf="pbkdf2", iterations=2)
    path = tmp_path / "key.json"
    path.write_text(json.dumps(doc))
    return path, key, password


def test_keystore_with_password_from_environment(keystore: tuple[Path, str, str]) -> None:
    path, key, password = keystore
    RecordingSigner.built.clear()
    ident = load_identity(live(keystore=str(path)), {PASSWORD_ENV: password}, RecordingSigner)
    assert RecordingSigner.built == [key.removeprefix("0x")]
    from eth_account import Account

    assert ident.account == Account.from_key(key).address.lower()


def test_environment_key_wins_over_keystore(keystore: tuple[Path, str, str]) -> None:
    path, _, _ = keystore
    ident = load_identity(live(keystore=str(path)), {KEY_ENV: KEY}, RecordingSigner)
    assert ident.account == ADDRESS


def test_real_signer_from_environment_and_keystore(keystore: tuple[Path, str, str]) -> None:
    from mmfast import Signer

    ident = load_identity(live(), {KEY_ENV: KEY}, is_mainnet=False)
    assert isinstance(ident.signer, Signer) and ident.account == ADDRESS
    assert not ident.signer.is_mainnet and no_key_in(repr(ident) + repr(ident.signer))
    path, key, password = keystore
    ident = load_identity(live(keystore=str(path)), {PASSWORD_ENV: password})
    assert no_key_in(repr(ident), key)
    body = ident.signer.sign_noop()
    assert no_key_in(body.decode(), key)


def test_keystore_errors(keystore: tuple[Path, str, str], tmp_path: Path) -> None:
    path, key, _ = keystore
    with pytest.raises(ConfigError, match=PASSWORD_ENV):
        load_identity(live(keystore=str(path)), {}, RecordingSigner)
    with pytest.raises(SigningError, match="cannot decrypt") as e:
        load_identity(live(keystore=str(path)), {PASSWORD_ENV: "wrong"}, RecordingSigner)
    assert no_key_in(str(e.value), key)
    with pytest.raises(ConfigError, match="file not found"):
        load_identity(
            live(keystore=str(tmp_path / "nope.json")), {PASSWORD_ENV: "x"}, RecordingSigner
        )
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    with pytest.raises(ConfigError, match="not a readable keystore"):
        load_identity(live(keystore=str(junk)), {PASSWORD_ENV: "x"}, RecordingSigner)


def test_live_command_without_a_key_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmfast.cli import main

    monkeypatch.delenv(KEY_ENV, raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text('asset = "ETH"\nmax_position = 0.1\n')
    assert main(["live", "--config", str(cfg)]) == 2
    assert KEY_ENV in capsys.readouterr().err
