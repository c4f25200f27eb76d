"""`mmfast bench`: runs the package's benchmarks and prints named figures with their same-run
baselines. With `--json` the only thing on stdout is one JSON object."""

from __future__ import annotations

import argparse
import importlib
import sys
import time

import orjson

from mmfast.benchmarks import AREAS


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("bench", help="run the benchmarks and print figures with baselines")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    p.add_argument(
        "--only",
        action="append",
        choices=AREAS,
        metavar="AREA",
        help=f"run only these areas ({', '.join(AREAS)})",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    figures: dict[str, float | str] = {}
    errors: dict[str, str] = {}
    for area in args.only or AREAS:
        t0 = time.perf_counter()
        try:
            mod = importlib.import_module(f"mmfast.benchmarks.{area}")
            figures.update(mod.run(quick=args.quick))
        except Exception as e:  # one area failing must not hide the others' figures
            errors[area] = f"{type(e).__name__}: {e}"
        print(f"bench {area}: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    if errors:
        figures["errors"] = "; ".join(f"{k}: {v}" for k, v in errors.items())
    if args.json:
        sys.stdout.write(orjson.dumps(figures).decode() + "\n")
    else:
        width = max((len(k) for k in figures), default=0)
        for k, v in figures.items():
            print(f"{k:<{width}}  {v:.4g}" if isinstance(v, float) else f"{k:<{width}}  {v}")
    return 1 if errors else 0
