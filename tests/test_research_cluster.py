"""The cluster back end on a real Dask cluster (a scheduler plus one worker process on
127.0.0.1, ports chosen by the OS), not a mock: results equal the local back end's bit for bit,
data files reach the worker by content, a worker killed mid-sweep loses no result, and a tuning
study resumes after its driver is killed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from mmfast.errors import InputError
from mmfast.research.execution import run_jobs
from research_jobs import StandinJob, standin_run_job

distributed = pytest.importorskip("distributed", reason="needs mmfast[cluster]")
from mmfast.research import cluster  # noqa: E402

TESTS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.timeout(180)


def _kill_tree(proc: subprocess.Popen) -> None:
    import psutil

    try:
        kids = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        kids = []
    for p in [*kids]:
        with contextlib.suppress(psutil.Error):
            p.kill()
    proc.kill()
    proc.wait(timeout=30)


def _env() -> dict[str, str]:
    """Workers and drivers import the stand-in job from this folder."""
    return {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


@pytest.fixture(scope="module")
def dask_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and one single-threaded worker process (under its nanny, which restarts it
    if it dies) on 127.0.0.1; the scheduler picks its port and writes it to a file."""
    tmp = tmp_path_factory.mktemp("dask")
    sched_file = tmp / "scheduler.json"
    env = _env()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": tmp, "env": env}
    sched = subprocess.Popen(
        [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
         "--dashboard-address", "127.0.0.1:0", "--no-show", "--scheduler-file", sched_file],
        **quiet,
    )
    procs = [sched]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            assert sched.poll() is None, "the scheduler exited"
            time.sleep(0.1)
        address = json.loads(sched_file.read_text())["address"]
        procs.append(subprocess.Popen(
            [BIN / "dask", "worker", address, "--host", "127.0.0.1", "--nworkers", "1",
             "--nthreads", "1", "--no-dashboard", "--local-directory", tmp],
            **quiet,
        ))
        client = cluster.connect(address)
        client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        cluster.shutdown()
        for p in reversed(procs):
            _kill_tree(p)


def test_missing_extra_names_the_install_command() -> None:
    """Without `distributed`, a cluster address is a usage error naming what to install."""
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from mmfast.research.execution import run_jobs\n"
        "from mmfast.errors import InputError\n"
        "try:\n    run_jobs(abs, [1], backend='tcp://127.0.0.1:1')\n"
        "except InputError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "pip install 'mmfast[cluster]'" in out.stdout, out.stderr
    assert "distributed" in out.stdout


def test_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setattr(cluster, "_CONNECT_TIMEOUT_S", 2)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(Exception, match="cannot reach a Dask scheduler") as info:
        list(run_jobs(abs, [1], backend=f"tcp://127.0.0.1:{port}", progress=False))
    assert not isinstance(info.value, InputError)  # a runtime failure (exit 1), not usage


def _jobs(n: int, data: Path, **kw: object) -> list[StandinJob]:
    return [
        StandinJob(seed=s, hl=str(data), overrides=(("risk_aversion", str(0.01 * (s % 7))),), **kw)
        for s in range(n)
    ]


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    p = tmp_path / "recording.gz"
    p.write_bytes(os.urandom(4096))
    return p


def test_cluster_results_equal_local_bit_for_bit(dask_address: str, data_file: Path) -> None:
    jobs = _jobs(12, data_file)
    local = dict(run_jobs(standin_run_job, jobs, backend="local", n_jobs=2, progress=False))
    remote = dict(run_jobs(standin_run_job, jobs, backend=dask_address, progress=False))
    assert remote == local
    # The worker read the same bytes the driver has: the file reached it.
    assert {r["files"] for r in remote.values()} == {local[0]["files"]} != {""}


def test_auto_uses_the_scheduler_dask_names(
    dask_address: str, data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cluster.ADDRESS_ENV, dask_address)
    jobs = _jobs(4, data_file)
    expected = dict(run_jobs(standin_run_job, jobs, backend="inprocess", progress=False))
    assert dict(run_jobs(standin_run_job, jobs, backend="auto", progress=False)) == expected
    assert cluster.connect("auto") is cluster.connect(dask_address)  # no local cluster started


def test_data_file_is_shipped_once(dask_address: str, data_file: Path) -> None:
    client = cluster.connect(dask_address)
    blobs = []
    for _ in run_jobs(standin_run_job, _jobs(6, data_file), backend=dask_address, progress=False):
        blobs.append({k for k in client.who_has() if k.startswith("mmfast-file-")})
    # One scattered blob (keyed by content) held while six jobs naming the same file run.
    assert blobs and all(len(b) == 1 for b in blobs[:-1])


