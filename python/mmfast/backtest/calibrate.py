"""`mmfast backtest --calibrate`: the engine's priors (sigma, kappa, A, the adverse-selection
buffer) fitted on a recording or a synthetic market by the engine's own estimators with
whole-sample memory (`mmfast_core::backtest::calibrate`), written as config TOML."""

from __future__ import annotations

from typing import Any

import orjson

from mmfast.backtest.job import Job
from mmfast.backtest.run import build

#: (config path, calibration field, comment) in the order they are written.
FIELDS = (
    ("stochastic.sigma_prior_bps", "sigma_bps", "volatility of the sweep-robust mid, bps/sqrt(s)"),
    ("stochastic.kappa_prior", "kappa", "taker depth decay per bps (max likelihood per order)"),
    ("stochastic.a_prior", "a_intensity", "taker orders per s per side"),
    ("ladder.as_prior_bps", "as_buffer_bps", "mean 5 s markout of taker orders, bps, floored at 0"),
)


def calibrate(job: Job) -> dict[str, Any]:
    """The calibration of `job`'s market (its recording, or `duration_s` of its synthetic
    market at its seed and block cadence) under `job`'s config bounds."""
    from mmfast._core import calibrate_recording, calibrate_synthetic

    cfg, spec = build(job)
    if job.hl:
        text = calibrate_recording(cfg, job.hl)
    else:
        asset = orjson.dumps(spec["sim"]["assets"][0]).decode()
        text = calibrate_synthetic(cfg, asset, job.seed, job.duration_s, job.block_ms)
    out: dict[str, Any] = orjson.loads(text)
    return out


def _fmt(x: float) -> str:
    """Four significant figures, always a TOML float (`0.0`, not `0`)."""
    return repr(float(f"{x:.4g}"))


def priors_toml(c: dict[str, Any], source: str) -> str:
    """The priors as a config fragment (sections `[stochastic]` and `[ladder]`), with a header
    saying what they were fitted on and the equivalent `--set` flags."""
    head = [
        f"# mmfast backtest --calibrate: priors fitted on {source}",
        f"# ({c['span_s']:.0f} s, {c['taker_orders']} taker orders, {c['returns']} returns;"
        f" robust kappa {_fmt(c['robust_kappa']) if c['robust_kappa'] else 'n/a'},"
        f" raw 5 s markout {c['markout_5s_bps']:+.3f} bps)",
        "# paste into your config, or pass as: "
        + " ".join(f"--set {path}={_fmt(c[key])}" for path, key, _ in FIELDS),
    ]
    lines = [*head]
    section = None
    for path, key, comment in FIELDS:
        sec, leaf = path.split(".")
        if sec != section:
            lines += ["", f"[{sec}]"]
            section = sec
        value = f"{leaf} = {_fmt(c[key])}"
        lines.append(f"{value:<30}# {comment}")
    return "\n".join(lines) + "\n"
