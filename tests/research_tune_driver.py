"""A tuning driver for the resume test: `python research_tune_driver.py OUT BACKEND TRIALS` runs
`run_tune` with the stand-in job (slow enough to be killed mid-study) and prints a JSON line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mmfast._core import MarketMakerConfig
from mmfast.research import cluster
from mmfast.research.tune import _finished, parse_space, run_tune
from research_jobs import StandinJob, standin_run_job

SPACE = {
    "risk_aversion": {"low": 0.0, "high": 0.1},
    "mode_policy": {"choices": ["seed", "skew_only"]},
}


def main() -> None:
    out, backend, trials = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    space = parse_space(SPACE, MarketMakerConfig.known_paths())
    before = 0
    if (out / "study.db").exists():
        import optuna

        study = optuna.load_study(study_name="mmfast-tune", storage=f"sqlite:///{out / 'study.db'}")
        before = _finished(study)
    try:
        result = run_tune(
            standin_run_job, StandinJob(sleep_s=0.15), space, trials=trials, seeds=[1, 2, 3],
            holdout_seeds=[101, 102], out=out, backend=backend, parallel=1, progress=False,
        )
    finally:
        cluster.shutdown()
    print(json.dumps({**result.as_dict(), "resumed_from": before}))


if __name__ == "__main__":
    main()
