"""`mmfast paper`: the real bot against the local venue, nothing at risk.

It starts the venue in its own process (the synthetic market `synthetic:demo` by default, any
preset of `mmfast backtest`, or `--market replay:FILE`), funds a throwaway key there, and runs the
bot, feeds, engine, signer and gateway, over real sockets on 127.0.0.1. The terminal shows a live
dashboard (plain progress lines without a terminal). On Ctrl-C or after `--duration S` the bot
cancels everything, the summary is printed and, with `--summary FILE`, written as JSON;
`invariant_breaches` is the venue's own count, not the bot's.

Without --config the bot runs the paper profile: the built-in defaults with the quote floor
ladder.min_half_spread_bps = 2.5 (live default 8.01) and limits sized from --capital, the
profile `mmfast backtest` uses without --config; with --config FILE, the file's values.
`MMFAST_*` variables override config fields exactly as for `mmfast run`.

Exit status: 0 done, 1 runtime failure (errors or invariant breaches), 2 usage or config error.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import secrets
import tempfile
from pathlib import Path
from typing import Any

import orjson

from mmfast.backtest.markets import (
    MARKET_METAVAR,
    MARKETS_HELP,
    PAPER_MARKET,
    parse_market,
    synthetic_asset,
)
from mmfast.cli.common import (
    HelpFormatter,
    add_run_options,
    check_writable,
    fail,
    non_negative_int,
    positive_float,
)
from mmfast.errors import ConfigError, InputError, MmfastError

log = logging.getLogger("mmfast.paper")

#: The paper profile's floor (SPEC 7): 2.5 bps instead of the live 8.01. `mmfast backtest` uses
#: the same profile without --config.
PAPER_MIN_HALF_SPREAD_BPS = 2.5


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "paper",
        help="run the bot against the local venue (synthetic market), nothing at risk",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "--market",
        default=PAPER_MARKET,
        metavar=MARKET_METAVAR,
        help=f"the venue's market (default {PAPER_MARKET}): {MARKETS_HELP}",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="bot config (TOML); its endpoints are replaced by the venue's (default: the paper "
        f"profile, the built-in defaults with ladder.min_half_spread_bps = "
        f"{PAPER_MIN_HALF_SPREAD_BPS} and limits from --capital, as mmfast backtest)",
    )
    p.add_argument("--seed", type=non_negative_int, default=7, help="seed of the synthetic market")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a bot config path, or a synthetic market parameter as market.NAME "
        "(the same as `mmfast backtest --set`, e.g. market.trade_rate=20); repeatable",
    )
    p.add_argument(
        "--capital",
        type=positive_float,
        default=1000.0,
        metavar="USD",
        help="USDC funded on the venue; the limits derive from it without --config",
    )
    p.add_argument(
        "--key-env",
        action="store_true",
        help="sign with MMFAST_PRIVATE_KEY (or the config's keystore) instead of a "
        "throwaway key; only its address is funded, on the venue",
    )
    p.add_argument(
        "--no-guardian",
        action="store_true",
        help="do not start the guardian process that cancels the account's orders if the bot "
        "dies without a clean shutdown (on by default)",
    )
    p.add_argument(
        "--venue",
        metavar="URL",
        help="trade on a venue already running at URL (python -m mmfast.venue) instead of "
        "starting one; the account must be funded there (tests, chaos runs)",
    )
    p.add_argument(
        "--chaos",
        metavar="FAULTS",
        help="inject faults in the venue, e.g. drop_hl_ws@10s,freeze_hl_ws@20s+5s,"
        "drop_binance_ws@30s,reject=0.05,ack_loss=0.02,one_sided=0.05 (times from the venue's "
        "start; every kind is listed in the docstring of mmfast.venue.chaos)",
    )
    p.add_argument("--checkpoint", metavar="FILE", help=argparse.SUPPRESS)  # old name of --state
    add_run_options(p, default_log_level="WARNING")
    p.set_defaults(run=run)


def replay_asset(path: str) -> dict[str, Any]:
    """The coin and starting mid of a recording (its first Hyperliquid book frame)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:  # type: ignore[operator]
        for line in f:
            _, _, frame = line.partition(" ")
            if '"l2Book"' not in frame:
                continue
            msg = orjson.loads(frame)
            if not isinstance(msg, dict) or msg.get("channel") != "l2Book":
                continue  # e.g. the subscription's acknowledgement, which names l2Book too
            data = msg["data"]
            bids, asks = data["levels"]
            if not bids or not asks:
                continue  # a one-sided book gives no mid (the replay starts where both exist)
            mid = (float(bids[0]["px"]) + float(asks[0]["px"])) / 2
            sz_dec = max(0, 6 - _decimals(bids[0]["px"]) - 1)
            return {
                "coin": data["coin"],
                "mid": mid,
                "sz_decimals": min(sz_dec, 5),
                "max_leverage": 20,
            }
    raise MmfastError(f"--market replay:{path}: no Hyperliquid l2Book frame in the file")


