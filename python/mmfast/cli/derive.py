"""`mmfast derive`: the trading limits a capital supports (SPEC 1)."""

from __future__ import annotations

import argparse
import sys

import orjson

from mmfast import ExchangeContext, MmfastError, auto_derive
from mmfast.cli.common import HelpFormatter, fail, non_negative_int, positive_float


def sz_decimals(text: str) -> int:
    v = non_negative_int(text)
    if v > 6:
        raise argparse.ArgumentTypeError(f"{text!r}: Hyperliquid perps have 0 to 6 size decimals")
    return v


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "derive",
        help="derive max position, liquidity and spreads from capital",
        description="Derive trading parameters from capital and the exchange's numbers.\n\n"
        "Exit status: 0 viable, 2 when the capital cannot support one minimum order or an "
        "argument is invalid.",
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--capital", type=positive_float, required=True, metavar="USD", help="capital to trade with"
    )
    p.add_argument(
        "--mark", type=positive_float, required=True, metavar="PX", help="mark price of the asset"
    )
    p.add_argument(
        "--available-margin",
        type=positive_float,
        required=True,
        metavar="USD",
        help="margin available to the account",
    )
    p.add_argument(
        "--max-leverage",
        type=positive_float,
        required=True,
        metavar="X",
        help="the asset's max leverage (from meta)",
    )
    p.add_argument(
        "--sz-decimals",
        type=sz_decimals,
        default=4,
        metavar="N",
        help="the asset's size decimals (from meta)",
    )
    p.add_argument("--fee-bps", type=float, default=1.5, metavar="BPS", help="maker fee")
    p.add_argument(
        "--min-notional",
        type=positive_float,
        default=10.0,
        metavar="USD",
        help="the exchange's minimum order value",
    )
    p.add_argument(
        "--profile",
        choices=["default", "hip3", "aggressive"],
        default="default",
        help="spread profile: liquidity share and risk aversion",
    )
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
        return fail("derive", e)
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
