"""`mmfast tune`: search config parameters with Optuna, each trial a set of backtests over seeds
(locally or on a Dask cluster), then check the best config on held-out seeds. See
`mmfast.research.tune`. Exit codes: 0 done, 1 a backtest or the cluster failed, 2 usage."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mmfast.cli.backtest import add_job_arguments
from mmfast.cli.common import HelpFormatter

DESCRIPTION = """\
Search config parameters with Optuna (TPE by default). Each trial runs backtests over --seeds;
its value is the mean PnL net of fees minus penalties for time in Red/Kill and for invariant
breaches (set in the space file's [objective] table); clearly worse trials are pruned after
their first seeds. The study is kept in DIR/study.db: rerunning the same command continues it
up to --trials. At the end the best config and the starting one are compared on held-out seeds
the search never saw; DIR gets best.toml (runnable with `mmfast paper --config`), result.json
and tune_report.html (optimisation history, parameter importances).

Space file (TOML): each searched config path is a table, a range or choices:
  [ladder.min_half_spread_bps]
  low = 1.0
  high = 8.0
  [mode_policy]
  choices = ["seed", "skew_only"]
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "tune",
        help="search config parameters with Optuna over backtests (locally or on a cluster)",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--space", required=True, metavar="SPACE.toml", help="the search space")
    p.add_argument("--trials", required=True, type=int, metavar="N",
                   help="finished trials the study should have (a rerun continues to N)")
    p.add_argument("--out", default=".", metavar="DIR",
                   help="study.db, best.toml, result.json, tune_report.html (default: .)")
    add_job_arguments(p, seed=False)  # the data, venue and bot options of `backtest`
    p.add_argument("--seeds", default="1-5", metavar="LIST",
                   help="seeds every trial runs on, e.g. 1-20 (default 1-5)")
    search = p.add_argument_group("search")
    search.add_argument("--holdout-seeds", default="1001-1010", metavar="LIST",
                        help="seeds for the final best-vs-start check, disjoint from --seeds "
                        "(default 1001-1010)")
    search.add_argument("--sampler", default="tpe", choices=["tpe", "random", "qmc"],
                        help="Optuna sampler (default tpe)")
    search.add_argument("--sampler-seed", type=int, default=0, metavar="N",
                        help="seed of the sampler (default 0: reproducible)")
    search.add_argument("--study", default="mmfast-tune", metavar="NAME",
                        help="study name in the storage (default mmfast-tune)")
    search.add_argument("--storage", metavar="URL",
                        help="Optuna storage URL (default sqlite:///DIR/study.db)")
    search.add_argument("--parallel", type=int, metavar="N",
                        help="trials evaluated together (default: enough to fill the workers)")
    search.add_argument("--rungs", type=int, default=3, metavar="N",
                        help="seed chunks between pruning checks (default 3)")
    ex = p.add_argument_group("execution")
    ex.add_argument("--jobs", type=int, metavar="N",
                    help="local worker processes (default: the core count)")
    ex.add_argument("--cluster", metavar="ADDR",
                    help="run the backtests on a Dask cluster: tcp://HOST:PORT, or auto "
                    "($DASK_SCHEDULER_ADDRESS or a local cluster); needs mmfast[cluster]")
    ex.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from mmfast.cli.backtest import MmfastUsage
    from mmfast.errors import ConfigError, InputError, MmfastError
    from mmfast.research.execution import JobError

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Console(highlight=False, soft_wrap=True)
    try:
        return _run(args, out, err)
    except JobError as exc:
        err.print(f"mmfast tune: {exc}", markup=False)
        return 1
    except (InputError, ConfigError, MmfastUsage) as exc:
        err.print(f"mmfast tune: {exc}", markup=False)
        return 2
    except MmfastError as exc:
        err.print(f"mmfast tune: {exc}", markup=False)
        return 1
    except KeyboardInterrupt:
        err.print(f"mmfast tune: interrupted; finished trials are kept in {args.out}: rerun "
                  "the same command to continue", markup=False)
        return 1


def _run(args: argparse.Namespace, out: Any, err: Any) -> int:
    import dataclasses
    import json

    from mmfast._core import MarketMakerConfig
    from mmfast.backtest import build, run_job
    from mmfast.cli.backtest import job_from_args
    from mmfast.errors import InputError
    from mmfast.research.compare import parse_seeds
    from mmfast.research.execution import run_jobs
    from mmfast.research.tune import (
        load_space,
        require_optuna,
        run_tune,
        with_params,
        write_best,
        write_report,
    )

    require_optuna()  # missing: say what to install before anything runs
    space = load_space(args.space, MarketMakerConfig.known_paths())
    seeds = parse_seeds(args.seeds)
    holdout = parse_seeds(args.holdout_seeds)
    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {args.jobs}")
    backend = args.cluster or "local"
    run_jobs(abs, [], backend=backend, progress=False)  # an unknown or uninstalled back end
    job = job_from_args(args)
    # Absolute paths: the jobs run in other processes, maybe on other machines.
    paths = {k: str(Path(v).resolve()) for k in ("config", "hl", "binance")
             if (v := getattr(job, k))}
    base = dataclasses.replace(job, **paths)
    start = build(base)[0]  # a bad config, recording or override fails here, before any trial
    folder = Path(args.out)
    result = run_tune(
        run_job, base, space,
        trials=args.trials, seeds=seeds, holdout_seeds=holdout, out=folder,
        base_toml=start.to_toml(), study_name=args.study, storage=args.storage,
        sampler=args.sampler, sampler_seed=args.sampler_seed, backend=backend,
        n_jobs=args.jobs, parallel=args.parallel, rungs=args.rungs,
        progress=not args.quiet, console=err,
    )
    # best.toml is the config the best trial's backtests ran with (the backtester's market,
    # limits and testnet network included), so `paper --config` replays what was measured.
    best_cfg = build(with_params(base, result.best_params))[0]
    best_path = write_best(folder, best_cfg.to_toml(), result.best_params)
    (folder / "result.json").write_text(
        json.dumps(result.as_dict(), indent=1, default=str), encoding="utf-8"
    )
    report = write_report(folder, result.study, result)
    _print(out, result, len(seeds))
    err.print(f"wrote {best_path}, {folder / 'result.json'} and {report}", markup=False)
    return 0


def _fmt(est: Any) -> str:
    if est.low is None:
        return f"{est.mean:+.4g}"
    return f"{est.mean:+.4g}  [{est.low:+.4g}, {est.high:+.4g}]"


def _print(console: Any, result: Any, n_seeds: int) -> None:
    from rich.table import Table

    params = ", ".join(f"{k}={v!r}" for k, v in result.best_params.items())
    console.print(
        f"study {result.study_name}: {result.trials_done} trials; best value "
        f"{result.best_value:+.4g} USD (mean score over {n_seeds} search seeds)\n"
        f"best parameters: {params}",
        markup=False,
    )
    t = Table(title=f"held-out seeds {result.holdout_seeds[0]}..{result.holdout_seeds[-1]} "
              f"({len(result.holdout_seeds)}, never searched): mean [95% CI], USD")
    t.add_column("")
    t.add_column("score (objective)", justify="right")
    t.add_column("pnl_total", justify="right")
    from mmfast.research.stats import mean_ci

    t.add_row("starting config", _fmt(result.base), _fmt(mean_ci(result.base_pnl)))
    t.add_row("best config", _fmt(result.best), _fmt(mean_ci(result.best_pnl)))
    t.add_row("best - starting (paired by seed)", _fmt(result.diff), _fmt(result.pnl_diff))
    console.print(t)
