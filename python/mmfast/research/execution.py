"""The one place research jobs fan out: in process, over local processes, or on a cluster.

`run_jobs(fn, jobs)` calls `fn(job)` for every job and yields `(index into jobs, result)` as each
finishes, in completion order, with a rich progress bar. Back ends:

- `"inprocess"`: one after the other in this process (debugging, tiny runs).
- `"local"` (default): a pool of `n_jobs` worker processes (default: the cores this process may
  use). Workers are *spawned*, never forked: the parent may hold threads (the progress bar's,
  a venue's), and a forked child of a threaded parent can deadlock. `fn` and the jobs must
  therefore be picklable: a module-level function and plain data.
- cluster addresses (`"ray://host:port"`, `"auto"`, `"tcp://..."`) are plug-ins: a module
  registers a back end for an exact name or an address scheme with `register_backend`, or is
  listed in `_PLUGINS` to be imported on first use.

A back end is a callable `backend(fn, jobs, address, n_jobs)` returning an iterator of
`call_job(fn, index, job)` outcomes, yielded as they finish; it must stop its workers when the
iterator is closed early (a failed job, Ctrl-C, a consumer that breaks out). Errors and progress
are handled here, once, for every back end: a job that raises surfaces as `JobError`, naming the
job, its exception and the worker's traceback, and the remaining jobs are cancelled.

The result of a job is whatever `fn` returns: equal across back ends when `fn` is deterministic
(the backtest's `run_job` is, bit for bit).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, TypeAlias

from mmfast.errors import InputError, MmfastError

__all__ = [
    "Failure",
    "JobError",
    "backends",
    "call_job",
    "default_jobs",
    "register_backend",
    "run_jobs",
]


@dataclass(frozen=True)
class Failure:
    """A job's exception as strings (always picklable), plus the exception itself when it can
    cross the process boundary."""

    kind: str
    message: str
    traceback: str
    exception: BaseException | None = None


#: What a back end yields per job: (index, ok, result if ok else Failure).
Outcome: TypeAlias = tuple[int, bool, Any]
Backend: TypeAlias = Callable[
    [Callable[[Any], Any], Sequence[Any], str, "int | None"], Iterable[Outcome]
]


class JobError(MmfastError):
    """A job raised. `index` and `job` say which one; `kind`, `remote_message` and
    `remote_traceback` are the worker's exception; `__cause__` is the exception itself when it
    could be brought back."""

    def __init__(self, index: int, total: int, job: Any, failure: Failure) -> None:
        self.index = index
        self.job = job
        self.kind = failure.kind
        self.remote_message = failure.message
        self.remote_traceback = failure.traceback
        super().__init__(
            f"jobs[{index}] of {total} failed ({_short_repr(job)}): {failure.kind}: "
            f"{failure.message}"
        )
        self._failure = Failure(failure.kind, failure.message, failure.traceback)
        self._total = total

    def __reduce__(self) -> tuple[Any, ...]:
        return (JobError, (self.index, self._total, self.job, self._failure))


def _short_repr(job: Any, limit: int = 200) -> str:
    text = repr(job)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def call_job(fn: Callable[[Any], Any], index: int, job: Any, *, remote: bool = False) -> Outcome:
    """Runs one job where the back end runs it (in the worker) and never raises for the job's
    own exception: it is returned as a `Failure`, so every back end reports it the same way.
    With `remote`, the exception object is kept only if it pickles (many do not)."""
    try:
        return index, True, fn(job)
    except Exception as exc:
        kept: BaseException | None = exc
        if remote:
            try:
                pickle.dumps(exc)
            except Exception:
                kept = None
        return index, False, Failure(type(exc).__name__, str(exc), traceback.format_exc(), kept)


def default_jobs() -> int:
    """The cores this process may run on (affinity and cgroup-aware where Python knows)."""
    count: int | None
    if hasattr(os, "process_cpu_count"):
        count = os.process_cpu_count()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count()
    return max(1, count or 1)


# --- back ends -------------------------------------------------------------------------------


def _inprocess(
    fn: Callable[[Any], Any], jobs: Sequence[Any], address: str, n_jobs: int | None
) -> Iterator[Outcome]:
    for index, job in enumerate(jobs):
        yield call_job(fn, index, job)


def _ignore_sigint() -> None:
    # Ctrl-C goes to the whole process group; only the parent should act on it (it stops the
    # pool), or every worker would print its own KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _call_remote(fn: Callable[[Any], Any], index: int, job: Any) -> Outcome:
    return call_job(fn, index, job, remote=True)


def _local(
    fn: Callable[[Any], Any], jobs: Sequence[Any], address: str, n_jobs: int | None
) -> Iterator[Outcome]:
    if not jobs:
        return
    workers = max(1, n_jobs or default_jobs())
    pool = _pool(workers)
    pending: dict[Future[Outcome], int] = {}
    queue = iter(enumerate(jobs))
    finished = False

    def top_up() -> None:
        # A bounded window in flight: a long job list is not pickled up front, and a failure
        # cancels little work.
        for index, job in queue:
            pending[pool.submit(_call_remote, fn, index, job)] = index
            if len(pending) >= 2 * workers:
                break

    try:
        top_up()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=pending.__getitem__):
                index = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # the pool, not the job: a dead worker, a pickle error
                    outcome = (index, False, _pool_failure(exc))
                yield outcome
            top_up()
        finished = True
    finally:
        if not finished:
            _POOLS.pop(workers, None)
            _stop(pool, graceful=False)


#: Spawned pools kept for the life of the process, by size: spawning and importing mmfast in
#: every worker costs about a second, which callers that fan out many small batches (tune's
#: rungs) would pay per call. A pool that failed or was stopped early is dropped and replaced.
_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    pool = _POOLS.get(workers)
    if pool is None or getattr(pool, "_broken", False) or getattr(pool, "_shutdown_thread", False):
        # Workers start on demand (Python >= 3.9), so a large pool costs nothing until used.
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_ignore_sigint,
        )
        _POOLS[workers] = pool
    return pool


def shutdown_pools() -> None:
    """Stops the kept worker pools (also done at exit)."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown_pools)


