"""HTTP access to Hyperliquid's `/info` and `/exchange` (PROTOCOL 2, 3.1, 5.1).

`/info` serves the exchange truth (meta, clearinghouseState, openOrders, userFees, orderStatus,
userRateLimit); `/exchange` is the order gateway's fallback when the order socket is down or full.
Every request spends its weight from the shared IP bucket first and is refused locally when the
bucket is empty, so a burst of lookups can never get the IP limited. One aiohttp session, kept
alive, with a total timeout per request.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import orjson
from mmfast.errors import VenueError
from mmfast.gateway.limits import WeightBucket, action_weight, info_weight

log = logging.getLogger(__name__)


class RateLimited(VenueError):
    """The local IP weight bucket (or the exchange, with HTTP 429) refused the request."""


class RestClient:
    def __init__(self, api_url: str, bucket: WeightBucket, timeout_s: float = 5.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.bucket = bucket
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self.requests = 0

    async def _sess(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout, headers={"Content-Type": "application/json"}
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, path: str, body: bytes, weight: int) -> tuple[int, bytes]:
        if not self.bucket.take(weight):
            raise RateLimited(f"POST {path}: local IP weight budget exhausted (weight {weight})")
        sess = await self._sess()
        self.requests += 1
        async with sess.post(self.api_url + path, data=body) as r:
            data = await r.read()
            if r.status == 429:
                raise RateLimited(f"POST {path}: HTTP 429 (IP rate limited)")
            return r.status, data

    async def info(self, request_type: str, **fields: Any) -> Any:
        """`POST /info {"type": request_type, **fields}` -> decoded JSON. Raises `VenueError`
        on a non-200 answer."""
        body = orjson.dumps({"type": request_type, **fields})
        status, data = await self._post("/info", body, info_weight(request_type))
        if status != 200:
            raise VenueError(f"info {request_type}: HTTP {status}: {data[:200]!r}")
        return orjson.loads(data)

    async def exchange(self, body: bytes, n_items: int) -> bytes:
        """`POST /exchange` with a signed body; returns the answer's bytes (JSON)."""
        status, data = await self._post("/exchange", body, action_weight(n_items))
        if status != 200:
            # The exchange answers refusals with 200 and {"status":"err"}; anything else is
            # transport-level. Shape it like an error answer so one parser reads both.
            return orjson.dumps(
                {
                    "status": "err",
                    "response": f"HTTP {status}: {data[:200].decode(errors='replace')}",
                }
            )
        return data
