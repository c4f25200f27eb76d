"""The execution layer (`mmfast.research.execution`): the same results on every back end, results
as jobs finish, a failing job named, workers stopped on an early exit, plug-in back ends."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from mmfast.errors import InputError
from mmfast.research import execution
from mmfast.research.execution import JobError, run_jobs


@dataclass(frozen=True)
class Sample:
    seed: int
    scale: float = 1.0


def digest(job: Sample) -> dict[str, object]:
    """Deterministic, picklable, a few ms of work: a float walk driven by a hash chain."""
    h = hashlib.sha256(str(job.seed).encode()).digest()
    x = 0.0
    for _ in range(2000):
        h = hashlib.sha256(h).digest()
        x += (h[0] - 127.5) * job.scale / 1e3
    return {"seed": job.seed, "x": x, "pid_free": h.hex()[:16]}


def fail_on_three(job: Sample) -> int:
    if job.seed == 3:
        raise ValueError(f"seed {job.seed} is cursed")
    return job.seed


def die_on_two(job: Sample) -> int:
    if job.seed == 2:
        os._exit(3)
    return job.seed


def ordered_by_marker(job: tuple[str, int]) -> int:
    """Job 1 returns at once; job 0 returns only once the caller has received job 1's result
    (the caller's marker file): so job 1 comes first exactly when results are delivered as
    jobs finish, and a back end that held them back would leave job 0 waiting."""
    folder, index = job
    if index == 1:
        return 1
    marker = Path(folder) / "got-one"
    # Only a guard against a hang, far above the time a loaded machine takes to spawn the
    # second worker and import the test module.
    deadline = time.monotonic() + 100
    while not marker.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("job 1's result never reached the caller while job 0 ran")
        time.sleep(0.01)
    return 0


def sleepy(job: Sample) -> int:
    time.sleep(30 if job.seed else 0)
    return job.seed


JOBS = [Sample(seed, scale) for seed in range(1, 7) for scale in (1.0, 0.5)]


def test_results_equal_across_backends() -> None:
    inprocess = dict(run_jobs(digest, JOBS, backend="inprocess", progress=False))
    local = dict(run_jobs(digest, JOBS, backend="local", n_jobs=2, progress=False))
    pool = execution._POOLS[2]
    again = dict(run_jobs(digest, JOBS[:3], backend="local", n_jobs=2, progress=False))
    assert execution._POOLS[2] is pool, "the spawned pool is kept between calls"
    assert again == {i: inprocess[i] for i in range(3)}
    assert sorted(inprocess) == list(range(len(JOBS)))
    assert local == inprocess
    assert inprocess[0] == digest(JOBS[0])


@pytest.mark.timeout(150)
def test_results_come_as_jobs_finish(tmp_path: Path) -> None:
    # A fresh pool of two, whatever earlier tests left in the kept one (a broken or busy
    # worker); job 0 blocks its worker until job 1 has run on the other.
    execution.shutdown_pools()
    jobs = [(str(tmp_path), 0), (str(tmp_path), 1)]
    order = []
    for index, _ in run_jobs(ordered_by_marker, jobs, n_jobs=2, progress=False):
        order.append(index)
        if index == 1:
            (tmp_path / "got-one").write_text("x")
    assert order == [1, 0]


@pytest.mark.parametrize("backend", ["inprocess", "local"])
def test_failing_job_is_named(backend: str) -> None:
    execution.shutdown_pools()
    jobs = [Sample(seed) for seed in range(1, 6)]
    with pytest.raises(JobError) as info:
        list(run_jobs(fail_on_three, jobs, backend=backend, n_jobs=2, progress=False))
    err = info.value
    assert err.index == 2 and err.job == Sample(3)
    assert "jobs[2] of 5" in str(err) and "Sample(seed=3" in str(err)
    assert "ValueError: seed 3 is cursed" in str(err)
    assert "fail_on_three" in err.remote_traceback
    assert isinstance(err.__cause__, ValueError)
    assert not multiprocessing.active_children()


def test_dead_worker_is_reported() -> None:
    execution.shutdown_pools()
    jobs = [Sample(seed) for seed in range(1, 4)]
    with pytest.raises(JobError, match="WorkerDied"):
        list(run_jobs(die_on_two, jobs, n_jobs=1, progress=False))
    assert not multiprocessing.active_children()


def test_early_exit_stops_workers() -> None:
    execution.shutdown_pools()
    jobs = [Sample(0), Sample(1), Sample(2)]
    results = run_jobs(sleepy, jobs, n_jobs=2, progress=False)
    first = next(results)
    assert first == (0, 0)
    started = time.monotonic()
    results.close()
    assert not multiprocessing.active_children()
    # Terminated, not waited for: a 30 s sleep would show here. (A bound, not a benchmark.)
    assert time.monotonic() - started < 20


def test_bad_arguments_fail_at_call_time() -> None:
    with pytest.raises(InputError, match=r"backend 'cluster9' is not known; use one of .*local"):
        run_jobs(digest, JOBS, backend="cluster9")
    with pytest.raises(InputError, match="n_jobs must be a positive integer, got 0"):
        run_jobs(digest, JOBS, n_jobs=0)
    with pytest.raises(InputError, match="module-level function"):
        run_jobs(lambda job: job, JOBS, backend="local")
    assert list(run_jobs(digest, [], progress=False)) == []


def recording_backend(fn, jobs, address, n_jobs):  # type: ignore[no-untyped-def]
    recording_backend.calls.append((address, n_jobs))  # type: ignore[attr-defined]
    for index in reversed(range(len(jobs))):
        yield execution.call_job(fn, index, jobs[index])


recording_backend.calls = []  # type: ignore[attr-defined]


def test_plugin_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execution, "_BACKENDS", dict(execution._BACKENDS))
    monkeypatch.setattr(execution, "_PLUGINS", {"lazy://": f"{__name__}:recording_backend"})
    execution.register_backend("fake://", recording_backend)
    got = list(run_jobs(digest, JOBS[:3], backend="fake://host:6379", n_jobs=4, progress=False))
    assert [index for index, _ in got] == [2, 1, 0]
    assert dict(got) == dict(run_jobs(digest, JOBS[:3], backend="inprocess", progress=False))
    assert dict(run_jobs(digest, JOBS[:2], backend="lazy://x", progress=False))[1] == digest(
        JOBS[1]
    )
    assert recording_backend.calls[-2:] == [("fake://host:6379", 4), ("lazy://x", None)]
    monkeypatch.setitem(execution._PLUGINS, "ray://", "mmfast_no_such_plugin:backend")
    with pytest.raises(InputError, match=r"needs the module 'mmfast_no_such_plugin'.*mmfast\["):
        run_jobs(digest, JOBS, backend="ray://head:10001")


def test_progress_bar_shows_the_label(capsys: pytest.CaptureFixture[str]) -> None:
    list(run_jobs(digest, JOBS[:2], backend="inprocess", label="seeds"))
    err = capsys.readouterr().err
    assert "seeds" in err and "2/2" in err
