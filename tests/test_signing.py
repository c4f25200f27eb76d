"""Signing step by step against the official SDK's vectors (shared/data/hl_signing_vectors.json),
the `Signer` behaviour (bodies, nonces, recovery, refusals) and the secrecy of its key."""

from __future__ import annotations

import copy
import json
import pickle
import threading

import msgpack
import orjson
import pytest
from conftest import SHARED
from mmfast import Signer, SigningError
from mmfast._core import agent_digest
from mmfast.signing import (
    action_hash,
    action_msgpack,
    address_from_key,
    float_to_wire,
    recover_l1_signer,
    recover_request,
    sign_l1_action,
)

VECTORS_PATH = SHARED / "data" / "hl_signing_vectors.json"
KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
ADDRESS = "0x14791697260E4c9A71f18484C9f997B308e59325"


@pytest.fixture(scope="module")
def vectors() -> dict:
    if not VECTORS_PATH.is_file():
        pytest.fail(f"signing vectors not found at {VECTORS_PATH} (set MMFAST_SHARED)")
    return json.loads(VECTORS_PATH.read_text())


def as_int(h: str) -> int:
    return int(h, 16)


def test_vectors_cover_the_mm_actions(vectors: dict) -> None:
    assert vectors["private_key"] == KEY
    assert vectors["address"] == ADDRESS
    kinds = {v["action_json"]["type"] for v in vectors["vectors"]}
    assert kinds >= {"order", "cancel", "cancelByCloid", "batchModify", "scheduleCancel"}
    assert kinds >= {"noop", "updateLeverage"}


def test_vectors_step_by_step(vectors: dict) -> None:
    for v in vectors["vectors"]:
        name, action = v["name"], v["action_json"]
        packed = action_msgpack(action)
        assert packed.hex() == v["msgpack_hex"], name
        assert packed == msgpack.packb(action), name
        cid = action_hash(action, v["vault"], v["nonce"], v["expiresAfter"])
        assert "0x" + cid.hex() == v["connectionId"], name
        for chain, mainnet in (("mainnet", True), ("testnet", False)):
            want = v[chain]
            assert "0x" + agent_digest(cid, mainnet).hex() == want["eip712_digest"], name
            sig = sign_l1_action(KEY, action, v["nonce"], v["vault"], v["expiresAfter"], mainnet)
            assert len(sig["r"]) == len(sig["s"]) == 66, name
            assert as_int(sig["r"]) == as_int(want["signature"]["r"]), (name, chain)
            assert as_int(sig["s"]) == as_int(want["signature"]["s"]), (name, chain)
            assert sig["v"] == want["signature"]["v"], (name, chain)
            # Recovery takes the SDK's unpadded hex as well as ours.
            for s in (sig, want["signature"]):
                got = recover_l1_signer(
                    action, v["nonce"], v["vault"], v["expiresAfter"], mainnet, s
                )
                assert got == ADDRESS, (name, chain)


def typed_body(signer: Signer, action: dict, **env) -> bytes:
    """The vector's action rebuilt through the Signer's typed methods."""

    def order(o: dict) -> tuple:
        return (o["a"], o["b"], o["p"], o["s"], o["r"], o["t"]["limit"]["tif"], o.get("c"))

    t = action["type"]
    if t == "order":
        return signer.sign_orders([order(o) for o in action["orders"]], **env)
    if t == "cancel":
        cancels = [(c["a"], c["o"]) for c in action["cancels"]]
        return signer.sign_cancel(cancels, fast="f" in action, **env)
    if t == "cancelByCloid":
        cancels = [(c["asset"], c["cloid"]) for c in action["cancels"]]
        return signer.sign_cancel_by_cloid(cancels, fast="f" in action, **env)
    if t == "batchModify":
        return signer.sign_batch_modify(
            [(m["oid"], order(m["order"])) for m in action["modifies"]], **env
        )
    if t == "scheduleCancel":
        return signer.sign_schedule_cancel(action.get("time"), **env)
    if t == "noop":
        return signer.sign_noop(**env)
    if t == "updateLeverage":
        return signer.sign_update_leverage(
            action["asset"], action["isCross"], action["leverage"], **env
        )
    raise AssertionError(t)


