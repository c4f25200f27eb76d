"""Binance USD-M public streams for the lead signal (PROTOCOL 6.1; SPEC 4, 10).

Since the 2026 routing change each stream class has its own base: `bookTicker` and depth on
`/public`, `aggTrade` on `/market`. Both sockets use the combined mode
(`/stream?streams=...`), whose frames are wrapped `{"stream": ..., "data": ...}` as in the
recordings, so live and replayed frames take the same parser path.
"""

from __future__ import annotations


def stream_urls(
    base: str, symbol: str, depth: bool = False, depth_stream: str = "depth5@100ms"
) -> dict[str, str]:
    """`{"public": url, "market": url}` for one symbol (lowercased as Binance requires).
    `depth_stream`: the bot reads the partial top 5; the recorder takes the diffs."""
    s = symbol.lower()
    base = base.rstrip("/")
    public = [f"{s}@bookTicker"] + ([f"{s}@{depth_stream}"] if depth else [])
    return {
        "public": f"{base}/public/stream?streams={'/'.join(public)}",
        "market": f"{base}/market/stream?streams={s}@aggTrade",
    }
