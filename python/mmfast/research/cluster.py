"""The cluster back end of `run_jobs`: Dask distributed (chosen over Ray by measurement, see
`benches/cluster_engines.py`: a local cluster starts in ~5 s instead of ~15 s, holds ~280 MiB
instead of ~1.3 GiB, and installs in 68 MB instead of 283 MB).

Addresses:

- `tcp://HOST:PORT`: a running scheduler (`dask scheduler`, then `dask worker tcp://HOST:PORT`
  on every machine, each with mmfast installed).
- `auto`: the scheduler named by `$DASK_SCHEDULER_ADDRESS` (Dask's own convention), otherwise a
  local cluster of `n_jobs` single-threaded worker processes (default: the core count), started
  for this process and reused by every later run in it.

The jobs run through the same `call_job` as on the local back end, so results are equal across
back ends. Data files reach each worker once: every string field of a dataclass job that names
an existing file on the driver (the recording, the config) is read once, sent to the cluster
once as a task keyed by its content hash, written to the worker's temporary directory the
first time a job there needs it, and the job is given that path. Results come back as they
finish. A worker that dies (killed, out of memory) has its jobs rescheduled on the others or
on its restarted process by the scheduler; a job lost that way more than
`distributed.scheduler.allowed-failures` times (3) is reported as failed.

`distributed` is the optional extra `mmfast[cluster]`; without it this module does not import
and `run_jobs` names the package to install.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import distributed

from mmfast.errors import MmfastError
from mmfast.research.execution import Failure, Outcome, call_job, default_jobs

__all__ = ["ADDRESS_ENV", "connect", "dask_backend", "materialise", "shutdown"]

#: Dask's own variable for "the scheduler to use", honoured by `auto`.
ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"
_CONNECT_TIMEOUT_S = 30

_clients: dict[str, distributed.Client] = {}
_local_clusters: list[Any] = []
_lock = threading.Lock()


def connect(address: str, n_jobs: int | None = None) -> distributed.Client:
    """The client for `address`, connected once per process and reused (a tuning study calls
    `run_jobs` once per rung; reconnecting, let alone restarting a local cluster, each time
    would cost seconds)."""
    target = address
    if address == "auto":
        target = os.environ.get(ADDRESS_ENV, "") or "auto"
    with _lock:
        client = _clients.get(target)
        if client is not None and client.status == "running":
            return client
        _close_at_exit()
        if target == "auto":
            cluster = distributed.LocalCluster(
                n_workers=n_jobs or default_jobs(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            )
            _local_clusters.append(cluster)
            client = distributed.Client(cluster)
        else:
            try:
                client = distributed.Client(target, timeout=_CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                raise MmfastError(
                    f"--cluster {address}: cannot reach a Dask scheduler there ({exc}); start one "
                    f"with `dask scheduler --port PORT` and workers with `dask worker "
                    f"tcp://HOST:PORT`, or use --cluster auto for a local cluster"
                ) from None
        _clients[target] = client
        return client


_exit_hook = False


def _close_at_exit() -> None:
    # Before the interpreter stops its thread pools (which Dask's clients and local clusters
    # still use to close): a plain atexit hook runs after that and makes Dask log errors.
    global _exit_hook
    if not _exit_hook:
        register = getattr(threading, "_register_atexit", None)
        if register is not None:
            register(shutdown)
        _exit_hook = True


def shutdown() -> None:
    """Closes every client this process opened and stops the local clusters `auto` started.
    Runs by itself when the interpreter exits."""
    with _lock:
        for client in _clients.values():
            with contextlib.suppress(Exception):
                client.close(timeout=10)
        for cluster in _local_clusters:
            with contextlib.suppress(Exception):
                cluster.close(timeout=10)
        _clients.clear()
        _local_clusters.clear()


# --- data files: shipped once ----------------------------------------------------------------


def _file_fields(job: Any) -> list[tuple[str, Path]]:
    if not dataclasses.is_dataclass(job) or isinstance(job, type):
        return []
    out = []
    for f in dataclasses.fields(job):
        value = getattr(job, f.name)
        if isinstance(value, str) and value and "\n" not in value and len(value) < 4096:
            path = Path(value)
            try:
                if path.is_file():
                    out.append((f.name, path))
            except OSError:
                continue
    return out


def materialise(digest: str, name: str, data: bytes) -> str:
    """On a worker: the local path of a shipped file, written once per machine (atomically, so
    concurrent workers on one machine never read a half-written file)."""
    folder = Path(tempfile.gettempdir()) / "mmfast-cluster" / digest
    path = folder / name
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.{uuid.uuid4().hex}"
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return str(path)


def _blob(data: bytes) -> bytes:
    return data


def _ship(client: distributed.Client, digest: str, data: bytes) -> distributed.Future:
    # A task returning the bytes rather than `scatter`: the scheduler keeps the task, so when
    # the only worker holding the data dies it is recomputed, and the jobs that need it are
    # rescheduled instead of being cancelled as depending on lost data. Keyed by content, a
    # file named by many jobs (or twice) is one task; workers fetch it from each other once.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Large object.*")
        return client.submit(_blob, data, key=f"mmfast-file-{digest}", pure=False)


def _run_remote(
    fn: Callable[[Any], Any],
    index: int,
    job: Any,
    files: Sequence[tuple[str, str, str]],
    *blobs: bytes,
) -> Outcome:
    if files:
        local = {
            field: materialise(digest, name, blob)
            for (field, digest, name), blob in zip(files, blobs, strict=True)
        }
        job = dataclasses.replace(job, **local)
    return call_job(fn, index, job, remote=True)


def dask_backend(
    fn: Callable[[Any], Any], jobs: Sequence[Any], address: str, n_jobs: int | None
) -> Iterator[Outcome]:
    """`run_jobs`' plug-in for `tcp://...` and `auto` (see the module docstring)."""
    if not jobs:
        return
    client = connect(address, n_jobs)
    scattered: dict[Path, tuple[str, distributed.Future]] = {}
    run = uuid.uuid4().hex[:12]
    futures: dict[distributed.Future, int] = {}
    for index, job in enumerate(jobs):
        files, blobs = [], []
        for field, path in _file_fields(job):
            key = path.resolve()
            if key not in scattered:
                data = key.read_bytes()
                digest = hashlib.sha256(data).hexdigest()[:32]
                scattered[key] = (digest, _ship(client, digest, data))
            digest, future = scattered[key]
            files.append((field, digest, path.name))
            blobs.append(future)
        fut = client.submit(
            _run_remote,
            fn,
            index,
            job,
            tuple(files),
            *blobs,
            key=f"mmfast-job-{run}-{index}",
            pure=False,
        )
        futures[fut] = index
    pending = set(futures)
    try:
        for fut in distributed.as_completed(list(futures)):
            pending.discard(fut)
            index = futures[fut]
            try:
                yield fut.result()
            except Exception as exc:  # the cluster, not the job: KilledWorker, lost connection
                yield (
                    index,
                    False,
                    Failure(
                        type(exc).__name__,
                        f"the cluster lost this job ({exc}); a worker died running it more than "
                        f"the scheduler's allowed-failures times, or the scheduler went away",
                        "",
                    ),
                )
    finally:
        if pending:
            client.cancel(list(pending))
        del scattered