@pytest.mark.parametrize("mainnet", [True, False])
def test_signer_typed_bodies_match_the_vectors(vectors: dict, mainnet: bool) -> None:
    signer = Signer(KEY, is_mainnet=mainnet)
    chain = "mainnet" if mainnet else "testnet"
    for v in vectors["vectors"]:
        env = {"nonce": v["nonce"], "vault": v["vault"], "expires_after": v["expiresAfter"]}
        for body in (
            typed_body(signer, v["action_json"], **env),
            signer.sign_action_json(orjson.dumps(v["action_json"]), **env),
            signer.sign_action(v["action_json"], **env),
        ):
            msg = json.loads(body)
            assert list(msg) == ["action", "nonce", "signature", "vaultAddress", "expiresAfter"]
            # Same keys, same order, same values as the SDK's dict.
            assert json.dumps(msg["action"]) == json.dumps(v["action_json"]), v["name"]
            assert msg["nonce"] == v["nonce"]
            assert msg["vaultAddress"] == v["vault"]
            assert msg["expiresAfter"] == v["expiresAfter"]
            want = v[chain]["signature"]
            got = msg["signature"]
            assert (as_int(got["r"]), as_int(got["s"]), got["v"]) == (
                as_int(want["r"]),
                as_int(want["s"]),
                want["v"],
            ), v["name"]
            rec = recover_request(body, mainnet)
            assert rec.signer == ADDRESS
            assert rec.nonce == v["nonce"]
            assert rec.vault_address == v["vault"]
            assert rec.action_type == v["action_json"]["type"]


def test_float_to_wire_vectors(vectors: dict) -> None:
    for text, want in vectors["float_to_wire"].items():
        x = float(text)
        if want.startswith("ERROR"):
            with pytest.raises(ValueError) as e:
                float_to_wire(x)
            assert isinstance(e.value, SigningError)
            assert want == f"ERROR: {e.value}"
            assert e.value.args == ("float_to_wire causes rounding", x)
        else:
            assert float_to_wire(x) == want, text


def test_address_from_key_and_account_objects() -> None:
    assert address_from_key(KEY) == ADDRESS
    assert address_from_key(KEY[2:]) == ADDRESS
    assert address_from_key(bytes.fromhex(KEY[2:])) == ADDRESS
    eth_account = pytest.importorskip("eth_account")
    acct = eth_account.Account.from_key(KEY)
    assert address_from_key(acct) == ADDRESS
    sig = sign_l1_action(acct, {"type": "noop"}, 5, None, None, True)
    assert sig == sign_l1_action(KEY, {"type": "noop"}, 5, None, None, True)


# ---- Signer behaviour ------------------------------------------------------------------------


def test_signer_properties_and_defaults() -> None:
    vault = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
    s = Signer(KEY, is_mainnet=False, vault_address=vault.upper().replace("0X", "0x"))
    assert s.address == ADDRESS
    assert s.is_mainnet is False
    assert s.vault_address == vault
    body = json.loads(s.sign_noop(nonce=7))
    assert body["vaultAddress"] == vault
    rec = recover_l1_signer({"type": "noop"}, 7, vault, None, False, body["signature"])
    assert rec == ADDRESS
    # A per-call vault overrides the default.
    other = "0x" + "ab" * 20
    assert json.loads(s.sign_noop(nonce=8, vault=other))["vaultAddress"] == other


def test_nonces_follow_the_clock_never_repeat_and_respect_explicit_ones() -> None:
    import time

    s = Signer(KEY)
    now = int(time.time() * 1000)
    first = json.loads(s.sign_noop())["nonce"]
    assert now - 5 <= first <= now + 60_000
    bodies = [json.loads(s.sign_noop())["nonce"] for _ in range(200)]
    assert bodies == sorted(set(bodies)) and bodies[0] > first
    far = s.last_nonce + 1_000_000
    assert json.loads(s.sign_noop(nonce=far))["nonce"] == far
    assert s.next_nonce() == far + 1
    # A noop may reuse an in-flight nonce on purpose; later nonces still move on.
    assert json.loads(s.sign_noop(nonce=far))["nonce"] == far
    assert s.next_nonce() == far + 2


