"""`mmfast tune`: an Optuna search over config parameters, each trial a set of backtests over
seeds fanned out by `run_jobs` (issue 15).

The space file names config paths as TOML tables, each a range or a list of choices:

    [quote.min_half_spread_bps]            # or "quote.min_half_spread_bps" = { ... }
    low = 1.0
    high = 8.0
    log = false                            # optional; `step` too
    [mode_policy]
    choices = ["seed", "skew_only"]
    [objective]                            # optional: the penalties below, in USD
    zone_penalty_usd = 50.0                # per unit fraction of time in Red or Kill
    breach_penalty_usd = 1000.0            # per invariant breach

A trial's score on one seed is `pnl_total` (net of fees and funding) minus those penalties; its
value is the mean over the search seeds. Seeds run in rungs (a few seeds for every trial of a
batch, then the next few for the survivors); after each rung a trial reports its running mean
per seed and Optuna's median pruner stops clearly worse ones. The study lives in SQLite (`--out
DIR/study.db`): a rerun of the same command continues it up to `--trials` finished trials, and
trials a killed driver left running are run again. At the end the best config and the starting
config are run on held-out seeds the search never saw and compared per seed (paired, Student t).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import html
import itertools
import json
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from mmfast.errors import ConfigError, InputError
from mmfast.research.execution import _progress_bar, run_jobs
from mmfast.research.stats import Estimate, mean_ci, paired_ci

__all__ = [
    "SAMPLERS",
    "Objective",
    "Param",
    "Space",
    "TuneResult",
    "load_space",
    "parse_space",
    "require_optuna",
    "run_tune",
    "with_params",
    "write_best",
    "write_report",
]

SAMPLERS = ("tpe", "random", "qmc")
_RANGE_KEYS = {"low", "high", "log", "step"}
_OBJECTIVE_KEYS = {"zone_penalty_usd", "breach_penalty_usd"}
_MISSING_OPTUNA = "mmfast tune needs optuna: pip install 'mmfast[research]'"


@dataclass(frozen=True)
class Param:
    """One searched config path: a numeric range or a list of choices."""

    path: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def is_int(self) -> bool:
        return all(
            isinstance(v, int) and not isinstance(v, bool)
            for v in (self.low, self.high, self.step)
            if v is not None
        )

    def suggest(self, trial: Any) -> Any:
        if self.choices is not None:
            return trial.suggest_categorical(self.path, list(self.choices))
        if self.is_int:
            return trial.suggest_int(
                self.path,
                int(self.low),
                int(self.high),
                log=self.log,  # type: ignore[arg-type]
                step=int(self.step or 1),
            )
        return trial.suggest_float(
            self.path,
            float(self.low),
            float(self.high),  # type: ignore[arg-type]
            log=self.log,
            step=self.step,
        )


@dataclass(frozen=True)
class Objective:
    """The score of one backtest: PnL net of fees minus penalties (USD)."""

    zone_penalty_usd: float = 50.0
    breach_penalty_usd: float = 1000.0

    def score(self, summary: Mapping[str, Any]) -> float:
        zones = summary.get("zone_time_frac") or {}
        outside = float(zones.get("Red", 0.0)) + float(zones.get("Kill", 0.0))
        return (
            float(summary["pnl_total"])
            - self.zone_penalty_usd * outside
            - self.breach_penalty_usd * float(summary.get("invariant_breaches", 0))
        )


@dataclass(frozen=True)
class Space:
    params: tuple[Param, ...]
    objective: Objective = field(default_factory=Objective)

    def fingerprint(self) -> str:
        doc = {
            "params": [dataclasses.asdict(p) for p in self.params],
            "objective": dataclasses.asdict(self.objective),
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _is_leaf(table: Mapping[str, Any]) -> bool:
    return "choices" in table or bool(_RANGE_KEYS & set(table))


def _number(source: str, path: str, key: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{source}: {path}.{key} = {value!r} is not a finite number")
    return value


def _param(source: str, path: str, table: Mapping[str, Any]) -> Param:
    if "choices" in table:
        extra = set(table) - {"choices"}
        if extra:
            raise InputError(
                f"{source}: {path}: give either choices or low/high, not {sorted(extra)} too"
            )
        choices = table["choices"]
        if not isinstance(choices, list) or not choices:
            raise InputError(f"{source}: {path}.choices must be a non-empty list")
        if len({repr(c) for c in choices}) != len(choices):
            raise InputError(f"{source}: {path}.choices lists a value twice")
        return Param(path, choices=tuple(choices))
    unknown = set(table) - _RANGE_KEYS
    if unknown:
        raise InputError(
            f"{source}: {path}: unknown key(s) {sorted(unknown)}; a range takes low, high and "
            f"optionally log and step"
        )
    if "low" not in table or "high" not in table:
        raise InputError(f"{source}: {path}: a range needs both low and high")
    low = _number(source, path, "low", table["low"])
    high = _number(source, path, "high", table["high"])
    log = table.get("log", False)
    if not isinstance(log, bool):
        raise InputError(f"{source}: {path}.log must be true or false, got {log!r}")
    step = _number(source, path, "step", table["step"]) if "step" in table else None
    if not low < high:
        raise InputError(f"{source}: {path}: low ({low}) must be below high ({high})")
    if log and low <= 0:
        raise InputError(f"{source}: {path}: a log range needs low > 0, got {low}")
    if log and step is not None:
        raise InputError(f"{source}: {path}: a log range takes no step")
    if step is not None and step <= 0:
        raise InputError(f"{source}: {path}.step must be positive, got {step}")
    return Param(path, low=low, high=high, log=log, step=step)


def _walk(source: str, prefix: str, table: Mapping[str, Any]) -> Iterator[Param]:
    for key, value in table.items():
        path = f"{prefix}{key}"
        if not isinstance(value, dict):
            raise InputError(
                f"{source}: {path} = {value!r}: each searched path is a table such as "
                f"{{ low = 1.0, high = 5.0 }} or {{ choices = [...] }}"
            )
        if _is_leaf(value):
            yield _param(source, path, value)
        else:
            yield from _walk(source, f"{path}.", value)


def parse_space(doc: Mapping[str, Any], known_paths: Iterable[str], source: str = "space") -> Space:
    """Validates a parsed space file against the config's known paths."""
    doc = dict(doc)
    raw_objective = doc.pop("objective", {})
    if not isinstance(raw_objective, dict) or set(raw_objective) - _OBJECTIVE_KEYS:
        raise InputError(f"{source}: [objective] takes only {', '.join(sorted(_OBJECTIVE_KEYS))}")
    objective = Objective(
        **{k: float(_number(source, "objective", k, v)) for k, v in raw_objective.items()}
    )
    params = list(_walk(source, "", doc))
    if not params:
        raise InputError(f"{source}: names no parameter to search")
    known = set(known_paths)
    for p in params:
        if p.path not in known:
            leaf = p.path.rsplit(".", 1)[-1]
            near = sorted(k for k in known if k.rsplit(".", 1)[-1] == leaf or leaf in k)[:5]
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise InputError(f"{source}: {p.path} is not a config field{hint}")
    return Space(tuple(params), objective)


