"""`mmfast backtest --compare KEY=V1,V2,... --seeds 1-20`: the same events under each config and
seed, fanned out by `run_jobs`, summarised as means with 95% confidence intervals (Student's t)
and paired differences against the first config (issue 11 item 5).

A KEY is either a config path (`mode_policy`, `reconcile.max_bps_diff`: applied as the job's
overrides, the way `MMFAST_` variables are), a market, venue or backtest override
(`market.toxic_impact_bps`, `venue.maker_fee_bps`), or a field of the backtest `Job` itself
(`market`, `config`, `order_latency`, `duration_s`, ...). Several `--compare` flags form their
cartesian product; the first value of each makes the baseline. Each seed is one market history
that every config sees, so differences are taken per seed (paired): the market's own variance
cancels.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from mmfast.backtest.job import SCOPES
from mmfast.errors import InputError
from mmfast.research.execution import run_jobs
from mmfast.research.stats import Estimate, mean_ci, paired_ci

__all__ = [
    "DEFAULT_METRICS",
    "Comparison",
    "build_jobs",
    "parse_compare",
    "parse_seeds",
    "run_comparison",
]

#: The summary fields a comparison shows unless `--metric` says otherwise.
DEFAULT_METRICS = (
    "pnl_total",
    "pnl_spread",
    "pnl_inventory",
    "pnl_fees",
    "fills",
    "volume_usd",
    "max_abs_position",
    "markout_5s_bps",
    "zone_time_frac.Green",
    "zone_time_frac.Yellow",
    "invariant_breaches",
)
#: The metric whose positive seeds the table counts (issue 14: "PnL positive on 18 of 20").
COUNT_POSITIVE = "pnl_total"
#: Job fields that a comparison never varies: they are what it pairs on or composes.
_NOT_COMPARABLE = ("seed", "overrides")
_MAX_SEEDS = 100_000


def parse_seeds(text: str) -> list[int]:
    """`"1-20"`, `"3"`, `"1,2,7-9"` -> the seeds in order, duplicates refused."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        try:
            first = int(lo)
            last = int(hi) if sep else first
        except ValueError:
            raise InputError(
                f"--seeds: {part!r} is not a seed or a range; write e.g. 1-20 or 1,2,7-9"
            ) from None
        if last < first:
            raise InputError(f"--seeds: range {part!r} runs backwards; write {last}-{first}")
        if last - first >= _MAX_SEEDS:
            raise InputError(f"--seeds: range {part!r} is larger than {_MAX_SEEDS} seeds")
        seeds.extend(range(first, last + 1))
    if len(set(seeds)) != len(seeds):
        raise InputError(f"--seeds: {text!r} names a seed twice")
    return seeds


def parse_compare(
    specs: Sequence[str], *, config_paths: Iterable[str], job_fields: Iterable[str]
) -> list[tuple[str, list[str]]]:
    """`["mode_policy=seed,skew_only", ...]` -> `[("mode_policy", ["seed", "skew_only"]), ...]`,
    each key checked against the config's known paths and the job's fields."""
    known_config = set(config_paths)
    known_job = set(job_fields) - set(_NOT_COMPARABLE)
    grid: list[tuple[str, list[str]]] = []
    for spec in specs:
        key, sep, rest = spec.partition("=")
        key = key.strip()
        values = [v.strip() for v in rest.split(",")] if sep else []
        if not key or not values or any(not v for v in values):
            raise InputError(
                f"--compare {spec!r}: write KEY=V1,V2,... e.g. --compare mode_policy=seed,skew_only"
            )
        if key in _NOT_COMPARABLE:
            raise InputError(
                f"--compare {key}: {key} is not compared; seeds are given with --seeds"
                if key == "seed"
                else f"--compare {key}: give each config path as its own KEY"
            )
        # market.* / venue.* / backtest.* overrides: checked by the run itself (an unknown one
        # fails the first job with a message naming it).
        scoped = key.partition(".")[0] in SCOPES and "." in key
        if key not in known_config and key not in known_job and not scoped:
            # A unique leaf stands for its full path: min_half_spread_bps -> ladder.min_...
            leaf = [p for p in known_config if p.endswith("." + key)]
            if len(leaf) == 1:
                key = leaf[0]
            else:
                near = leaf or sorted(
                    p for p in known_config | known_job if key.split(".")[-1] in p
                )
                hint = f"; did you mean {', '.join(near[:5])}?" if near else ""
                raise InputError(f"--compare {key}: no such config field or backtest option{hint}")
        if any(k == key for k, _ in grid):
            raise InputError(f"--compare {key}: given twice; list all its values in one flag")
        if len(set(values)) != len(values):
            raise InputError(f"--compare {spec!r}: a value is listed twice")
        grid.append((key, values))
    if not grid:
        raise InputError("--compare needs at least one KEY=V1,V2,...")
    return grid


