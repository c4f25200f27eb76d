"""`mmfast bench`: runs the package's benchmarks and prints each figure with its unit, what it
means and the baseline measured in the same run (the figure to read it against). A figure whose
optional peer (the official SDK, coincurve) is missing says "not installed".

With `--json` the only thing on stdout is one JSON object of the raw figures.
Exit status: 0 done, 1 when an area failed (the others' figures are still printed).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

import orjson

from mmfast.benchmarks import AREAS
from mmfast.cli.common import HelpFormatter


def areas(text: str) -> list[str]:
    """`--only a,b` (repeatable): area names, each checked."""
    out = [a.strip() for a in text.split(",") if a.strip()]
    bad = [a for a in out if a not in AREAS]
    if bad or not out:
        raise argparse.ArgumentTypeError(
            f"unknown area {', '.join(bad) or repr(text)}: choose from {', '.join(AREAS)}"
        )
    return out


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench",
        help="run the benchmarks and print figures with units, meanings and baselines",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    p.add_argument(
        "--only",
        action="append",
        type=areas,
        metavar="AREA[,AREA...]",
        help=f"run only these areas, comma-separated or repeated (default: all of "
        f"{', '.join(AREAS)})",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from mmfast.benchmarks.catalog import table

    figures: dict[str, object] = {}
    errors: dict[str, str] = {}
    chosen = [a for group in args.only for a in group] if args.only else AREAS
    for area in dict.fromkeys(chosen):
        t0 = time.perf_counter()
        try:
            mod = importlib.import_module(f"mmfast.benchmarks.{area}")
            figures.update(mod.run(quick=args.quick))
        except Exception as e:  # one area failing must not hide the others' figures
            errors[area] = f"{type(e).__name__}: {e}"
        print(f"bench {area}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if errors:
        figures["errors"] = "; ".join(f"{k}: {v}" for k, v in errors.items())
    if args.json:
        sys.stdout.write(orjson.dumps(figures).decode() + "\n")
    else:
        for line in table(figures):
            print(line)
    return 1 if errors else 0
