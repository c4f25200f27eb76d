"""Errors about address and key fields show a redacted form (issue 13 item 9): a private key
pasted into `live.master_address` by mistake must not reach the screen."""

from __future__ import annotations

import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mmfast.errors import ConfigError, redact
from mmfast.keys import KEY_ENV, check_address, load_identity

KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def longest_shared_run(secret: str, text: str) -> int:
    """The longest substring of `secret` that appears in `text`."""
    best = 0
    for i in range(len(secret)):
        for j in range(i + best + 1, len(secret) + 1):
            if secret[i:j] in text:
                best = j - i
            else:
                break
    return best


@pytest.mark.parametrize("value", ["0x" + KEY, KEY, "0x" + KEY[:39], " 0x" + KEY + " ", KEY + "zz"])
def test_invalid_master_address_error_never_shows_the_value(value):
    with pytest.raises(ConfigError) as err:
        check_address("live.master_address", value)
    text = str(err.value)
    assert "live.master_address" in text
    assert longest_shared_run(KEY, text) <= 6, text
    assert f"{len(value)} characters" in text


def test_a_key_shaped_value_gets_a_hint():
    with pytest.raises(ConfigError, match="private key"):
        check_address("live.master_address", "0x" + KEY)


def test_load_identity_redacts_too():
    live = types.SimpleNamespace(keystore="", master_address="0x" + KEY)
    with pytest.raises(ConfigError) as err:
        load_identity(live, {KEY_ENV: "0x" + "01" * 32}, lambda k, is_mainnet=True: _Signer())
    assert longest_shared_run(KEY, str(err.value)) <= 6


class _Signer:
    address = "0x14791697260e4c9a71f18484c9f997b308e59325"


def test_short_values_are_shown_whole():
    assert redact("0x12") == "'0x12'"


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=13, max_size=200))
def test_redact_shows_at_most_six_characters_of_a_long_value(value):
    out = redact(value)
    assert out.startswith(repr(value[:6]) + "… (")
    assert f"({len(value)} characters, redacted" in out
    assert value not in out