def _pool_failure(exc: Exception) -> Failure:
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        return Failure(
            "WorkerDied",
            "a worker process died (killed, out of memory or crashed) while this job was "
            "running or queued; workers are spawned and import the main module, so a script "
            "must keep its top-level code under `if __name__ == '__main__':`",
            "",
        )
    return Failure(type(exc).__name__, str(exc), "".join(traceback.format_exception(exc)))


def _stop(pool: ProcessPoolExecutor, *, graceful: bool) -> None:
    if graceful:
        pool.shutdown(wait=True)
        return
    # Early exit: drop the queue and end running jobs now rather than waiting for them. The
    # workers and the pool's manager thread are read first: shutdown forgets both.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
    # The manager thread reaps the workers too; until it is done a worker it has reaped can
    # still look alive here (its exit code not yet stored), so wait for it.
    if manager is not None:
        manager.join(timeout=10)


# --- registry --------------------------------------------------------------------------------

_BACKENDS: dict[str, Backend | str] = {"inprocess": _inprocess, "local": _local}

#: Plug-ins imported on first use: key (an exact name, or an address scheme ending in "://")
#: -> "module:attribute" of a back end. The cluster back end adds its lines here.
_PLUGINS: dict[str, str] = {
    "tcp://": "mmfast.research.cluster:dask_backend",
    "auto": "mmfast.research.cluster:dask_backend",
}

#: What to install when a plug-in's module or its dependency is missing.
_PLUGIN_EXTRA = "pip install 'mmfast[cluster]'"


def register_backend(key: str, backend: Backend | str) -> None:
    """Registers a back end for an exact name (`"auto"`) or an address scheme (`"ray://"`,
    `"tcp://"`: any address starting with it). `backend` is the callable or a
    `"module:attribute"` string imported on first use."""
    if not key:
        raise InputError("a back end needs a name or an address scheme such as 'ray://'")
    _BACKENDS[key] = backend


def backends() -> list[str]:
    """The names and schemes known now, built-in and plug-in."""
    return sorted({*_BACKENDS, *_PLUGINS})


def _lookup(backend: str) -> Backend | str | None:
    for table in (_BACKENDS, _PLUGINS):
        if backend in table:
            return table[backend]
    if "://" in backend:
        scheme = backend.split("://", 1)[0] + "://"
        for table in (_BACKENDS, _PLUGINS):
            if scheme in table:
                return table[scheme]
    return None


def _resolve(backend: str) -> Backend:
    entry = _lookup(backend)
    if entry is None:
        raise InputError(
            f"backend {backend!r} is not known; use one of {', '.join(backends())}"
            " (or a cluster address once its plug-in is installed)"
        )
    if isinstance(entry, str):
        module_name, _, attribute = entry.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            raise InputError(
                f"backend {backend!r} needs the module {exc.name!r}: {_PLUGIN_EXTRA}"
            ) from None
        entry = getattr(module, attribute)
    assert callable(entry)
    return entry


# --- the driver ------------------------------------------------------------------------------


def run_jobs(
    fn: Callable[[Any], Any],
    jobs: Iterable[Any],
    *,
    backend: str = "local",
    n_jobs: int | None = None,
    progress: bool = True,
    label: str = "jobs",
) -> Iterator[tuple[int, Any]]:
    """Runs `fn(job)` for every job on `backend`; yields `(index, result)` as each finishes.

    Arguments are checked now (an unknown back end, `n_jobs < 1`, an unpicklable `fn` for a
    back end that ships it elsewhere raise `InputError` here, not at the first `next`). A job
    that raises ends the run with `JobError`; closing the iterator early stops the workers.
    """
    job_list = list(jobs)
    if n_jobs is not None and (isinstance(n_jobs, bool) or int(n_jobs) != n_jobs or n_jobs < 1):
        raise InputError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    runner = _resolve(backend)
    if runner is not _inprocess:
        try:
            pickle.dumps(fn)
        except Exception as exc:
            raise InputError(
                f"fn {getattr(fn, '__qualname__', fn)!r} cannot be sent to backend {backend!r} "
                f"({exc}); pass a module-level function, or use backend='inprocess'"
            ) from None
    return _drive(runner, fn, job_list, backend, n_jobs, progress, label)


def _drive(
    runner: Backend,
    fn: Callable[[Any], Any],
    jobs: list[Any],
    address: str,
    n_jobs: int | None,
    progress: bool,
    label: str,
) -> Iterator[tuple[int, Any]]:
    total = len(jobs)
    with _progress_bar(total, label, enabled=progress and total > 0) as advance:
        outcomes = iter(runner(fn, jobs, address, n_jobs))
        try:
            for index, ok, value in outcomes:
                if not ok:
                    raise JobError(index, total, jobs[index], value) from value.exception
                advance()
                yield index, value
        finally:
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()


@contextlib.contextmanager
def _progress_bar(total: int, label: str, *, enabled: bool) -> Iterator[Callable[[], None]]:
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    task = bar.add_task(label, total=total)
    with bar:
        yield lambda: bar.advance(task)
