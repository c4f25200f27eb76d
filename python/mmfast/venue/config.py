"""Configuration of the local venue (SPEC 11): the server's own settings plus the matching
engine's `SimConfig` (fees, rules, queue model, market model, assets), passed to Rust as JSON.

`VenueConfig.from_file` reads JSON or TOML with the same keys as the dataclass; `sim` holds
the engine's keys (see `rust/core/src/sim/config.rs`, every field optional).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmfast.errors import InputError

CHAINS = ("testnet", "mainnet")


@dataclass
class VenueConfig:
    """Everything the venue needs. Defaults: testnet signing (what the official SDK uses for a
    local URL), 70 ms blocks, the synthetic market with ETH and BTC."""

    host: str = "127.0.0.1"
    port: int = 0
    # "testnet": phantom-agent source "b" (the SDK signs so for any non-mainnet URL);
    # "mainnet": source "a".
    chain: str = "testnet"
    block_ms: int = 70
    # Engine config (SimConfig keys): market, seed, assets, fees, queue, limits.
    sim: dict[str, Any] = field(default_factory=dict)
    # (address, usdc) funded at start.
    accounts: list[tuple[str, float]] = field(default_factory=list)
    # (agent, master) API wallets known at start (approveAgent adds more at run time).
    agents: list[tuple[str, str]] = field(default_factory=list)
    # (vault, leader): accounts the leader (and its agents) may trade for with `vaultAddress`.
    vaults: list[tuple[str, str]] = field(default_factory=list)
    # (address, coin, max_position): the bot's hard ceiling, for the venue's breach count.
    max_positions: list[tuple[str, str, float]] = field(default_factory=list)
    # (address, coin, usd): a max_position_usd limit instead, held at the venue's own mid with the
    # bot's re-resolve tolerance (`MatchingEngine.set_max_position_usd`).
    max_positions_usd: list[tuple[str, str, float]] = field(default_factory=list)
    # Minimum ms between l2Book pushes of one subscription with and without `fast`.
    l2_fast_ms: int = 500
    l2_ms: int = 5000
    # Poll period of the synthetic Binance feed.
    binance_ms: int = 20
    # Recordings (shared/data format) replayed when sim.market == "external".
    replay: list[str] = field(default_factory=list)
    replay_speed: float = 1.0
    replay_loop: bool = False
    # Fault injection (mmfast.venue.chaos): "" for none.
    chaos: str = ""

    def __post_init__(self) -> None:
        if self.chain not in CHAINS:
            raise InputError(f"chain = {self.chain!r}: expected one of {CHAINS}")
        if self.block_ms <= 0:
            raise InputError(f"block_ms = {self.block_ms}: must be > 0")
        if not 0 <= self.port <= 65535:
            raise InputError(f"port = {self.port}: must be in [0, 65535]")
        if self.chaos:
            from mmfast.venue.chaos import parse_chaos

            parse_chaos(self.chaos)  # a bad spec fails here, naming the token
        if self.replay_speed <= 0:
            raise InputError(f"replay_speed = {self.replay_speed}: must be > 0")

    @property
    def is_mainnet(self) -> bool:
        return self.chain == "mainnet"

    def sim_json(self) -> str:
        return json.dumps(self.sim)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VenueConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(f"unknown venue config keys: {', '.join(unknown)}")
        d = dict(d)
        for k in ("accounts", "agents", "vaults", "max_positions", "max_positions_usd"):
            if k in d:
                d[k] = [tuple(x) for x in d[k]]
        return cls(**d)

    @classmethod
    def from_file(cls, path: str | Path) -> VenueConfig:
        p = Path(path)
        text = p.read_text()
        if p.suffix == ".toml":
            import tomllib  # Python >= 3.11

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
        return cls.from_dict(data)