def check_config_values(grid: Sequence[tuple[str, Sequence[str]]], config_paths: Any) -> None:
    """Validates each config value on its own, before any job runs: a typo in the last value
    should not cost the whole grid. Raises `InputError` naming key, value and reason."""
    from mmfast._core import MarketMakerConfig
    from mmfast.errors import ConfigError

    known = set(config_paths)
    for key, values in grid:
        if key not in known:
            continue
        for value in values:
            try:
                # The smallest valid config (limits are required) plus this one override.
                MarketMakerConfig.from_toml("max_position = 1.0\n", "--compare", [(key, value)])
            except ConfigError as exc:
                reasons = [
                    reason for field, _, reason in exc.violations if field in (key, "<value>")
                ]
                if reasons:
                    raise InputError(f"--compare {key}={value}: {'; '.join(reasons)}") from None


def _job_value(job: Any, key: str, raw: str) -> Any:
    current = getattr(job, key)
    kind = type(current)
    if kind is bool:
        lowered = raw.lower()
        if lowered not in ("true", "false", "1", "0"):
            raise InputError(f"--compare {key}: {raw!r} is not true or false")
        return lowered in ("true", "1")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise InputError(f"--compare {key}: {raw!r} is not a {kind.__name__}") from None
    return raw


def build_jobs(
    base: Any, grid: Sequence[tuple[str, Sequence[str]]], seeds: Sequence[int]
) -> tuple[list[dict[str, str]], list[Any]]:
    """The cartesian product of the grid (first values first: the baseline) times the seeds, as
    jobs derived from `base`: config keys appended to its overrides, job fields replaced."""
    job_fields = {f.name for f in dataclasses.fields(base)}
    configs = [
        dict(zip([k for k, _ in grid], combo, strict=True))
        for combo in itertools.product(*(values for _, values in grid))
    ]
    jobs = []
    for config in configs:
        replaced = {k: _job_value(base, k, v) for k, v in config.items() if k in job_fields}
        overrides = tuple(base.overrides) + tuple(
            (k, v) for k, v in config.items() if k not in job_fields
        )
        for seed in seeds:
            jobs.append(dataclasses.replace(base, seed=seed, overrides=overrides, **replaced))
    return configs, jobs


