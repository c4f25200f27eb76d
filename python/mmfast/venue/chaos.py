"""Fault injection in the local venue (issue 13): what an operator's worst day brings, on demand.

A spec is comma-separated tokens (`mmfast paper --chaos SPEC`, `VenueConfig.chaos`):

- `KIND@T` / `KIND@T+D` at a time from the venue's start (`10s`, `500ms`, `1.5s`), lasting `D`
  (default 5 s) where that means something:
  `drop_hl_ws` (the venue closes every Hyperliquid socket), `freeze_hl_ws` (they stay open and
  go silent: no data, no pong, no post answer), `drop_binance_ws`, `freeze_binance_ws`,
  `rate_limit` (every action answered with the exchange's address-limit error).
- `KIND=P`, a probability:
  `reject` (an order or batchModify action is refused, each order with one of the exchange's
  real per-order error strings, in turn), `ack_loss` (the `post` answer of an action that ran
  is never sent), `ack_delay` (the answer comes 0.2-1.5 s late), `one_sided` (a `bbo` frame
  goes out with one side empty), `dup_fills` (a `userFills` frame is sent twice),
  `reorder_fills` (a `userFills` frame is held back and sent after the next one), and per
  second: `drop_hl_ws`, `drop_binance_ws`.
- `seed=N` for the random draws (default 1).

Partial fills and modifies racing a fill happen by themselves in the synthetic market (a taker
eats part of a level; a modify is a cancel-replace that loses to a fill in the same block).
Every injected fault is counted by kind (`Chaos.counts`, the `faults` of `/venue/ledger`).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field

from mmfast.errors import InputError

TIMED = ("drop_hl_ws", "freeze_hl_ws", "drop_binance_ws", "freeze_binance_ws", "rate_limit")
RATES = (
    "reject", "ack_loss", "ack_delay", "one_sided", "dup_fills", "reorder_fills",
    "drop_hl_ws", "drop_binance_ws",
)  # fmt: skip
#: The exchange's per-order error strings (PROTOCOL 3.3), `{asset}` appended as production does.
REJECTIONS = (
    "Insufficient margin to place order.",
    "Order must have minimum value of $10.",
    "Order price too far from oracle",
    "Order would increase open interest while open interest is capped",
    "Reduce only order would increase position.",
    "Price must be divisible by tick size.",
    "Order would cause position to exceed margin tier limit at current leverage",
)
RATE_LIMIT_ERROR = (
    "Too many cumulative requests sent (10001 > 10000) for cumulative volume traded $0.00. "
    "Place taker orders to free up 1 request per USDC traded."
)
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s)$")


@dataclass(frozen=True)
class Event:
    kind: str
    at_s: float
    duration_s: float


@dataclass
class ChaosSpec:
    events: list[Event] = field(default_factory=list)
    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 1

    def __bool__(self) -> bool:
        return bool(self.events or self.rates)


def _duration(tok: str, text: str) -> float:
    m = _DURATION.match(text)
    if not m:
        raise InputError(f"--chaos: token {tok!r}: {text!r} is not a duration (10s, 500ms)")
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "ms" else v


def parse_chaos(spec: str) -> ChaosSpec:
    """Parses a spec; raises `InputError` naming the first bad token."""
    out = ChaosSpec()
    for raw in spec.split(","):
        tok = raw.strip()
        if not tok:
            continue
        if "@" in tok:
            kind, _, when = tok.partition("@")
            if kind not in TIMED:
                raise InputError(f"--chaos: token {tok!r}: {kind!r} is not one of {TIMED}")
            at, _, dur = when.partition("+")
            out.events.append(Event(kind, _duration(tok, at), _duration(tok, dur) if dur else 5.0))
        elif "=" in tok:
            kind, _, value = tok.partition("=")
            if kind == "seed":
                if not value.isdigit():
                    raise InputError(f"--chaos: token {tok!r}: the seed must be an integer")
                out.seed = int(value)
                continue
            if kind not in RATES:
                raise InputError(f"--chaos: token {tok!r}: {kind!r} is not one of {RATES}")
            try:
                p = float(value)
            except ValueError:
                p = -1.0
            if not 0.0 <= p <= 1.0:
                raise InputError(
                    f"--chaos: token {tok!r}: {value!r} is not a probability in [0, 1]"
                )
            out.rates[kind] = p
        else:
            raise InputError(f"--chaos: token {tok!r}: expected KIND@TIME[+DURATION] or KIND=P")
    return out


class Chaos:
    """The venue's fault injector: the venue asks it at each hook; it decides and counts.
    `now_s` is seconds since the venue started (the caller's clock)."""

    def __init__(self, spec: ChaosSpec | str = "") -> None:
        self.spec = parse_chaos(spec) if isinstance(spec, str) else spec
        self.rng = random.Random(self.spec.seed)
        # One stream per kind: how often one fault is drawn never shifts another's draws.
        self._streams = {k: random.Random(f"{self.spec.seed}:{k}") for k in RATES}
        self.counts: Counter[str] = Counter()
        self.hl_frozen_until = 0.0
        self.binance_frozen_until = 0.0
        self.rate_limited_until = 0.0
        self._rejections = 0
        self._pending = sorted(self.spec.events, key=lambda e: e.at_s)

    def due(self, now_s: float, draw_random: bool = False) -> list[Event]:
        """The timed events whose time has come (each returned once), plus, with
        `draw_random` (once a second), the random socket drops."""
        out = []
        while self._pending and self._pending[0].at_s <= now_s:
            out.append(self._pending.pop(0))
        for kind in ("drop_hl_ws", "drop_binance_ws") if draw_random else ():
            if self.draw(kind, count=False):
                out.append(Event(kind, now_s, 0.0))
        return out

    def start(self, ev: Event, now_s: float) -> None:
        """Applies a timed event's state (freezes, limits); drops are the venue's to do."""
        self.counts[ev.kind] += 1
        if ev.kind == "freeze_hl_ws":
            self.hl_frozen_until = max(self.hl_frozen_until, now_s + ev.duration_s)
        elif ev.kind == "freeze_binance_ws":
            self.binance_frozen_until = max(self.binance_frozen_until, now_s + ev.duration_s)
        elif ev.kind == "rate_limit":
            self.rate_limited_until = max(self.rate_limited_until, now_s + ev.duration_s)

    # The venue's three manual controls, for tests that drive the faults themselves.
    def freeze_hl(self, now_s: float, duration_s: float) -> None:
        self.start(Event("freeze_hl_ws", now_s, duration_s), now_s)

    def freeze_binance(self, now_s: float, duration_s: float) -> None:
        self.start(Event("freeze_binance_ws", now_s, duration_s), now_s)

    def limit(self, now_s: float, duration_s: float) -> None:
        self.start(Event("rate_limit", now_s, duration_s), now_s)

    def draw(self, kind: str, count: bool = True) -> bool:
        p = self.spec.rates.get(kind, 0.0)
        hit = p > 0.0 and self._streams[kind].random() < p
        if hit and count:
            self.counts[kind] += 1
        return hit

    def rejection(self, asset: object) -> str:
        text = REJECTIONS[self._rejections % len(REJECTIONS)]
        self._rejections += 1
        return f"{text} asset={asset}"

    def hl_frozen(self, now_s: float) -> bool:
        return now_s < self.hl_frozen_until

    def binance_frozen(self, now_s: float) -> bool:
        return now_s < self.binance_frozen_until

    def rate_limited(self, now_s: float) -> bool:
        return now_s < self.rate_limited_until

    def ack_delay_s(self) -> float:
        return self.rng.uniform(0.2, 1.5)
