"""Operator commands that work without a running bot: `mmfast status` (position, today's PnL,
kill switch, last fills and monitor events, from the state file), `mmfast cancel-all` (every
open order of the account, over REST) and `mmfast reset-kill` (clear the kill switch so the bot
may start again). Each takes `--state FILE`, or `--config FILE` to find the state file the way
`mmfast run` does.

Exit status: 0 done, 1 runtime failure, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from mmfast.cli.common import HelpFormatter, fail
from mmfast.errors import ConfigError, MmfastError


def _where(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--state", metavar="FILE", help="the bot's SQLite state file")
    g.add_argument(
        "--config",
        metavar="FILE",
        help="the bot's config: its live.checkpoint, else the default state file of its "
        "account (live.master_address or the key's) and asset",
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, help_, fn in (
        (
            "status",
            "position, today's PnL, kill switch and last fills, from the state file",
            status,
        ),
        (
            "cancel-all",
            "cancel every open order of the account now (REST), bot running or not",
            cancel_all,
        ),
        ("reset-kill", "clear the kill switch so that the bot may start again", reset_kill),
    ):
        p = sub.add_parser(name, help=help_, description=__doc__, formatter_class=HelpFormatter)
        _where(p)
        if name == "status":
            p.add_argument("--fills", type=int, default=10, metavar="N", help="last fills to show")
            p.add_argument("--json", action="store_true", help="print one JSON object")
        p.set_defaults(run=fn)


def _config(args: argparse.Namespace) -> Any:
    from mmfast.config import load_config

    return load_config(args.config) if args.config else None


def _network(cfg: Any) -> str:
    return str(cfg.network).lower().rsplit(".", 1)[-1]


def _account(cfg: Any) -> str:
    from mmfast.keys import check_address, load_identity

    if cfg.live.master_address:
        return check_address("live.master_address", cfg.live.master_address)
    return load_identity(cfg.live, is_mainnet=_network(cfg) == "mainnet").account


def state_path(args: argparse.Namespace, cfg: Any) -> Path:
    from mmfast.store import default_state_path

    if args.state:
        return Path(args.state)
    if cfg.live.checkpoint:
        return Path(cfg.live.checkpoint)
    return default_state_path(_account(cfg), str(cfg.asset), _network(cfg))


def _ts(ms: float | None) -> str:
    if not ms:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + " UTC"


def status(args: argparse.Namespace) -> int:
    from mmfast.store import StateStore

    try:
        path = state_path(args, _config(args))
        st = StateStore(path, read_only=True)
    except MmfastError as e:
        return fail("status", e)
    try:
        info, run, day = st.info(), st.last_run(), st.daily()
        doc = {
            "state_file": str(path),
            "account": info.get("account"),
            "asset": info.get("asset"),
            "network": info.get("network"),
            "kill": st.kill_state(),
            "position": None if run is None else run["position"],
            "last_update": None if run is None else _ts(run["updated_ms"]),
            "running": run is not None and run["ended_ms"] is None,
            "last_exit": None if run is None else run["exit"],
            "today_pnl_usd": round(st.day_pnl(), 6),
            "today": day,
            "fills": st.last_fills(args.fills),
            "events": st.events(10),
        }
    finally:
        st.close()
    if args.json:
        sys.stdout.write(orjson.dumps(doc).decode() + "\n")
        return 0
    k = doc["kill"]
    rows = [
        ("state file", doc["state_file"]),
        ("account", f"{doc['account']} {doc['asset']} on {doc['network']}"),
        (
            "kill switch",
            "off"
            if k is None
            else f"SET {_ts(k['at_ms'])} by {k['reason']}: "
            f"{k['detail']} (clear: mmfast reset-kill --state {path})",
        ),
        ("position", f"{doc['position']} (as of {doc['last_update']})"),
        ("last run", "running (or crashed)" if doc["running"] else f"ended: {doc['last_exit']}"),
        ("today's PnL", f"{doc['today_pnl_usd']:+.2f} USD (equity change, all runs today)"),
    ]
    if day:
        rows.append(
            (
                "today",
                f"realised {day['realised']:+.2f}, unrealised {day['unrealised']:+.2f}, fees "
                f"{day['fees']:.2f}, funding {day['funding']:+.2f} USD; {day['fills']} fills, "
                f"volume {day['volume']:.2f} USD",
            )
        )
    w = max(len(a) for a, _ in rows)
    for a, b in rows:
        print(f"{a:<{w}}  {b}")
    if doc["fills"]:
        print("last fills:")
        for f in doc["fills"]:
            print(
                f"  {_ts(f['time_ms'])}  {'buy ' if f['side'] == 'B' else 'sell'} {f['sz']:g} @ "
                f"{f['px']:g}  fee {f['fee']:.4f}  pnl {f['closed_pnl']:+.4f}  tid {f['tid']}"
            )
    if doc["events"]:
        print("monitor events:")
        for e in doc["events"]:
            print(f"  {_ts(e['at_ms'])}  {e['kind']:<7} {e['monitor']:<17} {e['detail']}")
    return 0


def reset_kill(args: argparse.Namespace) -> int:
    from mmfast.store import StateStore

    try:
        path = state_path(args, _config(args))
        if not path.is_file():
            raise ConfigError(f"{path}: no state file there")
        st = StateStore(path)
    except MmfastError as e:
        return fail("reset-kill", e)
    try:
        was = st.reset_kill()
    finally:
        st.close()
    if was is None:
        print(f"kill switch was not set ({path})")
    else:
        print(
            f"kill switch cleared ({path}); it was set {_ts(was['at_ms'])} by {was['reason']}: "
            f"{was['detail']}"
        )
    return 0


def cancel_all(args: argparse.Namespace) -> int:
    import asyncio

    from mmfast.keys import load_identity
    from mmfast.store import StateStore

    try:
        cfg = _config(args)
        if cfg is None:
            st = StateStore(Path(args.state), read_only=True)
            info = st.info()
            st.close()
            from mmfast.config import load_config

            cfg = load_config(
                None,
                overrides=[
                    ("network", info.get("network", "testnet")),
                    ("max_position", "1"),
                    *([("live.master_address", info["account"])] if info.get("account") else []),
                ],
            )
        ident = load_identity(cfg.live, is_mainnet=_network(cfg) == "mainnet")
        n = asyncio.run(_cancel_everything(cfg, ident))
    except MmfastError as e:
        return fail("cancel-all", e)
    except OSError as e:
        return fail("cancel-all", f"cannot reach the exchange: {e}", 1)
    print(f"cancelled {n} order(s) of {ident.account}")
    return 0


async def _cancel_everything(cfg: Any, ident: Any) -> int:
    from mmfast.gateway.limits import WeightBucket
    from mmfast.gateway.rest import RestClient
    from mmfast.live.node import endpoints
    from mmfast.truth import asset_ids, dex_base, dex_of

    rest = RestClient(endpoints(cfg).api, WeightBucket(cfg.live.ip_weight_per_minute))
    try:
        total = 0
        for dex in dict.fromkeys(["", dex_of(str(cfg.asset))]):
            extra = {"dex": dex} if dex else {}
            orders = await rest.info("openOrders", user=ident.account, **extra)
            if not orders:
                continue
            meta = await rest.info("meta", **extra)
            base = dex_base(await rest.info("perpDexs"), dex) if dex else 0
            ids = asset_ids(meta, base)
            cancels = [(ids[o["coin"]], int(o["oid"])) for o in orders if o["coin"] in ids]
            answer = orjson.loads(
                await rest.exchange(ident.signer.sign_cancel(cancels), len(cancels))
            )
            if answer.get("status") != "ok":
                raise MmfastError(f"the exchange refused the cancel: {answer.get('response')}")
            total += len(cancels)
        return total
    finally:
        await rest.close()
