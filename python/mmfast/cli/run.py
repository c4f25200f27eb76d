"""`mmfast run --config FILE` (alias `live`): the bot on a Hyperliquid network.

Testnet unless the config says `network = "mainnet"`; then it trades real money only after you
type the asset and network at the prompt, or with `--yes` (without a terminal and without
`--yes` it refuses). Start with `--dry-run`: real market data and the account read, every cycle
run, each action it would send logged, nothing signed with your key and nothing sent.

The key comes from MMFAST_PRIVATE_KEY or live.keystore (password in MMFAST_KEYSTORE_PASSWORD);
live.master_address names the account an agent (API wallet) key trades for. A preflight prints
what it will trade with and refuses, with the numbers, when it cannot. State (fills, daily PnL,
kill switch, learned state) goes to the --state file. Ctrl-C or --duration stops it: every order
is cancelled, with --flatten-on-exit the position is closed with reduce-only IOC orders, and the
exit summary is printed.

Exit status: 0 done, 1 runtime failure or kill switch, 2 usage, configuration or preflight
refusal.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from pathlib import Path

import orjson

from mmfast.cli.common import HelpFormatter, add_run_options, check_writable, fail
from mmfast.errors import ConfigError, MmfastError

log = logging.getLogger("mmfast.run")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        aliases=["live"],
        help="run the bot on Hyperliquid (testnet unless the config says mainnet)",
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--config", required=True, metavar="FILE", help="bot config (TOML)")
    p.add_argument(
        "--yes",
        action="store_true",
        help="confirm a mainnet run without the typed confirmation (real money)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="read market data and the account, run every cycle, log the actions instead of "
        "sending them; needs no key (reads live.master_address, else the key's account)",
    )
    p.add_argument(
        "--flatten-on-exit",
        action="store_true",
        help="on exit, after cancelling, close the position with reduce-only IOC orders "
        "(default: the position is left open and shown in the exit summary)",
    )
    p.add_argument(
        "--no-guardian",
        action="store_true",
        help="do not start the guardian process that cancels the account's orders if the bot "
        "dies without a clean shutdown (on by default; a dry run has none)",
    )
    add_run_options(p, default_log_level="INFO")
    p.set_defaults(run=run)


def confirm_mainnet(asset: str, yes: bool) -> None:
    """Raises `ConfigError` unless the operator confirmed real money."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise ConfigError(
            'network = "mainnet" trades real money and there is no terminal to confirm at: '
            "pass --yes, or run it from a terminal, or try --dry-run first"
        )
    want = f"{asset} mainnet"
    print(f'network = "mainnet": this trades REAL MONEY on {asset}.', file=sys.stderr)
    got = input(f"Type '{want}' to continue: ").strip()
    if got != want:
        raise ConfigError(f"not confirmed (typed {got!r}, expected {want!r}): nothing traded")


def _guardian_factory(cfg: object, account: str, is_mainnet: bool) -> object:
    """Starts the guardian (its own process, the key through its pipe) when called."""
    from mmfast.keys import load_key_hex
    from mmfast.live.guardian import Guardian
    from mmfast.live.node import endpoints
    from mmfast.truth import dex_of

    api = endpoints(cfg).api

    def start() -> object:
        return Guardian.start(
            api,
            account,
            load_key_hex(cfg.live)[0],  # type: ignore[attr-defined]
            is_mainnet=is_mainnet,
            dex=dex_of(str(cfg.asset)),  # type: ignore[attr-defined]
        )

    return start


def run(args: argparse.Namespace) -> int:
    from mmfast.config import load_config
    from mmfast.keys import Identity, check_address, load_identity
    from mmfast.live.metrics import setup_logging
    from mmfast.ops.session import metrics_port, run_session
    from mmfast.store import default_state_path

    setup_logging(args.log_level, args.log_json)
    try:
        if args.summary:
            check_writable(args.summary, "--summary")
        port = metrics_port(args.metrics_port)
        over = [] if port is None else [("live.metrics_port", str(port))]
        if args.state:
            over.append(("live.checkpoint", str(args.state)))
        cfg = load_config(args.config, overrides=over)
        network = str(cfg.network).lower().rsplit(".", 1)[-1]
        is_mainnet = network == "mainnet"
        if is_mainnet and not args.dry_run:
            confirm_mainnet(str(cfg.asset), args.yes)
        if args.dry_run:
            from mmfast import Signer

            throwaway = Signer(secrets.token_hex(32), is_mainnet=is_mainnet)
            if cfg.live.master_address:
                account = check_address("live.master_address", cfg.live.master_address)
            else:
                try:
                    account = load_identity(cfg.live, is_mainnet=is_mainnet).account
                except ConfigError:
                    raise ConfigError(
                        "--dry-run reads an account: set live.master_address to its address "
                        "(or MMFAST_PRIVATE_KEY)"
                    ) from None
            ident = Identity(throwaway, str(throwaway.address).lower(), account)
        else:
            ident = load_identity(cfg.live, is_mainnet=is_mainnet)
        state = cfg.live.checkpoint or default_state_path(ident.account, str(cfg.asset), network)
        log.info(
            "%s%s: trading %s for %s (signer %s)",
            "MAINNET" if is_mainnet else "testnet",
            " DRY RUN" if args.dry_run else "",
            cfg.asset,
            ident.account,
            "none" if args.dry_run else ident.signer_address,
        )
        title = f"mmfast run{' --dry-run' if args.dry_run else ''}: {cfg.asset} on {network}"
        factory = None
        if not args.dry_run and not args.no_guardian:
            factory = _guardian_factory(cfg, ident.account, is_mainnet)
        summary = run_session(
            cfg,
            ident,
            network=network,
            state_path=state,
            title=title,
            plain=args.plain,
            duration=args.duration,
            dry_run=args.dry_run,
            flatten_on_exit=args.flatten_on_exit,
            guardian_factory=factory,
        )
    except MmfastError as e:
        return fail("run", e)
    from mmfast.cli.paper import print_summary

    summary["exit"] = summary.get("flatten") or "position left open (no --flatten-on-exit)"
    print_summary(summary, title=title.replace(": ", " summary: ", 1))
    if args.summary:
        Path(args.summary).write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    killed = (summary.get("ops") or {}).get("kill")
    return 0 if summary.get("errors", 1) == 0 and not killed else 1
