"""What each `mmfast bench` figure means: its unit, one line of meaning and the same-run
baseline it is read against. A figure missing here is still printed, with the unit its name
implies and "(no description)": add a line when adding a figure.

A value that could not be measured because an optional peer is missing is the string
`NOT_INSTALLED`, never 0 or NaN (which would read as a result).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

NOT_INSTALLED = "not installed"


@dataclass(frozen=True)
class Figure:
    unit: str
    meaning: str
    #: The figure this one is read against (measured in the same run), or "".
    baseline: str = ""


_F = Figure
FIGURES: dict[str, Figure] = {
    "empty_call_ns": _F("ns", "an empty call into the Rust extension: the floor of every call"),
    "hl_book_update_us": _F(
        "us", "apply one 20-level Hyperliquid l2Book frame (parse + book)", "orjson_loads_us"
    ),
    "hl_book_update_fast_us": _F(
        "us", "the same frame when only the top changed", "orjson_loads_us"
    ),
    "orjson_loads_us": _F("us", "orjson.loads of that frame: parsing alone, no book"),
    "hl_book_update_vs_orjson": _F(
        "x", "book update time over orjson's parse time (lower is better)", "orjson_loads_us"
    ),
    "binance_depth_ns_per_level": _F(
        "ns", "one Binance depth-diff level applied, parse included", "empty_call_ns"
    ),
    "cycle_p50_us": _F("us", "quote-engine cycle, median, no requote", "empty_call_ns"),
    "cycle_p99_us": _F("us", "quote-engine cycle, 99th percentile", "empty_call_ns"),
    "cycle_requote_p50_us": _F("us", "cycle that requotes after a 4 bps move, median"),
    "cycle_requote_p99_us": _F("us", "cycle that requotes, 99th percentile"),
    "python_reference_cycle_p50_us": _F(
        "us", "the pure-Python reference of the same cycle, median"
    ),
    "python_reference_ratio": _F(
        "x", "Python reference cycle over the Rust cycle (speed-up)", "cycle_p50_us"
    ),
    "sign_us": _F("us", "sign one order action (msgpack, keccak, ECDSA) into a request body"),
    "sign10_us": _F("us", "sign a 10-order batch into one request body"),
    "recover_us": _F("us", "recover the signer of a 1-order body (the venue's check)"),
    "recover10_us": _F("us", "recover the signer of a 10-order body"),
    "sign_dict_us": _F(
        "us", "mmfast.signing.sign_l1_action on an SDK-shaped dict (the tools' path)", "sign_us"
    ),
    "sdk_sign_us": _F("us", "official SDK signing one order (pure-Python ECC)", "sign_us"),
    "sdk_sign10_us": _F("us", "official SDK signing 10 orders (pure-Python ECC)", "sign10_us"),
    "sdk_over_sign_x": _F("x", "SDK time over ours, 1 order", "sign_us"),
    "sdk_over_sign10_x": _F("x", "SDK time over ours, 10 orders", "sign10_us"),
    "sdk_coincurve_sign_us": _F("us", "official SDK signing one order with coincurve", "sign_us"),
    "sdk_coincurve_sign10_us": _F(
        "us", "official SDK signing 10 orders with coincurve", "sign10_us"
    ),
    "sdk_coincurve_recover_us": _F("us", "SDK recovery with coincurve", "recover_us"),
    "sdk_coincurve_over_sign_x": _F("x", "SDK+coincurve time over ours, 1 order", "sign_us"),
    "sdk_coincurve_over_sign10_x": _F("x", "SDK+coincurve time over ours, 10 orders", "sign10_us"),
    "byte_identical": _F(
        "bool", "our signatures equal the official SDK's (1 yes, 0 no), every SDK backend run"
    ),
    "venue_actions_per_s": _F(
        "1/s",
        "signed actions the local venue accepts per second over HTTP",
        "venue_http_floor_per_s",
    ),
    "venue_http_floor_per_s": _F("1/s", "the same requests to a bare aiohttp echo server"),
    "venue_engine_actions_per_s": _F("1/s", "actions the venue's matching engine runs, no HTTP"),
    "venue_recover_us": _F("us", "the venue's signer recovery of one body", "venue_sdk_recover_us"),
    "venue_sdk_recover_us": _F("us", "the official SDK's recovery of the same body"),
    "tick_to_order_p50_us": _F(
        "us",
        "the bot's tick to order: book frame written by a minimal frame source (no venue code)"
        " to the bot's signed order arriving back there, median",
        "tick_to_order_echo_rtt_p50_us",
    ),
    "tick_to_order_p99_us": _F(
        "us", "the bot's tick to order, 99th percentile", "tick_to_order_echo_rtt_p99_us"
    ),
    "tick_to_order_samples": _F("count", "ticks measured against the minimal source"),
    "tick_to_order_misses": _F("count", "ticks whose order never arrived at the minimal source"),
    "tick_to_order_echo_rtt_p50_us": _F(
        "us", "bare uvloop TCP echo round trip between the bot and the minimal source's process"
    ),
    "tick_to_order_echo_rtt_p99_us": _F("us", "that echo round trip, 99th percentile"),
    "tick_to_order_echo_paused_rtt_p50_us": _F(
        "us",
        "the same echo after the ticks' 20 ms pause each time (two idle processes woken, caches"
        " cooled, as a tick finds them), median",
    ),
    "tick_to_order_venue_p50_us": _F(
        "us",
        "the same through the full venue (its aiohttp handling inside), median",
        "uvloop_echo_rtt_p50_us",
    ),
    "tick_to_order_venue_p99_us": _F(
        "us", "through the full venue, 99th percentile", "uvloop_echo_rtt_p99_us"
    ),
    "tick_to_order_venue_samples": _F("count", "ticks measured through the venue"),
    "tick_to_order_venue_misses": _F("count", "ticks whose order never reached the venue"),
    "bot_tick_to_send_p50_us": _F("us", "inside the bot: frame received to orders on the socket"),
    "bot_cpu_tick_to_order_p50_us": _F("us", "the bot's own work per tick without sockets, median"),
    "bot_cpu_tick_to_order_p99_us": _F("us", "the bot's own work per tick, 99th percentile"),
    "bot_py_blocks_per_tick": _F(
        "count",
        "Python memory blocks held after one tick's path (frame to send) that were not before,"
        " median (sys.getallocatedblocks)",
    ),
    "bot_cpu_answer_p50_us": _F(
        "us",
        "the gateway's handling of one post answer frame (ledger, engine, counters), median",
    ),
    "bot_cpu_answer_p99_us": _F("us", "one post answer frame, 99th percentile"),
    "bot_py_blocks_per_answer": _F(
        "count", "Python memory blocks held after one answer frame's handling, median"
    ),
    "uvloop_echo_rtt_p50_us": _F(
        "us", "bare uvloop TCP echo round trip between the bot and the venue's process"
    ),
    "uvloop_echo_rtt_p99_us": _F("us", "echo round trip, 99th percentile"),
    "signals_empty_call_ns": _F("ns", "empty extension call, measured beside the signal figures"),
    "signals_arg_overhead_ns": _F("ns", "the benchmark loop's own cost per call (subtract it)"),
    "signals_hl_l2book20_frame_ns": _F(
        "ns", "signal integrator fed a 20-level l2Book frame", "signals_orjson_hl_l2book20_ns"
    ),
    "signals_hl_l2book5_frame_ns": _F("ns", "... a 5-level l2Book frame", "signals_empty_call_ns"),
    "signals_hl_bbo_frame_ns": _F("ns", "... a bbo frame", "signals_empty_call_ns"),
    "signals_hl_trades_frame_ns": _F("ns", "... a trades frame", "signals_empty_call_ns"),
    "signals_binance_ticker_frame_ns": _F(
        "ns", "... a Binance bookTicker frame", "signals_orjson_binance_ticker_ns"
    ),
    "signals_binance_aggtrade_frame_ns": _F(
        "ns", "... a Binance aggTrade frame", "signals_empty_call_ns"
    ),
    "signals_on_hl_mid_ns": _F("ns", "integrator fed one HL mid value", "signals_empty_call_ns"),
    "signals_on_binance_bbo_ns": _F(
        "ns", "integrator fed one Binance best bid/offer", "signals_empty_call_ns"
    ),
    "signals_snapshot_ns": _F("ns", "one per-cycle signal snapshot", "signals_empty_call_ns"),
    "signals_orjson_hl_l2book20_ns": _F("ns", "orjson.loads of the 20-level l2Book frame"),
    "signals_orjson_binance_ticker_ns": _F("ns", "orjson.loads of the bookTicker frame"),
    "backtest_events_per_s": _F(
        "1/s",
        "bare backtest replay loop, Binance BTCUSDT recording from the binary cache into the "
        "matching engine (records: level changes, trades, tops)",
        "hftbacktest_events_per_s",
    ),
    "backtest_engine_events_per_s": _F(
        "1/s", "the same replay with the full quote engine quoting", "backtest_events_per_s"
    ),
    "backtest_json_events_per_s": _F(
        "1/s",
        "the bare loop from the gzipped JSON (--no-cache: decode + replay)",
        "backtest_events_per_s",
    ),
    "backtest_replay_events": _F("count", "market records in that recording"),
    "backtest_cache_load_s": _F("s", "reading that recording back from the binary cache"),
    "hftbacktest_events_per_s": _F(
        "1/s", "hftbacktest's numba elapse loop on the same recording (its rows)"
    ),
    "hftbacktest_events": _F("count", "rows of hftbacktest's event array of that recording"),
    "hftbacktest_convert_s": _F("s", "hftbacktest's converter on that recording (gz JSON to rows)"),
}

_SUFFIX_UNITS = [("_ns", "ns"), ("_us", "us"), ("_ms", "ms"), ("_per_s", "1/s"), ("_x", "x")]


def describe(name: str) -> Figure:
    """The figure's entry, or one guessed from its name's unit suffix."""
    if name in FIGURES:
        return FIGURES[name]
    m = re.search(r"_(p\d+)_(us|ns|ms)$", name)
    unit = m.group(2) if m else next((u for s, u in _SUFFIX_UNITS if name.endswith(s)), "")
    return Figure(unit, "(no description)")


def fmt(value: object, unit: str = "") -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        text = f"{value:.4g}"
    elif isinstance(value, int):
        text = str(value)
    else:
        return str(value)
    if unit == "bool":
        return "yes" if value else "no"
    return f"{text} {unit}" if unit and unit != "count" else text


def table(figures: dict[str, object]) -> list[str]:
    """Rows `name  value unit  meaning  [vs baseline value]`, aligned."""
    rows = []
    for name, value in figures.items():
        f = describe(name)
        base = ""
        if f.baseline and f.baseline in figures:
            b = describe(f.baseline)
            base = f"vs {f.baseline} = {fmt(figures[f.baseline], b.unit)}"
        rows.append((name, fmt(value, f.unit), f.meaning, base))
    if not rows:
        return []
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    return [f"{a:<{w0}}  {b:>{w1}}  {c:<{w2}}  {d}".rstrip() for a, b, c, d in rows]
