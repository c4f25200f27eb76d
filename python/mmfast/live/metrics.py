"""Operations (SPEC 10): Prometheus metrics of the live bot and structured JSON logs.

`Metrics` keeps its own registry (so two bots in one process, as in tests, do not collide) and
serves it on 127.0.0.1 when `live.metrics_port` is set; `update(bot)` copies the bot's figures
into it once a second, off the hot path. `JsonFormatter` renders every log record as one JSON
line (`--log-json`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Gauge, start_http_server

_GAUGES = {
    "position": "signed position in coin",
    "max_position": "configured hard max on |position| in coin",
    "mid": "Hyperliquid mid price",
    "pnl_usd": "realised + unrealised PnL in USD, before fees and funding",
    "fees_usd": "fees paid in USD (rebates negative)",
    "funding_usd": "funding received in USD",
    "fills_total": "fills since start",
    "volume_usd_total": "traded notional since start",
    "cycles_total": "quote cycles since start",
    "actions_sent_total": "exchange actions sent",
    "actions_rejected_total": "exchange actions with a rejected item",
    "guard_refusals_total": "actions the pre-send guard refused",
    "reconnects_total": "websocket reconnects",
    "errors_total": "errors",
    "orders_open": "our orders resting or in flight",
    "inflight_actions": "actions awaiting an answer",
    "address_quota_headroom": "per-address actions left (cumulative budget)",
    "ip_weight_available": "REST weight left in the IP bucket",
    "halted": "1 while the watchdog holds quoting (stale data or loop stall)",
    "hl_data_age_ms": "age of the newest Hyperliquid market frame",
}


class Metrics:
    def __init__(self, port: int = 0, prefix: str = "mmfast") -> None:
        self.registry = CollectorRegistry()
        self.g = {
            k: Gauge(f"{prefix}_{k}", doc, registry=self.registry) for k, doc in _GAUGES.items()
        }
        self.port = port
        self.server: Any = None
        if port:
            self.server, _ = start_http_server(port, addr="127.0.0.1", registry=self.registry)

    def update(self, bot: Any) -> None:
        s = bot.summary()
        g = self.g
        for k, src in (
            ("position", "position"),
            ("max_position", "max_position"),
            ("pnl_usd", "pnl_usd"),
            ("fees_usd", "fees_usd"),
            ("funding_usd", "funding_usd"),
            ("fills_total", "fills"),
            ("volume_usd_total", "volume_usd"),
            ("cycles_total", "cycles"),
            ("actions_sent_total", "actions_sent"),
            ("actions_rejected_total", "actions_rejected"),
            ("guard_refusals_total", "guard_refusals"),
            ("reconnects_total", "reconnects"),
            ("errors_total", "errors"),
        ):
            if s.get(src) is not None:
                g[k].set(float(s[src]))
        tr = bot.trader
        if tr.mid is not None:
            g["mid"].set(tr.mid)
        if tr.path is not None:
            g["orders_open"].set(len(tr.path.orders))
        if bot.gateway is not None:
            g["inflight_actions"].set(len(bot.gateway.inflight))
        g["address_quota_headroom"].set(bot.budget.headroom)
        g["ip_weight_available"].set(bot.rest.bucket.available())
        g["halted"].set(1.0 if bot.watchdog is not None and bot.watchdog.halted else 0.0)
        g["hl_data_age_ms"].set(max(0, time.monotonic_ns() // 1_000_000 - bot.last_hl_ms))

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