def _decimals(px: str) -> int:
    return len(px.split(".", 1)[1].rstrip("0")) if "." in px else 0


def max_position_for(cfg: Any, asset: dict[str, Any], capital: float) -> float:
    """The configured hard max in coin at the venue's starting mid (bot and venue share it), by
    `resolve_limits`, the rule the engine and the pre-send guard apply; a config that states no
    limit is sized from `--capital`."""
    from mmfast import ExchangeContext, MarketMakerConfig, auto_derive, resolve_limits

    mid = float(asset["mid"])
    ctx = ExchangeContext(
        mark_px=mid,
        available_margin=capital,
        max_leverage=float(asset["max_leverage"]),
        sz_decimals=int(asset["sz_decimals"]),
    )
    if cfg.max_position_usd is None and cfg.max_position is None and cfg.capital_usd is None:
        cfg = MarketMakerConfig.from_toml(cfg.to_toml(), "paper", [("capital_usd", repr(capital))])
    limits = resolve_limits(cfg, ctx)
    if not limits.max_position_user_specified:
        d = auto_derive(float(cfg.capital_usd), str(cfg.spread_profile), ctx)
        if not d.viable:
            raise ConfigError(f"capital {capital:g} USD: {d.diagnostic}")
    return float(limits.max_position)


def paper_profile(
    coin: str, capital_usd: float, lead_symbol: str | None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The paper profile, one place for `paper` and `backtest` (so that the two run the same
    bot): `(defaults, forced)` config overrides. `defaults` apply only without a config file
    (the capital, the paper half-spread floor); `forced` always (the asset, testnet, the lead
    venue the market provides)."""
    defaults = [
        ("capital_usd", repr(float(capital_usd))),
        ("ladder.min_half_spread_bps", repr(PAPER_MIN_HALF_SPREAD_BPS)),
    ]
    forced = [("asset", coin), ("network", "testnet")]
    if lead_symbol:
        forced += [("lead_venue", "binance"), ("lead.symbol", lead_symbol)]
    else:
        forced += [("lead_venue", "none")]
    return defaults, forced


def build_config(
    args: argparse.Namespace, asset: dict[str, Any], venue: Any | None, max_position: float | None
) -> Any:
    """The bot's config for the paper run: the file's (or the defaults with the paper profile)
    with the environment's overrides, as `run` reads it, then pointed at the venue."""
    from mmfast.config import load_config

    defaults, forced = paper_profile(asset["coin"], args.capital, asset.get("binance_symbol"))
    if max_position is not None:
        forced.append(("max_position", repr(max_position)))
    if venue is not None:
        forced += [
            ("live.api_url", venue.url),
            ("live.ws_url", venue.ws),
            ("live.binance_ws_url", venue.binance_ws),
        ]
    state = getattr(args, "state", None) or getattr(args, "checkpoint", None)
    if state:
        forced.append(("live.checkpoint", str(state)))
    if getattr(args, "metrics_port", None) is not None:
        from mmfast.ops.session import metrics_port

        args.metrics_port = metrics_port(args.metrics_port)  # 0: a free port, chosen once
        forced.append(("live.metrics_port", str(args.metrics_port)))
    # `--set` paths override the file and the environment; what paper must fix wins over them.
    over = [*getattr(args, "bot_overrides", []), *forced]
    return load_config(args.config, overrides=over, defaults=defaults)


def run(args: argparse.Namespace) -> int:
    from mmfast.live.metrics import setup_logging

    setup_logging(args.log_level, args.log_json)
    if getattr(args, "chaos", None):
        from mmfast.venue.chaos import parse_chaos

        try:
            parse_chaos(args.chaos)
        except MmfastError as e:
            return fail("paper", e, code=2)
    try:
        if args.summary:
            check_writable(args.summary, "--summary")
        summary = paper(args)
    except MmfastError as e:
        return fail("paper", e)
    print_summary(summary)
    if args.summary:
        Path(args.summary).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    return 0 if summary.get("errors", 1) == 0 and summary.get("invariant_breaches", 1) == 0 else 1


def check_market(asset: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Validates `--set market.*` by the venue's own parser before the venue starts (a bad key
    or value is the user's mistake, named here, not the venue process's failure)."""
    from mmfast._core import MatchingEngine

    try:
        MatchingEngine(orjson.dumps({"assets": [asset]}).decode())
    except MmfastError as e:
        names = ", ".join(f"market.{k}" for k in overrides)
        raise InputError(f"--set {names}: {e}") from None


def paper(args: argparse.Namespace) -> dict[str, Any]:
    from mmfast import Signer
    from mmfast.backtest.job import parse_set, split_overrides
    from mmfast.keys import Identity
    from mmfast.live.venue_process import VenueProcess
    from mmfast.ops.session import run_session

    args.bot_overrides, other = split_overrides(tuple(parse_set(getattr(args, "set", []))))
    if other["venue"] or other["backtest"]:
        raise InputError(
            "--set: venue.* and backtest.* are backtest settings; paper takes bot config "
            "paths and market.*: "
            + ", ".join(f"{k}.{n}" for k in ("venue", "backtest") for n in other[k])
        )
    market = args.market
    kind, name = parse_market(market)
    if kind == "synthetic":
        # The presets of `mmfast backtest --market synthetic:NAME` (sim/presets.rs), with the
        # same market.* overrides.
        asset = synthetic_asset(name, "ETH")
        if other["market"]:
            asset["synthetic"].update(other["market"])
            check_market(asset, other["market"])
        venue_args = [
            "--market",
            "synthetic",
            "--seed",
            str(args.seed),
            "--sim",
            orjson.dumps({"assets": [asset]}).decode(),
        ]
    else:
        if other["market"]:
            raise InputError(
                "--set market.*: a replay has no market parameters: " + ", ".join(other["market"])
            )
        path = name
        if not path or not Path(path).is_file():
            raise ConfigError(f"--market {market}: file not found")
        asset = replay_asset(path)
        venue_args = ["--replay", path, "--replay-loop"]

    pre = build_config(args, asset, None, None)
    if args.key_env:
        from mmfast.keys import load_identity, load_key_hex

        ident = load_identity(pre.live, is_mainnet=False)  # the venue signs as testnet
        key: str | None = None if args.no_guardian else load_key_hex(pre.live)[0]
    else:
        # A throwaway key: made here, handed to the Signer (and the guardian, through its pipe),
        # never printed, logged or written.
        key = secrets.token_hex(32)
        signer = Signer(key, is_mainnet=False)
        ident = Identity(
            signer=signer, signer_address=signer.address.lower(), account=signer.address.lower()
        )
    address = ident.account
    max_position = max_position_for(pre, asset, args.capital)
    # The venue counts breaches against the configured limit: a USD one (SPEC 2: the source of
    # truth) at its own mid, as the bot re-resolves it; else the coin max.
    limit = (
        ["--max-position-usd", f"{address}:{asset['coin']}={pre.max_position_usd}"]
        if pre.max_position_usd is not None
        else ["--max-position", f"{address}:{asset['coin']}={max_position}"]
    )
    venue_args += [
        "--fund",
        f"{address}={args.capital}",
        *limit,
        "--log-level",
        args.log_level,
    ]
    if ident.is_agent:
        venue_args += ["--agent", f"{ident.signer_address}={ident.account}"]
    if args.chaos:
        venue_args += ["--chaos", args.chaos]
    venue_cm: Any = RunningVenue(args.venue) if args.venue else VenueProcess(venue_args)
    with venue_cm as venue, tempfile.TemporaryDirectory(prefix="mmfast-") as tmp:
        cfg = build_config(args, asset, venue, max_position)
        guardian = None
        if key is not None and not args.no_guardian:
            from mmfast.live.guardian import Guardian
            from mmfast.truth import dex_of

            guardian = Guardian.start(
                venue.url, address, key, is_mainnet=False, dex=dex_of(str(cfg.asset))
            )
            log.info("guardian started (pid %d)", guardian.proc.pid)
        del key
        summary = run_session(
            cfg,
            ident,
            network="testnet",
            # Without --state, a throwaway file: the monitors and kill switch still run.
            state_path=cfg.live.checkpoint or Path(tmp) / "paper.sqlite",
            title=f"mmfast paper: {asset['coin']} on the local venue ({market})",
            plain=args.plain,
            duration=args.duration,
            guardian=guardian,
        )
        try:
            ledger = venue.ledger()
            orphans = len(open_orders(venue.url, address))
        except OSError as e:
            log.error("cannot read the venue's ledger: %s", e)
            ledger, orphans = {}, -1
    summary["invariant_breaches"] = venue_breaches(ledger, address)
    summary["venue_position"] = venue_position(ledger, address, asset["coin"])
    # Fault accounting (issue 13): the venue's counts, and what the bot left behind.
    summary["faults_injected"] = ledger.get("faults", {})
    summary["orphan_orders"] = orphans  # resting on the venue after the bot stopped
    summary["duplicate_orders"] = int(ledger.get("duplicate_orders", 0))
    vp = summary["venue_position"]
    summary["position_mismatch"] = (
        None if vp is None else round(abs(float(summary.get("position", 0.0)) - vp), 10)
    )
    summary["market"] = market
    return summary


class RunningVenue:
    """A venue somebody else started (`--venue URL`): the same attributes as `VenueProcess`."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        if not self.url.startswith("http://"):
            raise MmfastError(f"--venue {url!r}: expected http://HOST:PORT")
        self.binance_ws = "ws://" + self.url[len("http://") :]
        self.ws = self.binance_ws + "/ws"

    def ledger(self, timeout_s: float = 5.0) -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(self.url + "/venue/ledger", timeout=timeout_s) as r:
            result: dict[str, Any] = orjson.loads(r.read())
            return result

    def __enter__(self) -> RunningVenue:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def open_orders(url: str, address: str) -> list[dict[str, Any]]:
    """The venue's open orders of `address` (`/info openOrders`)."""
    import urllib.request

    req = urllib.request.Request(
        url + "/info",
        data=orjson.dumps({"type": "openOrders", "user": address}),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        out = orjson.loads(r.read())
    return out if isinstance(out, list) else []


def _account(ledger: dict[str, Any], address: str) -> dict[str, Any]:
    """Our entry of the venue's ledger (`GET /venue/ledger`: `{"ledger": {address: {...}}}`)."""
    acct = (ledger.get("ledger") or {}).get(address.lower())
    return acct if isinstance(acct, dict) else {}


def venue_breaches(ledger: dict[str, Any], address: str) -> int:
    """Safety-invariant breaches the venue counted for our account. An unreadable ledger counts
    as a breach: the run cannot claim a clean record it could not check."""
    acct = _account(ledger, address)
    return int(acct["breaches"]) if "breaches" in acct else 1


def venue_position(ledger: dict[str, Any], address: str, coin: str) -> float | None:
    c = (_account(ledger, address).get("coins") or {}).get(coin)
    return float(c["position"]) if isinstance(c, dict) and "position" in c else None


def print_summary(s: dict[str, Any], title: str = "mmfast paper summary") -> None:
    keys = [
        "exit",
        "position",
        "fills",
        "volume_usd",
        "pnl_usd",
        "realised_pnl_usd",
        "unrealised_pnl_usd",
        "fees_usd",
        "funding_usd",
        "net_pnl_usd",
        "max_abs_position",
        "max_position",
        "cycles",
        "cycle_p50_us",
        "cycle_p99_us",
        "actions_sent",
        "actions_rejected",
        "reconnects",
        "errors",
        "invariant_breaches",
        "faults_injected",
        "orphan_orders",
        "duplicate_orders",
        "position_mismatch",
        "duration_s",
        "stop_reason",
    ]
    print(f"\n{title}")
    for k in keys:
        if k in s:
            print(f"  {k:<20} {s[k]}")
