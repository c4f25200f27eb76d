"""`mmfast tune`: the space file is validated against the config's fields, the objective is
hand-computed, a study finds the optimum of a known function and is resumable, the held-out
check is paired by seed, best.toml loads with the loader `paper` and `run` use."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import tomllib
from mmfast._core import MarketMakerConfig
from mmfast.cli import main
from mmfast.config import load_config
from mmfast.errors import InputError
from mmfast.research.tune import (
    Objective,
    parse_space,
    run_tune,
    rung_bounds,
    write_best,
    write_report,
)
from research_jobs import StandinJob, standin_run_job

pytest.importorskip("optuna", reason="needs mmfast[research]")
KNOWN = MarketMakerConfig.known_paths()
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_example_space_parses() -> None:
    doc = tomllib.loads((EXAMPLES / "space.toml").read_text())
    space = parse_space(doc, KNOWN, "space.toml")
    paths = [p.path for p in space.params]
    assert paths == ["ladder.min_half_spread_bps", "risk_aversion", "mode_policy"]
    assert space.params[1].log and space.params[2].choices == ("seed", "skew_only")
    assert space.objective == Objective(50.0, 1000.0)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"ladder": {"min_half_spred_bps": {"low": 1, "high": 2}}},
         "ladder.min_half_spred_bps is not a config field"),
        ({"risk_aversion": {"low": 0.0, "high": 1.0, "log": True}}, "log range needs low > 0"),
        ({"risk_aversion": {"low": 2.0, "high": 1.0}}, "low (2.0) must be below high (1.0)"),
        ({"risk_aversion": {"low": 1.0}}, "needs both low and high"),
        ({"risk_aversion": 0.1}, "each searched path is a table"),
        ({"mode_policy": {"choices": []}}, "non-empty list"),
        ({"risk_aversion": {"low": 0.0, "high": 1.0, "lo": 3}}, "unknown key(s) ['lo']"),
        ({"objective": {"zone_penalty": 1.0}, "risk_aversion": {"low": 0.0, "high": 1.0}},
         "[objective] takes only"),
        ({}, "names no parameter"),
    ],
)
def test_bad_space_names_the_path(doc: dict, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_space(doc, KNOWN, "s.toml")
    assert message in str(info.value)


def test_objective_score_by_hand() -> None:
    summary = {"pnl_total": 12.5, "invariant_breaches": 1,
               "zone_time_frac": {"Green": 0.7, "Yellow": 0.1, "Red": 0.15, "Kill": 0.05}}
    # 12.5 - 40 * (0.15 + 0.05) - 100 * 1 = -95.5
    assert Objective(40.0, 100.0).score(summary) == pytest.approx(-95.5)


def test_rungs_cover_every_seed_once() -> None:
    assert rung_bounds(5, 3) == [(0, 2), (2, 3), (3, 5)]
    assert rung_bounds(1, 3) == [(0, 1)]
    assert rung_bounds(20, 1) == [(0, 20)]


def _space() -> object:
    return parse_space({"risk_aversion": {"low": 0.0, "high": 0.1}}, KNOWN)


def test_study_finds_the_optimum_and_checks_it_on_held_out_seeds(tmp_path: Path) -> None:
    # The stand-in's PnL peaks at risk_aversion = 0.05 (10 - 2000 (x - 0.05)^2 + N(0, 1) noise
    # per seed, the same noise for every config on a seed): the default 0.02 loses 1.8 USD.
    result = run_tune(
        standin_run_job, StandinJob(), _space(), trials=12, seeds=[1, 2, 3],
        holdout_seeds=[101, 102, 103, 104], out=tmp_path, backend="inprocess",
        progress=False,
    )
    assert result.trials_done == 12
    assert abs(result.best_params["risk_aversion"] - 0.05) < 0.02
    # Paired by seed, the shared noise cancels: the difference is the deterministic gain.
    gain = 2000 * (0.02 - 0.05) ** 2 - 2000 * (result.best_params["risk_aversion"] - 0.05) ** 2
    assert result.diff.mean == pytest.approx(gain)
    assert result.diff.low == pytest.approx(gain) and result.diff.excludes_zero
    start = MarketMakerConfig.from_toml("capital_usd = 1000.0\n", "<t>", [])
    best_cfg = MarketMakerConfig.from_toml(
        start.to_toml(), "<t>", [("risk_aversion", repr(result.best_params["risk_aversion"]))]
    )
    best = write_best(tmp_path, best_cfg.to_toml(), result.best_params)
    cfg = load_config(best)
    assert math.isclose(cfg.risk_aversion, result.best_params["risk_aversion"], rel_tol=0,
                        abs_tol=0)
    report = write_report(tmp_path, result.study, result)
    assert "plotly" in report.read_text()[:200_000].lower()


def test_rerun_continues_the_study_and_refuses_another_space(tmp_path: Path) -> None:
    kw = dict(seeds=[1, 2], holdout_seeds=[101, 102], out=tmp_path, backend="inprocess",
              progress=False)
    first = run_tune(standin_run_job, StandinJob(), _space(), trials=3, **kw)
    second = run_tune(standin_run_job, StandinJob(), _space(), trials=5, **kw)
    assert (first.trials_done, second.trials_done) == (3, 5)
    assert len(second.study.trials) == 5  # two more, not five more
    other = parse_space({"risk_aversion": {"low": 0.0, "high": 0.2}}, KNOWN)
    with pytest.raises(InputError, match="another space"):
        run_tune(standin_run_job, StandinJob(), other, trials=6, **kw)


def test_holdout_must_not_overlap_search_seeds(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="never sees"):
        run_tune(standin_run_job, StandinJob(), _space(), trials=1, seeds=[1, 2],
                 holdout_seeds=[2, 3], out=tmp_path, backend="inprocess", progress=False)


def test_cli_bad_space_exits_2_naming_the_field(tmp_path: Path, capsys) -> None:
    space = tmp_path / "s.toml"
    space.write_text("[ladder.no_such_field]\nlow = 1\nhigh = 2\n")
    assert main(["tune", "--space", str(space), "--trials", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "ladder.no_such_field is not a config field" in err and "Traceback" not in err
    assert main(["tune", "--space", str(tmp_path / "missing.toml"), "--trials", "1"]) == 2
    assert "file not found" in capsys.readouterr().err
    space.write_text("[ladder.min_half_spread_bps]\nlow = 1\nhigh = 2\n")
    assert main(["tune", "--space", str(space), "--trials", "1", "--out", str(tmp_path),
                 "--config", str(tmp_path / "nope.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_cli_tune_end_to_end(tmp_path: Path, capsys) -> None:
    pytest.importorskip("mmfast.backtest", reason="the backtester has not landed")
    space = tmp_path / "s.toml"
    space.write_text("[ladder.min_half_spread_bps]\nlow = 1.0\nhigh = 6.0\n")
    args = ["tune", "--space", str(space), "--trials", "2", "--seeds", "1-2", "--duration",
            "20", "--holdout-seeds", "11-12", "--out", str(tmp_path), "--jobs", "2", "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "best parameters: ladder.min_half_spread_bps=" in out
    cfg = load_config(tmp_path / "best.toml")
    assert 1.0 <= cfg.ladder.min_half_spread_bps <= 6.0
    assert (tmp_path / "tune_report.html").stat().st_size > 10_000


@pytest.mark.parametrize(
    ("blocked", "args", "needle"),
    [
        ("optuna", [], "pip install 'mmfast[research]'"),
        ("distributed", ["--cluster", "tcp://127.0.0.1:1"], "pip install 'mmfast[cluster]'"),
    ],
)
def test_cli_missing_extra_exits_2_naming_it(
    tmp_path: Path, blocked: str, args: list[str], needle: str
) -> None:
    import subprocess
    import sys

    space = tmp_path / "s.toml"
    space.write_text("[risk_aversion]\nlow = 0.01\nhigh = 0.1\n")
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "from mmfast.cli import main\n"
        f"sys.exit(main(['tune', '--space', {str(space)!r}, '--trials', '1', '--out', "
        f"{str(tmp_path)!r}, *{args!r}]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stderr
    assert needle in out.stderr and "Traceback" not in out.stderr


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    """The report is one self-contained file whose plots draw in a real browser (plotly turns
    each figure into `svg.main-svg` elements only when its inline JavaScript runs)."""
    from browser import chromium, rendered_dom

    chromium()  # skip (outside CI) before the study when there is no browser
    result = run_tune(
        standin_run_job, StandinJob(), _space(), trials=3, seeds=[1, 2],
        holdout_seeds=[101, 102], out=tmp_path, backend="inprocess", progress=False,
    )
    report = write_report(tmp_path, result.study, result)
    assert "<script src=" not in report.read_text()  # plotly.js inlined, no CDN
    dom = rendered_dom(report, tmp_path)
    assert "Held-out seeds [101, 102]" in dom
    # history, importances, parallel coordinates: each drawn (plotly makes 2 svg.main-svg each)
    assert dom.count('class="main-svg"') >= 6
