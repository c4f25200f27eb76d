"""`--compare` and its statistics: seeds and grids parsed with clear errors, the cartesian product
of jobs, t intervals and paired differences against hand computations, the table written as JSON
and CSV. The backtest is a stand-in here (a deterministic function of the job); the real
`run_job` is exercised end to end in tests/test_backtest_compare.py."""

from __future__ import annotations

import argparse
import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from mmfast.errors import InputError
from mmfast.research.compare import (
    add_compare_arguments,
    build_jobs,
    parse_compare,
    parse_seeds,
    run_compare_cli,
    run_comparison,
)
from mmfast.research.stats import mean_ci, paired_ci, t_quantile


@dataclass(frozen=True)
class FakeJob:
    market: str = "synthetic:default"
    seed: int = 1
    duration_s: float = 1800.0
    config: str | None = None
    overrides: tuple[tuple[str, object], ...] = ()


def fake_run_job(job: FakeJob) -> dict[str, Any]:
    """pnl = seed + duration/1800, plus 2 under skew_only, minus the floor; no markout on seed 3."""
    over = dict(job.overrides)
    pnl = job.seed + job.duration_s / 1800.0
    pnl += 2.0 if over.get("mode_policy") == "skew_only" else 0.0
    pnl -= float(over.get("ladder.min_half_spread_bps", 0.0))
    return {
        "pnl_total": pnl,
        "fills": job.seed * 10,
        "markout_5s_bps": None if job.seed == 3 else float(job.seed),
        "zone_time_frac": {"Green": 0.9, "Red": 0.1 * (job.market == "synthetic:toxic")},
    }


CONFIG_PATHS = ["mode_policy", "ladder.min_half_spread_bps", "ladder.num_levels", "lead_venue"]
JOB_FIELDS = ["market", "seed", "duration_s", "config", "overrides"]


def test_t_quantiles_match_tables() -> None:
    # Student t two-sided 95% and 99% critical values (any statistics table).
    for df, q975, q995 in [(1, 12.7062, 63.6567), (5, 2.5706, 4.0321), (19, 2.0930, 2.8609)]:
        assert t_quantile(0.975, df) == pytest.approx(q975, abs=1e-4)
        assert t_quantile(0.995, df) == pytest.approx(q995, abs=1e-4)
    assert t_quantile(0.025, 19) == pytest.approx(-2.0930, abs=1e-4)
    est = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert est.mean == 3.0 and est.std == pytest.approx(math.sqrt(2.5))
    assert est.high == pytest.approx(3.0 + 2.776445 * math.sqrt(2.5) / math.sqrt(5), abs=1e-6)
    assert mean_ci([7.0]).low is None
    # Differences 2.0, 2.1, 1.9: s = 0.1, half-width t(0.975, 2) * 0.1 / sqrt(3) = 0.2484.
    diff = paired_ci([3.0, 4.1, 4.9], [1.0, 2.0, 3.0])
    assert diff.mean == pytest.approx(2.0) and diff.excludes_zero
    assert diff.half_width == pytest.approx(4.302653 * 0.1 / math.sqrt(3), abs=1e-6)
    assert not paired_ci([3.0, 5.0, 4.0], [1.0, 2.0, 3.0]).excludes_zero  # 2, 3, 1: too noisy


def test_parse_seeds() -> None:
    assert parse_seeds("1-20") == list(range(1, 21))
    assert parse_seeds("4, 1,7-9") == [4, 1, 7, 8, 9]
    for bad, message in [
        ("a", "'a' is not a seed or a range"),
        ("5-3", "runs backwards; write 3-5"),
        ("1,2,1-3", "names a seed twice"),
    ]:
        with pytest.raises(InputError, match=message):
            parse_seeds(bad)


def test_parse_compare() -> None:
    grid = parse_compare(
        [
            "mode_policy=seed,skew_only",
            "min_half_spread_bps=2.5,5",
            "market=synthetic:toxic",
            "market.toxic_impact_bps=0,0.5",
        ],
        config_paths=CONFIG_PATHS,
        job_fields=JOB_FIELDS,
    )
    assert grid == [
        ("mode_policy", ["seed", "skew_only"]),
        ("ladder.min_half_spread_bps", ["2.5", "5"]),
        ("market", ["synthetic:toxic"]),
        ("market.toxic_impact_bps", ["0", "0.5"]),
    ]
    for specs, message in [
        (["mode_policy"], "write KEY=V1,V2"),
        (["mode_policy=seed,"], "write KEY=V1,V2"),
        (["seed=1,2"], "seeds are given with --seeds"),
        (["mode_polcy=seed"], "mode_polcy: no such config field or backtest option"),
        (["levels=1,2"], "did you mean ladder.num_levels"),
        (["lead_venue=none", "lead_venue=binance"], "given twice"),
        (["lead_venue=none,none"], "a value is listed twice"),
        ([], "at least one"),
    ]:
        with pytest.raises(InputError, match=message):
            parse_compare(specs, config_paths=CONFIG_PATHS, job_fields=JOB_FIELDS)


def test_build_jobs_is_the_product_times_seeds() -> None:
    base = FakeJob(duration_s=60.0, overrides=(("ladder.num_levels", "3"),))
    grid = [("mode_policy", ["seed", "skew_only"]), ("duration_s", ["30", "90"])]
    configs, jobs = build_jobs(base, grid, [1, 2])
    assert configs == [
        {"mode_policy": "seed", "duration_s": "30"},
        {"mode_policy": "seed", "duration_s": "90"},
        {"mode_policy": "skew_only", "duration_s": "30"},
        {"mode_policy": "skew_only", "duration_s": "90"},
    ]
    assert len(jobs) == 8
    assert jobs[3] == FakeJob(
        seed=2,
        duration_s=90.0,
        overrides=(("ladder.num_levels", "3"), ("mode_policy", "seed")),
    )
    with pytest.raises(InputError, match="duration_s: 'long' is not a float"):
        build_jobs(base, [("duration_s", ["long"])], [1])


