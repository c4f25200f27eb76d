"""`--chaos SPEC` parsing: every kind the issue names, and a bad spec is a clear error naming
the token (exit 2), before anything starts."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mmfast.errors import InputError
from mmfast.venue.chaos import REJECTIONS, Chaos, Event, parse_chaos


def test_the_issue_example_parses():
    s = parse_chaos(
        "drop_hl_ws@10s,freeze_hl_ws@20s+5s,drop_binance_ws@30s,reject=0.05,ack_loss=0.02,"
        "one_sided=0.05,rate_limit@1500ms+2s,seed=3"
    )
    assert s.events == [
        Event("drop_hl_ws", 10.0, 5.0),
        Event("freeze_hl_ws", 20.0, 5.0),
        Event("drop_binance_ws", 30.0, 5.0),
        Event("rate_limit", 1.5, 2.0),
    ]
    assert s.rates == {"reject": 0.05, "ack_loss": 0.02, "one_sided": 0.05}
    assert s.seed == 3


@pytest.mark.parametrize(
    "spec,token",
    [
        ("drop_hl_ws@10x", "drop_hl_ws@10x"),
        ("reject=1.5", "reject=1.5"),
        ("bogus=0.1", "bogus=0.1"),
        ("melt_ws@3s", "melt_ws@3s"),
        ("reject", "reject"),
        ("seed=x", "seed=x"),
    ],
)
def test_bad_tokens_are_named(spec, token):
    with pytest.raises(InputError, match=f"token '{token}'"):
        parse_chaos(f"ack_loss=0.1,{spec}")


def test_bad_spec_exits_2_from_the_command_line():
    r = subprocess.run(
        [sys.executable, "-m", "mmfast.cli", "paper", "--chaos", "freeze_hl_ws@soon"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "freeze_hl_ws@soon" in r.stderr and "Traceback" not in r.stderr


def test_timed_events_fire_once_and_rejections_cycle_through_every_string():
    c = Chaos("freeze_hl_ws@1s+2s,reject=1")
    assert c.due(0.5) == []
    (ev,) = c.due(1.0)
    c.start(ev, 1.0)
    assert c.hl_frozen(2.9) and not c.hl_frozen(3.1)
    assert c.due(5.0) == []
    texts = {c.rejection(4) for _ in range(len(REJECTIONS))}
    assert texts == {f"{t} asset=4" for t in REJECTIONS}
    assert c.counts["freeze_hl_ws"] == 1


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_@+=,.0123456789ms ", max_size=60))
def test_any_spec_text_parses_or_names_a_token(text):
    """Hypothesis over the Python-side parser: a spec or an InputError, nothing else."""
    try:
        s = parse_chaos(text)
    except InputError as e:
        assert "token" in str(e)
        return
    assert all(0.0 <= p <= 1.0 for p in s.rates.values())
    assert all(ev.at_s >= 0 and ev.duration_s >= 0 for ev in s.events)
