"""`mmfast derive`: the trading limits a capital supports (SPEC 1)."""

from __future__ import annotations

import argparse
import sys

import orjson

from mmfast import ExchangeContext, MmfastError, auto_derive


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "derive",
        help="derive max position, liquidity and spreads from capital",
        description="Derive trading parameters from capital and the exchange's numbers. "
        "Exit status 2 when the capital cannot support one minimum order.",
    )
    p.add_argument("--capital", type=float, required=True, metavar="USD")
    p.add_argument("--mark", type=float, required=True, metavar="PX", help="mark price")
    p.add_argument("--available-margin", type=float, required=True, metavar="USD")
    p.add_argument("--max-leverage", type=float, required=True, metavar="X")
    p.add_argument("--sz-decimals", type=int, default=4, metavar="N")
    p.add_argument("--fee-bps", type=float, default=1.5)
    p.add_argument("--min-notional", type=float, default=10.0, metavar="USD")
    p.add_argument("--profile", choices=["default", "hip3", "aggressive"], default="default")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        ctx = ExchangeContext(
            mark_px=args.mark,
            available_margin=args.available_margin,
            max_leverage=args.max_leverage,
            fee_bps=args.fee_bps,
            sz_decimals=args.sz_decimals,
            min_notional=args.min_notional,
        )
        d = auto_derive(args.capital, args.profile, ctx)
    except MmfastError as e:
        print(f"mmfast derive: {e}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(orjson.dumps(d.to_dict()).decode() + "\n")
    else:
        rows = [
            ("max_position", f"{d.max_position:g}"),
            ("max_position_usd", f"{d.max_position_usd:.2f}"),
            ("target_liquidity", f"{d.target_liquidity:.6g}"),
            ("risk_aversion", f"{d.risk_aversion:g}"),
            ("max_bps_diff", f"{d.max_bps_diff:g}"),
            ("min_order", f"{d.min_order:.6g}"),
            ("levels_per_side", str(d.levels_per_side)),
            ("capital_tier", d.capital_tier),
            ("viable", "yes" if d.viable else "no"),
        ]
        width = max(len(k) for k, _ in rows)
        for k, v in rows:
            print(f"{k:<{width}}  {v}")
        if d.diagnostic:
            print(d.diagnostic, file=sys.stderr)
    return 0 if d.viable else 2
