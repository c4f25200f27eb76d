"""`mmfast bench` for the engine area: the figures the issue names are printed, with --json as
the only stdout. No timing is asserted (figures vary by machine); only that they exist and are
well-formed, and that the benchmark state is the one the SPEC names."""

from __future__ import annotations

import math
import subprocess
import sys

import orjson
import pytest
from mmfast.benchmarks.engine import T0, reference_state, warm_engine


def test_benchmark_state_is_the_spec_state():
    e = warm_engine()
    assert len(e.orders) == 10
    assert sorted(o[2] for o in e.orders) == ["ask"] * 5 + ["bid"] * 5
    _, st = reference_state(e, T0 + 1_000)
    assert len(st.orders) == 10


@pytest.mark.timeout(120)
def test_bench_json_prints_engine_figures_and_baselines():
    out = subprocess.run(
        [sys.executable, "-m", "mmfast.cli", "bench", "--json", "--quick",
         "--only", "baseline", "--only", "engine"],
        capture_output=True, check=True, timeout=110,
    )  # fmt: skip
    figures = orjson.loads(out.stdout)  # the only thing on stdout is one JSON object
    for key in ("cycle_p50_us", "cycle_p99_us", "empty_call_ns", "python_reference_ratio"):
        assert key in figures and math.isfinite(figures[key]) and figures[key] > 0, key
    assert figures["cycle_p99_us"] >= figures["cycle_p50_us"]
    assert "errors" not in figures


def test_minimal_frame_source_answers_like_the_exchange() -> None:
    """The live bench's minimal source answers a post as the exchange does: every order of an
    `order` or `batchModify` resting under a new oid, every cancel a success, read by the
    gateway's own parser."""
    from mmfast.benchmarks.live import _post_answer
    from mmfast.gateway.responses import parse_post

    def post(action: dict) -> bytes:
        body = {"action": action, "nonce": 1, "signature": {}}
        return orjson.dumps(
            {"method": "post", "id": 7, "request": {"type": "action", "payload": body}}
        )

    wire = {
        "a": 0,
        "b": True,
        "p": "2999.5",
        "s": "0.01",
        "r": False,
        "t": {"limit": {"tif": "Alo"}},
    }
    answer, oid = _post_answer(post({"type": "order", "orders": [wire, wire]}), 100)
    assert oid == 102
    msg = orjson.loads(answer)
    assert msg["channel"] == "post" and msg["data"]["id"] == 7
    statuses = msg["data"]["response"]["payload"]["response"]["data"]["statuses"]
    assert statuses == [{"resting": {"oid": 101}}, {"resting": {"oid": 102}}]
    assert parse_post(msg["data"]["response"], 2).ok
    answer, oid = _post_answer(
        post({"type": "cancel", "cancels": [{"a": 0, "o": 101}, {"a": 0, "o": 102}]}), oid
    )
    assert oid == 102
    resp = orjson.loads(answer)["data"]["response"]
    assert resp["payload"]["response"]["data"]["statuses"] == ["success", "success"]
    assert parse_post(resp, 2).ok