def test_nonces_are_unique_across_threads() -> None:
    s = Signer(KEY)
    out: list[list[int]] = [[] for _ in range(4)]

    def work(i: int) -> None:
        for _ in range(300):
            out[i].append(json.loads(s.sign_cancel([(0, 1)]))["nonce"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [n for chunk in out for n in chunk]
    assert len(set(flat)) == len(flat) == 1200
    assert all(chunk == sorted(chunk) for chunk in out)


def test_order_arguments_floats_strings_and_refusals() -> None:
    s = Signer(KEY)
    a = json.loads(s.sign_orders([(3, True, 1670.1, 0.0147, False, "Gtc")], nonce=1))
    b = json.loads(s.sign_orders([(3, True, "1670.1", "0.0147", False, "Gtc", None)], nonce=1))
    assert a == b
    assert a["action"]["orders"][0] == {
        "a": 3,
        "b": True,
        "p": "1670.1",
        "s": "0.0147",
        "r": False,
        "t": {"limit": {"tif": "Gtc"}},
    }
    c = json.loads(s.sign_orders([(0, False, 100, 1, True, "Ioc", 255)], grouping={"p": 7}))
    assert c["action"]["orders"][0]["c"] == "0x" + "0" * 30 + "ff"
    assert c["action"]["grouping"] == {"p": 7}
    last = s.last_nonce
    bad = [
        ((0, True, 100.0, 0.001, False, "Post"), "invalid tif = Post"),
        ((0, True, "100.0", 0.001, False, "Alo"), "invalid px = 100.0"),
        ((0, True, 0.0, 0.001, False, "Alo"), "invalid px = 0"),
        ((0, True, 100.0, -1.0, False, "Alo"), "invalid sz = -1"),
        ((0, True, float("nan"), 1.0, False, "Alo"), "invalid px = NaN"),
        ((-1, True, 100.0, 1.0, False, "Alo"), "invalid asset = -1"),
        ((0, True, 100.0, 1.0, False, "Alo", "0x12"), "invalid cloid = 0x12"),
        ((0, True, 100.0), "invalid order = (0, True, 100.0)"),
        ((0, True, True, 1.0, False, "Alo"), "invalid px = bool"),
    ]
    for order, msg in bad:
        with pytest.raises(SigningError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            s.sign_orders([order])
    with pytest.raises(SigningError, match="float_to_wire causes rounding"):
        s.sign_orders([(0, True, 0.123456789, 1.0, False, "Alo")])
    for call in (
        lambda: s.sign_orders([]),
        lambda: s.sign_cancel([]),
        lambda: s.sign_cancel_by_cloid(()),
        lambda: s.sign_batch_modify([]),
    ):
        with pytest.raises(SigningError, match=r"= \[\]: must not be empty"):
            call()
    # Refused calls do not consume nonces.
    assert s.last_nonce == last


def test_fast_cancel_flag_is_true_or_absent() -> None:
    s = Signer(KEY)
    fast = json.loads(s.sign_cancel([(0, 5)], nonce=1))["action"]
    slow = json.loads(s.sign_cancel([(0, 5)], fast=False, nonce=1))["action"]
    assert fast == {"type": "cancel", "cancels": [{"a": 0, "o": 5}], "f": True}
    assert slow == {"type": "cancel", "cancels": [{"a": 0, "o": 5}]}
    by_cloid = json.loads(s.sign_cancel_by_cloid([(2, 1)], nonce=1))["action"]
    assert by_cloid == {
        "type": "cancelByCloid",
        "cancels": [{"asset": 2, "cloid": "0x" + "0" * 31 + "1"}],
        "f": True,
    }


def test_recover_request_detects_tampering_and_the_wrong_chain() -> None:
    s = Signer(KEY)
    body = s.sign_orders([(0, True, 60000.0, 0.001, False, "Alo")], nonce=42, expires_after=99)
    rec = recover_request(body, True)
    assert (rec.signer, rec.nonce, rec.expires_after, rec.action_type) == (ADDRESS, 42, 99, "order")
    assert recover_request(body, False).signer != ADDRESS
    tampered = body.replace(b'"p":"60000"', b'"p":"60001"')
    assert recover_request(tampered, True).signer != ADDRESS
    reordered = body.replace(b'"a":0,"b":true', b'"b":true,"a":0')
    assert recover_request(reordered, True).signer != ADDRESS
    for bad, msg in (
        (b"{}", "invalid action = missing"),
        (b"not json", "invalid request body JSON"),
        (body.replace(b'"nonce":42', b'"nonce":"42"'), "invalid nonce"),
        (body.replace(b'"v":', b'"v":3'), "invalid v"),
    ):
        with pytest.raises(SigningError, match=msg):
            recover_request(bad, True)


def test_generic_paths_refuse_what_msgpack_refuses() -> None:
    with pytest.raises(SigningError, match="cannot be serialized"):
        action_msgpack({"type": "x", "s": {1, 2}})
    with pytest.raises(SigningError, match="64-bit range"):
        action_msgpack({"type": "x", "n": 2**64})
    with pytest.raises(SigningError, match="invalid action JSON"):
        Signer(KEY).sign_action_json(b"{oops")
    assert action_msgpack({"b": b"\x00\x01", "t": (1, -1)}) == msgpack.packb(
        {"b": b"\x00\x01", "t": (1, -1)}
    )


# ---- the key never leaks ---------------------------------------------------------------------

SECRET = KEY[2:]
FRAGMENTS = [SECRET[i : i + 12] for i in range(0, 64, 12)]


def assert_no_key(text: str) -> None:
    low = text.lower()
    for frag in FRAGMENTS:
        assert frag not in low, text


def test_repr_str_and_pickling_never_show_the_key() -> None:
    s = Signer(KEY)
    assert_no_key(repr(s))
    assert_no_key(str(s))
    assert ADDRESS in repr(s)
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy, lambda o: o.__reduce_ex__(2)):
        with pytest.raises(SigningError) as e:
            attempt(s)
        assert_no_key(str(e.value))
        assert_no_key(repr(e.value.args))
    assert not hasattr(s, "__dict__")


@pytest.mark.parametrize(
    "bad",
    [
        SECRET[:-1],  # 63 digits
        SECRET + "0",  # 65 digits
        SECRET[:-2] + "zz",  # not hex
        "0x" + "f" * 64,  # above the curve order
        "0" * 64,  # zero
        SECRET[:32],
    ],
)
def test_bad_keys_raise_without_echoing_them(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = [
        lambda: Signer(bad),
        lambda: address_from_key(bad),
        lambda: sign_l1_action(bad, {"type": "noop"}, 1, None, None, True),
    ]
    monkeypatch.setenv("MMFAST_PRIVATE_KEY", bad)
    calls.append(Signer.from_env)
    for call in calls:
        with pytest.raises(SigningError) as e:
            call()
        text = f"{e.value} {e.value.args!r} {e.value!r}"
        assert "invalid private key" in text
        assert bad[:12] not in text and bad[-12:] not in text
        assert_no_key(text)


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMFAST_PRIVATE_KEY", KEY)
    s = Signer.from_env(is_mainnet=False)
    assert s.address == ADDRESS and s.is_mainnet is False
    monkeypatch.setenv("OTHER_KEY_VAR", SECRET)
    assert Signer.from_env("OTHER_KEY_VAR").address == ADDRESS
    monkeypatch.delenv("MMFAST_PRIVATE_KEY")
    with pytest.raises(SigningError, match="MMFAST_PRIVATE_KEY: environment variable is not set"):
        Signer.from_env()


def test_signing_errors_never_show_the_key() -> None:
    s = Signer(KEY)
    for call in (
        lambda: s.sign_orders([(0, True, 0.1234567891, 1.0, False, "Alo")]),
        lambda: s.sign_action_json(b"[1,"),
        lambda: s.sign_action({"type": object()}),
        lambda: s.sign_noop(vault="0x12"),
        lambda: sign_l1_action(KEY, {"x": {1}}, 1, None, None, True),
        lambda: sign_l1_action(KEY, {"type": "noop"}, 1, "nope", None, True),
    ):
        with pytest.raises(SigningError) as e:
            call()
        assert_no_key(f"{e.value} {e.value.args!r}")