def _flatten(summary: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass
class Comparison:
    """Every run's summary, by config and seed, and the statistics over them."""

    keys: list[str]
    configs: list[dict[str, str]]
    seeds: list[int]
    metrics: list[str]
    #: summaries[config index][seed index], flattened (`zone_time_frac.Red`).
    summaries: list[list[dict[str, Any]]] = field(repr=False)
    level: float = 0.95

    def label(self, index: int) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.configs[index].items())

    def values(self, config: int, metric: str) -> list[float | None]:
        return [_number(s.get(metric)) for s in self.summaries[config]]

    def estimate(self, config: int, metric: str) -> Estimate | None:
        present = [v for v in self.values(config, metric) if v is not None]
        return mean_ci(present, self.level) if present else None

    def positive(self, config: int, metric: str) -> tuple[int, int]:
        """Seeds where `metric` is above 0, and seeds that have it."""
        present = [v for v in self.values(config, metric) if v is not None]
        return sum(v > 0 for v in present), len(present)

    def difference(self, config: int, metric: str) -> Estimate | None:
        """Per-seed `config - baseline`, over the seeds where both have the metric."""
        pairs = [
            (v, b)
            for v, b in zip(self.values(config, metric), self.values(0, metric), strict=True)
            if v is not None and b is not None
        ]
        if not pairs:
            return None
        return paired_ci([v for v, _ in pairs], [b for _, b in pairs], self.level)

    def rows(self) -> list[dict[str, Any]]:
        """One row per config and metric: its mean and interval, and its paired difference
        against the baseline (None for the baseline itself)."""
        rows = []
        for index, config in enumerate(self.configs):
            for metric in self.metrics:
                est = self.estimate(index, metric)
                diff = self.difference(index, metric) if index else None
                rows.append(
                    {
                        "config": config,
                        "metric": metric,
                        "estimate": est.as_dict() if est else None,
                        "diff_vs_baseline": diff.as_dict() if diff else None,
                        "positive_seeds": list(self.positive(index, metric)),
                    }
                )
        return rows

    def to_json(self) -> bytes:
        doc = {
            "keys": self.keys,
            "baseline": self.configs[0],
            "seeds": self.seeds,
            "confidence": self.level,
            "interval": "Student t, two-sided; differences paired by seed",
            "table": self.rows(),
            "runs": [
                {"config": config, "seed": seed, "summary": summary}
                for config, runs in zip(self.configs, self.summaries, strict=True)
                for seed, summary in zip(self.seeds, runs, strict=True)
            ],
        }
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        stat = ["mean", "ci_low", "ci_high", "std", "n"]
        writer.writerow([*self.keys, "metric", *stat, *(f"diff_{s}" for s in stat)])
        for row in self.rows():
            est = row["estimate"] or {}
            diff = row["diff_vs_baseline"] or {}
            writer.writerow(
                [
                    *(row["config"][k] for k in self.keys),
                    row["metric"],
                    *(_cell(est.get(s)) for s in stat),
                    *(_cell(diff.get(s)) for s in stat),
                ]
            )
        return buf.getvalue()

    def write(self, folder: Path) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        json_path, csv_path = folder / "compare.json", folder / "compare.csv"
        json_path.write_bytes(self.to_json())
        csv_path.write_text(self.to_csv(), encoding="utf-8")
        return json_path, csv_path

    def render(self, console: Any) -> None:
        """One rich table, a row per metric: each config's mean with its interval, then each
        config's paired difference against the baseline (* when the interval excludes 0)."""
        from rich.table import Table

        pct = f"{self.level:.0%}"
        table = Table(
            title=f"{len(self.seeds)} seeds: mean ± {pct} CI half-width (Student t); "
            f"Δ = paired per-seed difference vs the baseline (first column); "
            "* = its interval excludes 0",
            title_justify="left",
        )
        table.caption = f"columns: {' / '.join(self.keys)}"
        table.add_column("metric", no_wrap=True)
        heads = [" / ".join(c.values()) for c in self.configs]
        for head in heads:
            table.add_column(head, justify="right", overflow="fold")
        for head in heads[1:]:
            table.add_column("Δ " + head, justify="right", overflow="fold")
        for metric in self.metrics:
            cells = [_fmt(self.estimate(i, metric)) for i in range(len(self.configs))]
            for i in range(1, len(self.configs)):
                d = self.difference(i, metric)
                cells.append(_fmt(d, signed=True) + (" *" if d and d.excludes_zero else ""))
            table.add_row(metric, *cells)
        if COUNT_POSITIVE in self.metrics:
            counts = [self.positive(i, COUNT_POSITIVE) for i in range(len(self.configs))]
            table.add_row(
                f"seeds {COUNT_POSITIVE} > 0",
                *(f"{k}/{n}" for k, n in counts),
                *([""] * (len(self.configs) - 1)),
            )
        console.print(table)


def _cell(value: Any) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _fmt(est: Estimate | None, *, signed: bool = False) -> str:
    if est is None:
        return "n/a"
    sign = "+" if signed else ""
    mean = f"{est.mean:{sign}.4g}"
    half = est.half_width
    return mean if half is None else f"{mean} ± {half:.2g}"


