"""Ray vs Dask distributed, measured here on the same sweep (issue 15 step 1; not run in CI).

Each engine gets a real local cluster started the way a user starts one (head/scheduler plus one
worker node on 127.0.0.1, free ports), a driver that connects to it, and the same N-job sweep:

* start-up: from spawning the head to the first task's result back in the driver (s);
* no-op sweep: N jobs that return at once; wall / N is the engine's per-job cost (ms/job);
* CPU sweep: N deterministic CPU-bound jobs (a pure-Python LCG loop of about --job-ms each),
  results checked equal to the serial run; throughput (jobs/s) beside the same-run baselines
  (serial in-process, and a local ProcessPoolExecutor with the same number of processes);
  CPU overhead per job = (CPU seconds of driver + cluster during the sweep - serial CPU) / N,
  the figure that does not depend on how busy the shared machine is;
* memory: RSS of the driver process and the summed RSS of every cluster process (MiB);
* with --real, the same sweep of short real backtests through `mmfast.backtest.run_job`.

Run: `.venv/bin/python benches/cluster_engines.py --jobs 200 --workers 2` (each engine in a fresh
subprocess so memory and imports do not leak between them). Install size is measured separately
(a fresh venv per engine; see the closing note). The machine is shared: every figure is printed
beside its same-run baseline.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MASK = (1 << 64) - 1


def cpu_job(job: tuple[int, int]) -> int:
    """Deterministic, CPU-bound, picklable: `iters` steps of a 64-bit LCG from `seed`."""
    seed, iters = job
    h = seed
    for _ in range(iters):
        h = (h * 6364136223846793005 + 1442695040888963407) & MASK
    return h


def noop_job(job: tuple[int, int]) -> int:
    return job[0]


def real_job(job: Any) -> dict:
    """A real backtest's summary without its timing fields (the only ones that may differ)."""
    from mmfast.backtest import TIMING_KEYS, run_job

    return {k: v for k, v in run_job(job).items() if k not in TIMING_KEYS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree(procs: list[Any]) -> list[Any]:
    """The launched processes and all their descendants, as psutil handles."""
    import psutil

    out = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            ps = psutil.Process(p.pid)
            out += [ps, *ps.children(recursive=True)]
    return out


def _sum(procs: list[Any], measure) -> float:
    import psutil

    total = 0.0
    for q in procs:
        with contextlib.suppress(psutil.Error):
            total += measure(q)
    return total


def tree_rss_mib(procs: list[Any]) -> float:
    return _sum(_tree(procs), lambda q: q.memory_info().rss) / 2**20


def tree_cpu_s(procs: list[Any]) -> float:
    """User + system CPU seconds used so far by the driver and every cluster process: unlike
    wall time, it does not depend on how busy the shared machine is."""
    import psutil

    return _sum([psutil.Process(), *_tree(procs)], lambda q: sum(q.cpu_times()[:2]))


def kill_tree(procs: list[Any]) -> None:
    import psutil

    for p in procs:
        try:
            kids = psutil.Process(p.pid).children(recursive=True)
        except psutil.Error:
            kids = []
        for q in [*kids]:
            with contextlib.suppress(psutil.Error):
                q.kill()
        with contextlib.suppress(OSError):
            p.kill()
        p.wait(timeout=30)


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def wait_for(cond, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise TimeoutError(what)


class RayEngine:
    name = "ray"

    def start(self, workers: int, tmp: str) -> list[subprocess.Popen]:
        port = free_port()
        self.address = f"127.0.0.1:{port}"
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
        common = ["--block", "--disable-usage-stats", "--node-ip-address=127.0.0.1"]
        head = subprocess.Popen(
            [venv_bin("ray"), "start", "--head", f"--port={port}", "--num-cpus=0",
             "--include-dashboard=false", f"--temp-dir={tmp}", *common],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import ray

        wait_for(lambda: _port_open(port), 60, "ray head")
        worker = subprocess.Popen(
            [venv_bin("ray"), "start", f"--address={self.address}", f"--num-cpus={workers}",
             *common],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        ray.init(address=self.address, logging_level="ERROR", log_to_driver=False)
        wait_for(lambda: ray.cluster_resources().get("CPU", 0) >= workers, 60, "ray worker")
        self.ray = ray
        self.remote = {}
        return [head, worker]

    def run(self, fn, jobs: list) -> list:
        ray = self.ray
        rf = self.remote.get(fn)
        if rf is None:
            rf = self.remote[fn] = ray.remote(max_retries=3)(fn)
        refs = {rf.remote(j): i for i, j in enumerate(jobs)}
        out: list = [None] * len(jobs)
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=min(len(pending), 16), timeout=1.0)
            for r in done:
                out[refs[r]] = ray.get(r)
        return out

    def stop(self) -> None:
        self.ray.shutdown()


class DaskEngine:
    name = "dask"

    def start(self, workers: int, tmp: str) -> list[subprocess.Popen]:
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        head = subprocess.Popen(
            [venv_bin("dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", ":0", "--no-show"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp,
        )
        worker = subprocess.Popen(
            [venv_bin("dask"), "worker", self.address, "--host", "127.0.0.1",
             "--nworkers", str(workers), "--nthreads", "1", "--no-dashboard",
             "--local-directory", tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp,
        )
        from distributed import Client

        self.client = Client(self.address, timeout=60)
        self.client.wait_for_workers(workers, timeout=60)
        return [head, worker]

    def run(self, fn, jobs: list) -> list:
        from distributed import as_completed

        futs = self.client.map(fn, jobs, pure=False)
        index = {f.key: i for i, f in enumerate(futs)}
        out: list = [None] * len(jobs)
        for fut, res in as_completed(futs, with_results=True):
            out[index[fut.key]] = res
        return out

    def stop(self) -> None:
        self.client.close()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def driver_rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def measure_engine(engine_name: str, workers: int, cpu_jobs: list, real_jobs: list) -> dict:
    engine = {"ray": RayEngine, "dask": DaskEngine}[engine_name]()
    rss0 = driver_rss_mib()
    tmp = tempfile.mkdtemp(prefix=f"{engine_name[:1]}b", dir="/tmp")
    t0 = time.perf_counter()
    procs = engine.start(workers, tmp)
    try:
        assert engine.run(noop_job, [(7, 0)]) == [7]
        r: dict[str, Any] = {"engine": engine_name, "workers": workers,
                             "startup_s": time.perf_counter() - t0}
        noop = [(i, 0) for i in range(len(cpu_jobs))]
        engine.run(noop_job, noop[:20])  # warm the worker processes
        t, c = time.perf_counter(), tree_cpu_s(procs)
        assert engine.run(noop_job, noop) == [j[0] for j in noop]
        r["noop_ms_per_job"] = (time.perf_counter() - t) / len(noop) * 1e3
        r["noop_cpu_ms_per_job"] = (tree_cpu_s(procs) - c) / len(noop) * 1e3
        t, c = time.perf_counter(), tree_cpu_s(procs)
        r["cpu_results"] = engine.run(cpu_job, cpu_jobs)
        r["cpu_wall_s"] = time.perf_counter() - t
        r["cpu_cpu_s"] = tree_cpu_s(procs) - c
        if real_jobs:
            t = time.perf_counter()
            r["real_results"] = engine.run(real_job, real_jobs)
            r["real_wall_s"] = time.perf_counter() - t
        r["driver_rss_mib"] = driver_rss_mib()
        r["driver_rss_delta_mib"] = r["driver_rss_mib"] - rss0
        r["cluster_rss_mib"] = tree_rss_mib(procs)
    finally:
        engine.stop()
        kill_tree(procs)
        shutil.rmtree(tmp, ignore_errors=True)
    return r


def serial(fn, jobs: list) -> tuple[list, float]:
    """Results and the CPU seconds the sweep takes in this process (CPU, not wall: the machine
    is shared, and wall time there measures the neighbours)."""
    t = time.process_time()
    out = [fn(j) for j in jobs]
    return out, time.process_time() - t


def pool(fn, jobs: list, workers: int) -> tuple[list, float, float]:
    """Results, wall seconds and CPU seconds (this process and its reaped workers)."""
    import resource

    def cpu() -> float:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    t, c = time.perf_counter(), cpu()
    with cf.ProcessPoolExecutor(workers) as ex:
        out = list(ex.map(fn, jobs))
    return out, time.perf_counter() - t, cpu() - c


def calibrate_iters(job_ms: float) -> int:
    n = 200_000
    t = time.process_time()
    cpu_job((1, n))
    return max(1, int(n * job_ms / 1e3 / (time.process_time() - t)))


def make_real_jobs(n: int, duration_s: float) -> list:
    from mmfast.backtest import Job

    return [Job(market="synthetic:default", seed=i + 1, duration_s=duration_s) for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--job-ms", type=float, default=50.0, help="target serial cost of a CPU job")
    ap.add_argument("--workers", default="2", help="comma-separated worker counts, e.g. 1,2")
    ap.add_argument("--engines", default="ray,dask")
    ap.add_argument("--real", type=float, default=0.0,
                    help="also sweep real backtests of this many simulated seconds")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--iters", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--json", help="write the figures to this file")
    a = ap.parse_args()

    if a.one:
        engine, workers = a.one.split(":")
        cpu_jobs = [(i, a.iters) for i in range(a.jobs)]
        real_jobs = make_real_jobs(a.jobs, a.real) if a.real else []
        print(json.dumps(measure_engine(engine, int(workers), cpu_jobs, real_jobs)))
        return

    iters = calibrate_iters(a.job_ms)
    cpu_jobs = [(i, iters) for i in range(a.jobs)]
    ser, ser_s = serial(cpu_job, cpu_jobs)
    real_jobs = make_real_jobs(a.jobs, a.real) if a.real else []
    real_ser, real_ser_s = serial(real_job, real_jobs) if real_jobs else ([], 0.0)
    rows = []
    for w in [int(x) for x in a.workers.split(",")]:
        base, base_s, base_cpu = pool(cpu_job, cpu_jobs, w)
        assert base == ser
        row_base = {"engine": "local processes", "workers": w, "cpu_wall_s": base_s,
                    "cpu_cpu_s": base_cpu}
        if real_jobs:
            rb, row_base["real_wall_s"], _ = pool(real_job, real_jobs, w)
            assert rb == real_ser
        rows.append(row_base)
        for e in a.engines.split(","):
            out = subprocess.run(
                [sys.executable, __file__, "--one", f"{e}:{w}", "--jobs", str(a.jobs),
                 "--iters", str(iters), "--real", str(a.real)],
                capture_output=True, text=True, timeout=1800,
            )
            if out.returncode:
                print(out.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{e} failed")
            r = json.loads(out.stdout.strip().splitlines()[-1])
            assert r.pop("cpu_results") == ser, f"{e}: results differ from the serial run"
            if real_jobs:
                assert r.pop("real_results") == real_ser, f"{e}: backtests differ from serial"
            rows.append(r)

    print(f"jobs={a.jobs} cpu job={ser_s / a.jobs * 1e3:.1f} ms serial CPU "
          f"(serial sweep {ser_s:.2f} s); load avg {os.getloadavg()[0]:.2f}")
    if real_jobs:
        print(f"real backtest job={real_ser_s / a.jobs * 1e3:.1f} ms serial "
              f"({a.real:g} simulated s each; serial sweep {real_ser_s:.2f} s)")
    hdr = ("engine", "workers", "startup s", "noop ms/job", "noop CPU ms/job", "cpu wall s",
           "cpu jobs/s", "CPU overhead ms/job", "real wall s", "driver MiB (+)", "cluster MiB")
    print(" | ".join(hdr))
    for r in rows:
        w = r["workers"]
        over = (r["cpu_cpu_s"] - ser_s) / a.jobs * 1e3 if "cpu_cpu_s" in r else float("nan")
        print(" | ".join([
            r["engine"], str(w), f"{r.get('startup_s', 0):.2f}",
            f"{r.get('noop_ms_per_job', 0):.2f}", f"{r.get('noop_cpu_ms_per_job', 0):.2f}",
            f"{r['cpu_wall_s']:.2f}",
            f"{a.jobs / r['cpu_wall_s']:.1f}", f"{over:.1f}",
            f"{r.get('real_wall_s', 0):.2f}",
            f"{r.get('driver_rss_mib', 0):.0f} (+{r.get('driver_rss_delta_mib', 0):.0f})",
            f"{r.get('cluster_rss_mib', 0):.0f}",
        ]))
    if a.json:
        Path(a.json).write_text(json.dumps({"serial_s": ser_s, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