def load_space(path: str | Path, known_paths: Iterable[str]) -> Space:
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"--space {p}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--space {p}: cannot read it: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"--space {p}: not valid TOML: {exc}") from None
    return parse_space(doc, known_paths, str(p))


def override_value(value: Any) -> str:
    """A suggested value as the text an `MMFAST_` override would carry (floats exactly)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _guarded(fn: Callable[[Any], dict[str, Any]], job: Any) -> dict[str, Any]:
    # A sampled combination the config rejects fails its trial, not the study.
    try:
        return fn(job)
    except ConfigError as exc:
        return {"_config_error": str(exc)}


@dataclass
class TuneResult:
    study_name: str
    trials_done: int
    best_params: dict[str, Any]
    best_value: float
    holdout_seeds: list[int]
    best_scores: list[float]
    base_scores: list[float]
    best_pnl: list[float]
    base_pnl: list[float]
    study: Any = field(default=None, repr=False)

    @property
    def best(self) -> Estimate:
        return mean_ci(self.best_scores)

    @property
    def base(self) -> Estimate:
        return mean_ci(self.base_scores)

    @property
    def diff(self) -> Estimate:
        return paired_ci(self.best_scores, self.base_scores)

    @property
    def pnl_diff(self) -> Estimate:
        return paired_ci(self.best_pnl, self.base_pnl)

    def as_dict(self) -> dict[str, Any]:
        return {
            "study": self.study_name,
            "trials_done": self.trials_done,
            "best_params": self.best_params,
            "best_value_search_seeds": self.best_value,
            "holdout_seeds": self.holdout_seeds,
            "holdout_score_best": self.best.as_dict(),
            "holdout_score_start": self.base.as_dict(),
            "holdout_score_diff": self.diff.as_dict(),
            "holdout_pnl_diff": self.pnl_diff.as_dict(),
            "interval": "95% Student t, paired by seed",
        }


def require_optuna() -> Any:
    try:
        import optuna
    except ModuleNotFoundError:
        raise InputError(_MISSING_OPTUNA) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def make_sampler(name: str, seed: int | None) -> Any:
    optuna = require_optuna()
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "qmc":
        return optuna.samplers.QMCSampler(seed=seed)
    raise InputError(f"--sampler {name!r}: use one of {', '.join(SAMPLERS)}")


def rung_bounds(n_seeds: int, rungs: int) -> list[tuple[int, int]]:
    """Seed index ranges per rung: `rungs` near-equal chunks, the first never empty."""
    rungs = max(1, min(rungs, n_seeds))
    edges = [round(i * n_seeds / rungs) for i in range(rungs + 1)]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def _setup_fingerprint(space: Space, base_job: Any, seeds: Sequence[int], base_toml: str) -> str:
    job = dataclasses.asdict(base_job) if dataclasses.is_dataclass(base_job) else repr(base_job)
    doc = {"space": space.fingerprint(), "job": job, "seeds": list(seeds), "config": base_toml}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def open_study(
    out: Path, name: str, storage: str | None, sampler: Any, fingerprint: str, *, startup: int = 5
) -> Any:
    """Creates the study or loads it to continue; refuses to continue one searched on another
    space, data or seed set (its trials would not be comparable)."""
    optuna = require_optuna()
    out.mkdir(parents=True, exist_ok=True)
    url = storage or f"sqlite:///{(out / 'study.db').resolve()}"
    study = optuna.create_study(
        study_name=name,
        storage=url,
        direction="maximize",
        sampler=sampler,
        pruner=optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=0),
        load_if_exists=True,
    )
    seen = study.user_attrs.get("setup")
    if seen is None:
        study.set_user_attr("setup", fingerprint)
    elif seen != fingerprint:
        raise InputError(
            f"study {name!r} in {url} was run with another space, config, data or seeds; "
            f"continue it with the same options, or start a new one with --study NAME or --out DIR"
        )
    # Trials a killed driver left running: failed now, their parameters asked again first.
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(t.params, skip_if_exists=False)
    return study


def _finished(study: Any) -> int:
    from optuna.trial import TrialState

    ended = study.get_trials(
        deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    )
    # A trial the config refused counts as run; one a killed driver left is run again.
    return sum(1 for t in ended if t.state != TrialState.FAIL or "config_error" in t.user_attrs)


def with_params(base_job: Any, params: Mapping[str, Any]) -> Any:
    """`base_job` with the searched parameters appended to its overrides."""
    overrides = tuple(base_job.overrides) + tuple(
        (path, override_value(v)) for path, v in params.items()
    )
    return dataclasses.replace(base_job, overrides=overrides)


def _jobs_for(base_job: Any, params: Mapping[str, Any], seeds: Sequence[int]) -> list[Any]:
    job = with_params(base_job, params)
    return [dataclasses.replace(job, seed=s) for s in seeds]


def _run(
    fn: Callable[[Any], dict[str, Any]],
    jobs: list[Any],
    backend: str,
    n_jobs: int | None,
    on_result: Callable[[], None],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any] | None] = [None] * len(jobs)
    for index, summary in run_jobs(
        functools.partial(_guarded, fn), jobs, backend=backend, n_jobs=n_jobs, progress=False
    ):
        out[index] = summary
        on_result()
    return [s for s in out if s is not None]


def run_tune(
    fn: Callable[[Any], dict[str, Any]],
    base_job: Any,
    space: Space,
    *,
    trials: int,
    seeds: Sequence[int],
    holdout_seeds: Sequence[int],
    out: Path,
    base_toml: str = "",
    study_name: str = "mmfast-tune",
    storage: str | None = None,
    sampler: str = "tpe",
    sampler_seed: int | None = 0,
    backend: str = "local",
    n_jobs: int | None = None,
    parallel: int | None = None,
    rungs: int = 3,
    progress: bool = True,
    console: Any = None,
) -> TuneResult:
    """Runs the study up to `trials` finished trials, then the held-out comparison."""
    if trials < 1:
        raise InputError(f"--trials must be at least 1, got {trials}")
    if not seeds:
        raise InputError("--seeds: no seeds to search on")
    overlap = sorted(set(seeds) & set(holdout_seeds))
    if overlap:
        raise InputError(
            f"--holdout-seeds must be seeds the search never sees; {overlap[:5]} are in --seeds"
        )
    if len(holdout_seeds) < 2:
        raise InputError("--holdout-seeds: give at least 2 seeds for a confidence interval")
    study = open_study(
        out,
        study_name,
        storage,
        make_sampler(sampler, sampler_seed),
        _setup_fingerprint(space, base_job, seeds, base_toml),
    )
    TrialState = require_optuna().trial.TrialState
    batch = parallel or max(1, math.ceil(2 * _workers_hint(backend, n_jobs) / len(seeds)))
    bounds = rung_bounds(len(seeds), rungs)

    done = _finished(study)
    total_jobs = max(0, trials - done) * len(seeds)
    with _progress_bar(
        total_jobs,
        f"{trials - done} trials x {len(seeds)} seeds",
        enabled=progress and total_jobs > 0,
    ) as advance:

        def skip(n: int) -> None:  # a pruned or failed trial's seeds that will not run
            for _ in range(n):
                advance()

        while done < trials:
            live = [study.ask() for _ in range(min(batch, trials - done))]
            params = {t.number: {p.path: p.suggest(t) for p in space.params} for t in live}
            scores: dict[int, list[float]] = {t.number: [] for t in live}
            for a, b in bounds:
                chunk = list(seeds[a:b])
                jobs = [j for t in live for j in _jobs_for(base_job, params[t.number], chunk)]
                summaries = _run(fn, jobs, backend, n_jobs, advance)
                survivors = []
                for k, t in enumerate(live):
                    part = summaries[k * len(chunk) : (k + 1) * len(chunk)]
                    bad = next((s["_config_error"] for s in part if "_config_error" in s), None)
                    if bad is not None:
                        t.set_user_attr("config_error", bad)
                        study.tell(t, state=TrialState.FAIL)
                        skip(len(seeds) - b)
                        if console is not None:
                            console.print(f"trial {t.number} failed: {bad}")
                        continue
                    for offset, s in enumerate(part):
                        scores[t.number].append(space.objective.score(s))
                        t.report(math.fsum(scores[t.number]) / len(scores[t.number]), a + offset)
                    if b < len(seeds) and t.should_prune():
                        study.tell(t, state=TrialState.PRUNED)
                        skip(len(seeds) - b)
                        continue
                    survivors.append(t)
                live = survivors
                if not live:
                    break
            for t in live:
                vals = scores[t.number]
                t.set_user_attr("scores", vals)
                study.tell(t, math.fsum(vals) / len(vals))
            done = _finished(study)

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise InputError(
            "no trial completed (all pruned or failed); widen the space or check the config"
        )
    best = study.best_trial
    best_jobs = _jobs_for(base_job, best.params, holdout_seeds)
    base_jobs = [dataclasses.replace(base_job, seed=s) for s in holdout_seeds]
    summaries = _run(fn, base_jobs + best_jobs, backend, n_jobs, lambda: None)
    n = len(holdout_seeds)
    base_s, best_s = summaries[:n], summaries[n:]
    return TuneResult(
        study_name=study_name,
        trials_done=_finished(study),
        best_params=dict(best.params),
        best_value=float(best.value),
        holdout_seeds=list(holdout_seeds),
        best_scores=[space.objective.score(s) for s in best_s],
        base_scores=[space.objective.score(s) for s in base_s],
        best_pnl=[float(s["pnl_total"]) for s in best_s],
        base_pnl=[float(s["pnl_total"]) for s in base_s],
        study=study,
    )


def _workers_hint(backend: str, n_jobs: int | None) -> int:
    """How many backtests run at once: the local process count, or the cluster's threads."""
    if n_jobs:
        return n_jobs
    if backend == "auto" or backend.startswith("tcp://"):
        try:
            from mmfast.research.cluster import connect
        except ModuleNotFoundError as exc:
            raise InputError(
                f"--cluster {backend} needs the module {exc.name!r}: pip install 'mmfast[cluster]'"
            ) from None
        return max(1, sum(connect(backend, n_jobs).nthreads().values()))
    from mmfast.research.execution import default_jobs

    return default_jobs()


