"""Operations: Prometheus metrics of the live bot and structured JSON logs.

`Metrics` keeps its own registry (so two bots in one process, as in tests, do not collide) and
serves it on 127.0.0.1 when `live.metrics_port` is set; `update(bot)` copies the bot's figures
into it once a second, off the hot path. Every name starts with `mmfast_`; README "Metrics"
says what each means. `JsonFormatter` renders every log record as one JSON line (`--log-json`);
no secret ever reaches a log record (the key lives in the Rust signer only).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Gauge, Histogram, start_http_server

_GAUGES = {
    "position": "signed position in coin",
    "max_position": "configured hard max on |position| in coin",
    "effective_max_position": "the max the engine quotes against now, after every cap",
    "mid": "Hyperliquid mid price",
    "pnl_usd": "realised + unrealised PnL in USD, before fees and funding",
    "realised_pnl_usd": "realised PnL in USD (average cost)",
    "unrealised_pnl_usd": "unrealised PnL at the mid in USD",
    "fees_usd": "fees paid in USD (rebates negative)",
    "funding_usd": "funding received in USD",
    "net_pnl_usd": "PnL - fees + funding, USD",
    "day_pnl_usd": "equity change since 00:00 UTC, earlier runs of the day included",
    "fills_total": "fills since start",
    "volume_usd_total": "traded notional since start",
    "cycles_total": "quote cycles since start",
    "spread_bps": "distance between our best bid and best ask, in bps of the mid",
    "actions_sent_total": "exchange actions sent",
    "actions_rejected_total": "exchange actions with a rejected item",
    "guard_refusals_total": "actions the pre-send guard refused",
    "taker_exits_total": "taker exits sent (reduce-only IOCs, risk.taker_exit_bps)",
    "reconnects_total": "websocket reconnects",
    "errors_total": "errors",
    "orders_open": "our orders resting or in flight",
    "inflight_actions": "actions awaiting an answer",
    "address_quota_headroom": "per-address requests left (userRateLimit budget)",
    "ip_weight_available": "REST weight left in the IP bucket",
    "halted": "1 while the watchdog holds quoting (stale data or loop stall)",
    "paused": "1 while a soft monitor (or the kill switch) holds quoting",
    "killed": "1 once a hard limit killed the bot (stays set across restarts)",
    "hl_data_age_ms": "age of the newest Hyperliquid market frame",
    "sigma_bps": "volatility estimate, bps per sqrt(s)",
    "toxicity_score": "flow toxicity score (markout hit rate based)",
}
#: Labelled gauges: name -> (help, label names).
_LABELLED = {
    "zone": ("1 for the inventory zone the position is in", ("zone",)),
    "binding_cap": ("1 for each cap that lowers the effective max now", ("cap",)),
    "quote_distance_bps": ("each side's best quote distance from the mid, bps", ("side",)),
    "quotes": ("our resting orders per side", ("side",)),
    "lead_signal_state": ("1 for the lead signal's state", ("state",)),
    "vol_regime": ("1 for the volatility regime", ("regime",)),
    "actions_total": (
        "exchange actions by kind (order, cancel, cancelByCloid, batchModify, scheduleCancel, "
        "updateLeverage, noop) and result (sent, rejected, refused, lost)",
        ("kind", "result"),
    ),
    "rejections_total": ("rejected items by error kind", ("kind",)),
    "feed_staleness_seconds": ("age of each feed's newest frame", ("feed",)),
    "monitor_triggered": ("1 while a kill-switch monitor's condition holds", ("monitor",)),
}
ZONES = ("Green", "Yellow", "Red", "Kill")
LEAD_STATES = ("none", "warming", "not_significant", "actionable", "lost")
REGIMES = ("quiet", "normal", "volatile", "extreme")
MONITORS = (
    "daily_loss",
    "drawdown",
    "position_velocity",
    "price_velocity",
    "stale_data",
    "budget",
)


def lead_state(cfg: Any, d: dict[str, Any]) -> str:
    """The lead signal as the operator reads it, from the cycle's diagnostics."""
    if str(getattr(cfg, "lead_venue", "binance")).lower().endswith("none"):
        return "none"
    if d.get("lead_stale"):
        return "lost"
    if not d.get("has_had_cross_venue"):
        return "warming"
    if d.get("no_signal_warning"):
        return "not_significant"
    return "actionable"


def enum_name(x: Any) -> str:
    """`PositionZone.Green` -> `Green`: the variant name of an engine enum (or `-`)."""
    if x is None:
        return "-"
    for attr in ("kind", "name"):
        v = getattr(x, attr, None)
        if isinstance(v, str):
            return v
    return str(x).split(".")[-1].split("(")[0]