def run_comparison(
    fn: Callable[[Any], dict[str, Any]],
    base: Any,
    grid: Sequence[tuple[str, Sequence[str]]],
    seeds: Sequence[int],
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
    backend: str = "local",
    n_jobs: int | None = None,
    progress: bool = True,
    level: float = 0.95,
) -> Comparison:
    """Runs `fn` (the backtest's `run_job`) on every config x seed and collects the summaries."""
    if not seeds:
        raise InputError("--seeds: no seeds to run")
    configs, jobs = build_jobs(base, grid, seeds)
    flat: list[dict[str, Any] | None] = [None] * len(jobs)
    label = f"{len(configs)} configs x {len(seeds)} seeds"
    for index, summary in run_jobs(
        fn, jobs, backend=backend, n_jobs=n_jobs, progress=progress, label=label
    ):
        flat[index] = _flatten(summary)
    per_config = [
        [s for s in flat[i * len(seeds) : (i + 1) * len(seeds)] if s is not None]
        for i in range(len(configs))
    ]
    return Comparison(
        keys=[k for k, _ in grid],
        configs=configs,
        seeds=list(seeds),
        metrics=list(metrics),
        summaries=per_config,
        level=level,
    )


# --- command line (mounted on `mmfast backtest` by cli/backtest.py) ---------------------------

#: Where the table goes when `--report` is not given.
DEFAULT_COMPARE_DIR = "mmfast-compare"


def add_compare_arguments(parser: Any) -> None:
    """Adds `--compare`, `--seeds`, `--jobs`, `--backend` and `--metric` to a parser."""
    group = parser.add_argument_group(
        "comparison (runs every config x seed; see mmfast.research.compare)"
    )
    group.add_argument(
        "--compare",
        action="append",
        metavar="KEY=V1,V2,...",
        help="compare values of a config path (mode_policy, ladder.min_half_spread_bps, ...) "
        "or backtest option (market, order_latency, ...); repeat for a cartesian product; "
        "the first values are the baseline",
    )
    group.add_argument(
        "--seeds",
        metavar="LIST",
        help="seeds to run each config on, e.g. 1-20 or 1,2,7-9 (default with --compare: 1-20)",
    )
    group.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: the core count)",
    )
    group.add_argument(
        "--backend",
        default="local",
        metavar="NAME",
        help="where jobs run: local (processes, default), inprocess, or a cluster address",
    )
    group.add_argument(
        "--cluster",
        dest="backend",
        metavar="ADDR",
        help="run on a cluster: tcp://HOST:PORT (Dask scheduler) or auto (same as --backend)",
    )
    group.add_argument(
        "--metric",
        action="append",
        metavar="NAME",
        help=f"summary field to tabulate (repeatable; default: {', '.join(DEFAULT_METRICS)})",
    )


def run_compare_cli(args: Any, base: Any, fn: Callable[[Any], dict[str, Any]] | None = None) -> int:
    """`mmfast backtest --compare ...`: runs the grid on `base` (the Job the other flags built),
    prints the tables, writes compare.json and compare.csv under `--report` (default
    ./mmfast-compare). Returns the exit code: 0 done, 1 a job failed, 2 a usage error."""
    from rich.console import Console

    from mmfast.errors import MmfastError
    from mmfast.research.execution import JobError

    err = Console(stderr=True)
    try:
        from mmfast._core import MarketMakerConfig

        grid = parse_compare(
            args.compare,
            config_paths=MarketMakerConfig.known_paths(),
            job_fields=[f.name for f in dataclasses.fields(base)],
        )
        check_config_values(grid, MarketMakerConfig.known_paths())
        seeds = parse_seeds(args.seeds or "1-20")
        if fn is None:
            from mmfast.backtest import run_job as fn
        comparison = run_comparison(
            fn,
            base,
            grid,
            seeds,
            metrics=args.metric or DEFAULT_METRICS,
            backend=args.backend,
            n_jobs=args.jobs,
            progress=True,
        )
    except JobError as exc:
        err.print(f"mmfast backtest --compare: {exc}", markup=False, highlight=False)
        return 1
    except InputError as exc:
        err.print(f"mmfast backtest: {exc}", markup=False, highlight=False)
        return 2
    except MmfastError as exc:
        err.print(f"mmfast backtest --compare: {exc}", markup=False, highlight=False)
        return 1
    missing = [
        m for m in comparison.metrics if all(m not in s for r in comparison.summaries for s in r)
    ]
    if missing:
        err.print(
            f"note: {', '.join(missing)} not in the summaries (shown as n/a)",
            markup=False,
            highlight=False,
        )
    comparison.render(Console())
    folder = Path(getattr(args, "report", None) or DEFAULT_COMPARE_DIR)
    json_path, csv_path = comparison.write(folder)
    err.print(f"wrote {json_path} and {csv_path}", markup=False, highlight=False)
    return 0
