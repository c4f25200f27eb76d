"""A local Hyperliquid venue that the official `hyperliquid-python-sdk` trades on unchanged
(SPEC 11): `/info`, `/exchange` and `/ws` on 127.0.0.1, a Binance-format feed on the same
port, the Rust matching engine (`mmfast._core.MatchingEngine`) underneath, and a synthetic,
static or replayed market.

Run it in its own process (what `mmfast paper` does)::

    python -m mmfast.venue --port 0 --market synthetic --seed 7 \\
        --fund 0xYourAddress=10000 --max-position 0xYourAddress:ETH=0.5

The first line on stdout is one JSON object: ``{"url": "http://127.0.0.1:PORT", "ws": ...,
"binance_ws": ..., "chain": "testnet", "pid": ...}``; read it, then point the bot (or
`hyperliquid.info.Info` / `hyperliquid.exchange.Exchange`) at ``url``. The SDK signs for
mainnet only when its base URL is the mainnet URL, so a local URL signs as testnet: keep the
venue's default ``--chain testnet``. Make a throwaway key with
``eth_account.Account.create()`` and fund only its address; the venue never needs a key.
`GET <url>/venue/ledger` returns the venue's own ledger (positions, PnL, fees, and the count
of safety-invariant breaches seen for accounts given a ``--max-position``). SIGINT/SIGTERM
stop it; ``--ledger-out FILE`` writes the final ledger there.

In-process::

    async with Venue(VenueConfig(accounts=[(addr, 10_000)])) as v:   # in a running loop
        ...  # v.url
    with VenueThread(VenueConfig(...)) as v:                         # from synchronous code
        ...  # v.url; v.pause(), v.wait_pending(2), v.step() for deterministic blocks
"""

from __future__ import annotations

from mmfast.venue.config import VenueConfig
from mmfast.venue.server import Venue, VenueThread

__all__ = ["Venue", "VenueConfig", "VenueThread"]