class Metrics:
    def __init__(self, port: int = 0, prefix: str = "mmfast") -> None:
        self.registry = r = CollectorRegistry()
        self.g = {k: Gauge(f"{prefix}_{k}", doc, registry=r) for k, doc in _GAUGES.items()}
        self.lg = {
            k: Gauge(f"{prefix}_{k}", doc, labels, registry=r)
            for k, (doc, labels) in _LABELLED.items()
        }
        self.cycle = Histogram(
            f"{prefix}_cycle_latency_seconds",
            "engine cycle time",
            buckets=(5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 5e-3),
            registry=r,
        )
        self._cycles_seen = 0
        self._caps_seen: set[str] = set()
        self.port = port
        self.server: Any = None
        if port:
            self.server, _ = start_http_server(port, addr="127.0.0.1", registry=r)

    def update(self, bot: Any) -> None:
        s = bot.summary()
        g, lg = self.g, self.lg
        for k, src in (
            ("position", "position"),
            ("max_position", "max_position"),
            ("pnl_usd", "pnl_usd"),
            ("realised_pnl_usd", "realised_pnl_usd"),
            ("unrealised_pnl_usd", "unrealised_pnl_usd"),
            ("fees_usd", "fees_usd"),
            ("funding_usd", "funding_usd"),
            ("net_pnl_usd", "net_pnl_usd"),
            ("fills_total", "fills"),
            ("volume_usd_total", "volume_usd"),
            ("cycles_total", "cycles"),
            ("actions_sent_total", "actions_sent"),
            ("actions_rejected_total", "actions_rejected"),
            ("guard_refusals_total", "guard_refusals"),
            ("taker_exits_total", "taker_exits"),
            ("reconnects_total", "reconnects"),
            ("errors_total", "errors"),
        ):
            if s.get(src) is not None:
                g[k].set(float(s[src]))
        for kind, results in (s.get("actions_by_kind") or {}).items():
            for result, n in results.items():
                lg["actions_total"].labels(kind, result).set(float(n))
        for kind, n in (s.get("rejections_by_kind") or {}).items():
            lg["rejections_total"].labels(kind).set(float(n))
        tr = bot.trader
        mid = tr.mid
        if mid is not None:
            g["mid"].set(mid)
        ring = tr.stats.cycle_ns
        fresh = ring.total - self._cycles_seen
        self._cycles_seen = ring.total
        for ns in ring.values(min(fresh, 10_000)).tolist() if fresh > 0 else ():
            self.cycle.observe(ns / 1e9)
        if tr.path is not None:
            orders = tr.path.orders  # (oid, cloid, is_buy, px, sz, state)
            g["orders_open"].set(len(orders))
            bids = [o[3] for o in orders if o[2]]
            asks = [o[3] for o in orders if not o[2]]
            lg["quotes"].labels("bid").set(len(bids))
            lg["quotes"].labels("ask").set(len(asks))
            if mid:
                if bids:
                    lg["quote_distance_bps"].labels("bid").set((mid - max(bids)) / mid * 1e4)
                if asks:
                    lg["quote_distance_bps"].labels("ask").set((min(asks) - mid) / mid * 1e4)
                if bids and asks:
                    g["spread_bps"].set((min(asks) - max(bids)) / mid * 1e4)
        out = tr.last_out
        if out is not None:
            d = out.diagnostics
            zone = enum_name(out.zone)
            for z in ZONES:
                lg["zone"].labels(z).set(1.0 if z == zone else 0.0)
            if d.get("effective_max") is not None:
                g["effective_max_position"].set(float(d["effective_max"]))
            caps = {str(c) for c in d.get("caps") or ()}
            self._caps_seen |= caps
            for c in self._caps_seen:
                lg["binding_cap"].labels(c).set(1.0 if c in caps else 0.0)
            state = lead_state(bot.cfg, d)
            for st in LEAD_STATES:
                lg["lead_signal_state"].labels(st).set(1.0 if st == state else 0.0)
            regime = str(d.get("regime") or "")
            for rg in REGIMES:
                lg["vol_regime"].labels(rg).set(1.0 if rg == regime else 0.0)
            for k in ("sigma_bps", "toxicity_score"):
                if d.get(k) is not None:
                    g[k].set(float(d[k]))
        if bot.gateway is not None:
            g["inflight_actions"].set(len(bot.gateway.inflight))
        g["address_quota_headroom"].set(bot.budget.headroom)
        g["ip_weight_available"].set(bot.rest.bucket.available())
        g["halted"].set(1.0 if bot.watchdog is not None and bot.watchdog.halted else 0.0)
        now_ms = time.monotonic_ns() // 1_000_000
        age = max(0, now_ms - bot.last_hl_ms)
        g["hl_data_age_ms"].set(age)
        lg["feed_staleness_seconds"].labels("hyperliquid").set(age / 1000)
        for name, conn in getattr(bot, "conns", {}).items():
            # Each Binance stream (bookTicker, aggTrade, depth) by its connection's newest frame.
            if name.startswith("binance") and conn.last_recv_ms:
                staleness = max(0, now_ms - conn.last_recv_ms) / 1000
                lg["feed_staleness_seconds"].labels(name).set(staleness)
        g["paused"].set(1.0 if getattr(bot, "paused", None) else 0.0)
        ops = s.get("ops") or {}
        g["killed"].set(1.0 if ops.get("kill") else 0.0)
        if "day_pnl_usd" in ops:
            g["day_pnl_usd"].set(float(ops["day_pnl_usd"]))
        active = ops.get("triggers") or {}
        for m in MONITORS:
            lg["monitor_triggered"].labels(m).set(1.0 if m in active else 0.0)

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 6),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc).decode()


def setup_logging(level: str, json_lines: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