def write_best(out: Path, config_toml: str, params: Mapping[str, Any]) -> Path:
    """`best.toml`: a full config (validated by the loader `paper` and `run` use), headed by
    the parameters the study chose."""
    from mmfast._core import MarketMakerConfig

    text = MarketMakerConfig.from_toml(config_toml, "best.toml", []).to_toml()
    path = out / "best.toml"
    header = "# written by `mmfast tune`: the best trial's config; searched parameters:\n"
    header += "".join(f"#   {p} = {override_value(v)}\n" for p, v in params.items())
    path.write_text(header + text, encoding="utf-8")
    return path


def write_report(out: Path, study: Any, result: TuneResult) -> Path:
    """`tune_report.html`: Optuna's optimisation history and parameter importances (plotly,
    self-contained) and the held-out comparison."""
    from mmfast.research.html import plotly_page, require_plotly

    require_plotly("the tune report")
    from optuna.visualization import (
        plot_optimization_history,
        plot_parallel_coordinate,
        plot_param_importances,
    )

    figs = [plot_optimization_history(study)]
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) >= 2 and len(study.best_trial.params) >= 1:
        # Too few distinct values to attribute variance: the history is still shown.
        with contextlib.suppress(RuntimeError, ValueError), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "importances will be equal" on tiny studies
            figs.append(plot_param_importances(study))
        figs.append(plot_parallel_coordinate(study))
    d = result.diff
    summary = html.escape(json.dumps(result.as_dict(), indent=1, default=str))
    intro = (
        f"<p>{result.trials_done} trials. Held-out seeds {result.holdout_seeds}: best minus "
        f"starting config, score {d.mean:+.4g} USD (95% CI {d.low:+.4g} .. {d.high:+.4g}).</p>"
    )
    title = f"mmfast tune: study {result.study_name}"
    page = plotly_page(title, figs, intro, f"<h2>Summary</h2><pre>{summary}</pre>")
    path = out / "tune_report.html"
    path.write_text(page, encoding="utf-8")
    return path