def test_results_stream_as_they_finish(dask_address: str, data_file: Path) -> None:
    jobs = [StandinJob(seed=s, sleep_s=0.6 if s == 0 else 0.0) for s in range(4)]
    order = [i for i, _ in run_jobs(standin_run_job, jobs, backend=dask_address, progress=False)]
    assert sorted(order) == [0, 1, 2, 3]


def test_killed_worker_loses_no_result(dask_address: str, data_file: Path) -> None:
    jobs = _jobs(16, data_file, sleep_s=0.25)
    expected = dict(run_jobs(standin_run_job, jobs, backend="inprocess", progress=False))
    client = cluster.connect(dask_address)
    got = {}
    killed = False
    for index, result in run_jobs(standin_run_job, jobs, backend=dask_address, progress=False):
        got[index] = result
        if len(got) == 3 and not killed:
            (pid,) = client.run(os.getpid).values()
            os.kill(pid, signal.SIGKILL)  # the nanny restarts it; its jobs are rescheduled
            killed = True
    assert killed
    assert got == expected
    client.wait_for_workers(1, timeout=60)


def _finished_trials(path: Path) -> int:
    """Finished trials in an optuna SQLite study, read without writing (0 while it is made)."""
    if not path.exists():
        return 0
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)) as db:
            (n,) = db.execute(
                "SELECT count(*) FROM trials WHERE state IN ('COMPLETE', 'PRUNED', 'FAIL')"
            ).fetchone()
    except sqlite3.Error:  # the schema is not there yet
        return 0
    return int(n)


def test_tune_resumes_after_driver_killed(dask_address: str, tmp_path: Path) -> None:
    """A driver killed mid-study leaves finished trials in SQLite; rerunning the same command
    continues from them to the target count (trial numbers continue, none is lost)."""
    out = tmp_path / "study"
    script = TESTS / "research_tune_driver.py"
    env = _env()
    args = [sys.executable, script, str(out), dask_address, "8"]
    log = tmp_path / "first.err"  # a file, not a pipe nobody reads: the driver never blocks on it
    with log.open("wb") as err:
        first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err)
    import optuna

    db = f"sqlite:///{out / 'study.db'}"
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.3)
        # Read-only, with sqlite3 itself: optuna.load_study on a file the driver is still
        # creating would create optuna's schema too, and the two creations collide.
        done = _finished_trials(out / "study.db")
        if done >= 3:
            first.kill()
            break
    first.wait(timeout=30)
    tail = log.read_text(errors="replace")[-3000:]
    assert 3 <= done < 8, f"killed after {done} trials (driver exit {first.returncode}): {tail}"
    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=150)
    assert second.returncode == 0, second.stderr[-2000:]
    study = optuna.load_study(study_name="mmfast-tune", storage=db)
    from optuna.trial import TrialState

    finished = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 8
    report = json.loads(second.stdout.strip().splitlines()[-1])
    assert report["trials_done"] == 8
    assert report["resumed_from"] >= 3


def test_real_backtests_on_the_cluster_equal_local(dask_address: str, tmp_path: Path) -> None:
    """The real `run_job` through `--cluster`: `mmfast tune` runs on the cluster, and the same
    backtests give the same summaries there as on local processes, bit for bit."""
    backtest = pytest.importorskip("mmfast.backtest", reason="the backtester has not landed")
    jobs = [backtest.Job(seed=s, duration_s=20.0,
                         overrides=(("ladder.min_half_spread_bps", str(1.0 + s)),))
            for s in (1, 2, 3)]
    def strategy(runs: dict) -> dict:  # the machine's speed is the only field allowed to differ
        return {i: {k: v for k, v in s.items() if k not in backtest.TIMING_KEYS}
                for i, s in runs.items()}

    local = dict(run_jobs(backtest.run_job, jobs, backend="local", n_jobs=2, progress=False))
    remote = dict(run_jobs(backtest.run_job, jobs, backend=dask_address, progress=False))
    assert strategy(remote) == strategy(local)
    assert all(s["events"] > 0 and s["actions"] for s in local.values())
    from mmfast.cli import main

    space = tmp_path / "s.toml"
    space.write_text("[ladder.min_half_spread_bps]\nlow = 1.0\nhigh = 6.0\n")
    assert main(["tune", "--space", str(space), "--trials", "2", "--seeds", "1-2",
                 "--duration", "20", "--holdout-seeds", "11-12", "--out", str(tmp_path),
                 "--cluster", dask_address, "--quiet"]) == 0
    assert (tmp_path / "best.toml").is_file()