def test_comparison_statistics_by_hand() -> None:
    grid = [("mode_policy", ["seed", "skew_only"]), ("ladder.min_half_spread_bps", ["0", "1"])]
    seeds = [1, 2, 3, 4, 5]
    cmp = run_comparison(
        fake_run_job,
        FakeJob(),
        grid,
        seeds,
        metrics=["pnl_total", "markout_5s_bps", "zone_time_frac.Green"],
        backend="local",
        n_jobs=2,
        progress=False,
    )
    # Baseline pnl per seed: seed + 1 = 2..6: mean 4, s = sqrt(2.5), t(0.975, 4) = 2.776445.
    base = cmp.estimate(0, "pnl_total")
    assert base is not None and base.mean == 4.0 and base.n == 5
    assert base.half_width == pytest.approx(2.776445 * math.sqrt(2.5 / 5), abs=1e-6)
    # skew_only adds exactly 2 on every seed: the paired difference has no spread at all,
    # while the unpaired intervals overlap (the case pairing exists for).
    assert cmp.label(2) == "mode_policy=skew_only, ladder.min_half_spread_bps=0"
    diff = cmp.difference(2, "pnl_total")
    assert diff is not None and (diff.mean, diff.low, diff.high) == (2.0, 2.0, 2.0)
    assert cmp.difference(3, "pnl_total").mean == pytest.approx(1.0)  # +2 - 1
    # Seed 3 has no markout: 4 values, mean of 1, 2, 4, 5.
    markout = cmp.estimate(0, "markout_5s_bps")
    assert markout is not None and markout.n == 4 and markout.mean == 3.0
    assert cmp.estimate(1, "zone_time_frac.Green").mean == pytest.approx(0.9)
    rows = cmp.rows()
    assert len(rows) == 4 * 3 and rows[0]["diff_vs_baseline"] is None
    # Every baseline pnl (2..6) is above 0; the counts ride along in the rows.
    assert cmp.positive(0, "pnl_total") == (5, 5) and rows[0]["positive_seeds"] == [5, 5]
    assert cmp.positive(0, "markout_5s_bps") == (4, 4)


def _args(tmp_path: Path, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--report")
    add_compare_arguments(parser)
    return parser.parse_args(["--report", str(tmp_path / "out"), *argv])


def test_cli_prints_and_writes_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _args(
        tmp_path,
        "--compare",
        "mode_policy=seed,skew_only",
        "--seeds",
        "1-4",
        "--jobs",
        "2",
        "--metric",
        "pnl_total",
        "--metric",
        "fills",
    )
    assert run_compare_cli(args, FakeJob(), fake_run_job) == 0
    out = capsys.readouterr()
    assert "4 seeds: mean ± 95% CI" in out.out and "Δ skew_only" in out.out
    assert "+2 ± 0 *" in out.out
    doc = orjson.loads((tmp_path / "out" / "compare.json").read_bytes())
    assert doc["seeds"] == [1, 2, 3, 4] and len(doc["runs"]) == 8
    assert doc["table"][2]["diff_vs_baseline"]["mean"] == 2.0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "compare.csv").read_text())))
    assert rows[0]["mode_policy"] == "seed" and rows[0]["metric"] == "pnl_total"
    assert float(rows[0]["mean"]) == 3.5 and rows[0]["diff_mean"] == ""
    assert float(rows[2]["diff_mean"]) == 2.0


def test_cli_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _args(tmp_path, "--compare", "mode_polcy=seed,skew_only", "--seeds", "1-2")
    assert run_compare_cli(args, FakeJob(), fake_run_job) == 2
    err = capsys.readouterr().err
    assert "mode_polcy: no such config field" in err and "Traceback" not in err
    args = _args(tmp_path, "--compare", "mode_policy=seed", "--seeds", "x")
    assert run_compare_cli(args, FakeJob(), fake_run_job) == 2
    assert "--seeds: 'x'" in capsys.readouterr().err
    args = _args(tmp_path, "--compare", "mode_policy=seed,sed", "--seeds", "1-2")
    assert run_compare_cli(args, FakeJob(), fake_run_job) == 2
    assert "--compare mode_policy=sed: unknown variant `sed`" in capsys.readouterr().err


def test_backtest_compare_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`mmfast backtest --compare` on the real run_job: a two-value comparison, two seeds."""
    from mmfast.cli import main

    argv = ["backtest", "--duration", "20", "--compare", "strategy=glft,avellaneda_stoikov"]
    argv += ["--seeds", "1-2", "--jobs", "2", "--report", str(tmp_path), "--metric", "fills"]
    assert main(argv) == 0
    doc = orjson.loads((tmp_path / "compare.json").read_bytes())
    assert [r["config"]["strategy"] for r in doc["runs"]] == ["glft"] * 2 + [
        "avellaneda_stoikov"
    ] * 2
    assert all(r["summary"]["invariant_breaches"] == 0 for r in doc["runs"])
    assert "Δ avellaneda_stoikov" in capsys.readouterr().out
    assert main(["backtest", "--compare", "strategy=glft,as", "--seeds", "1"]) == 2
    assert "unknown variant `as`" in capsys.readouterr().err
