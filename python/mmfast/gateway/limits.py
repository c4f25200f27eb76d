"""Hyperliquid's rate limits as the gateway tracks them (PROTOCOL 5.1, 5.2; SPEC 8 step 6).

`WeightBucket`: the IP's request weight, 1200 per minute, refilled continuously; an exchange
action weighs `1 + floor(items / 40)`, info requests 2, 20 or 60 by type. `AddressBudget`: the
per-address action budget, cumulative rather than per minute: `nRequestsCap` = 10,000 + 1 per
USDC traded, each order, cancel or modify in a batch counting one, cancels allowed up to
`min(cap + 100000, 2 cap)`. It starts from `userRateLimit`, counts what we send, grows with our
fills' volume, and is re-read from the exchange at every reconciliation. Both feed the engine's
requote planner.
"""

from __future__ import annotations

import time

_INFO_WEIGHT = {
    "l2Book": 2,
    "allMids": 2,
    "clearinghouseState": 2,
    "orderStatus": 2,
    "spotClearinghouseState": 2,
    "exchangeStatus": 2,
    "userRole": 60,
}


def info_weight(request_type: str) -> int:
    return _INFO_WEIGHT.get(request_type, 20)


def action_weight(n_items: int) -> int:
    return 1 + n_items // 40


class WeightBucket:
    """A token bucket of `per_minute` tokens refilled at `per_minute / 60` a second."""

    def __init__(self, per_minute: float, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.capacity = float(per_minute)
        self.rate = self.capacity / 60.0
        self.tokens = self.capacity
        self._clock = clock
        self._t = clock()
        self.refused = 0

    def _refill(self) -> None:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._t) * self.rate)
        self._t = now

    def available(self) -> float:
        self._refill()
        return self.tokens

    def take(self, weight: float) -> bool:
        """Spends `weight` if the bucket holds it; False (nothing spent) otherwise."""
        self._refill()
        if self.tokens >= weight:
            self.tokens -= weight
            return True
        self.refused += 1
        return False


class AddressBudget:
    """The per-address cumulative action budget."""

    INITIAL_BUFFER = 10_000

    def __init__(self) -> None:
        self.used = 0
        self.cum_volume = 0.0
        self._cap_read = float(self.INITIAL_BUFFER)
        self._volume_read = 0.0
        self.known = False  # true once read from the exchange

    def update(self, rate_limit: dict) -> None:  # type: ignore[type-arg]
        """From a `userRateLimit` answer `{cumVlm, nRequestsUsed, nRequestsCap, ...}`."""
        self.used = int(rate_limit.get("nRequestsUsed", self.used))
        self.cum_volume = float(rate_limit.get("cumVlm", self.cum_volume))
        self._cap_read = float(rate_limit.get("nRequestsCap", self._cap_read))
        self._volume_read = self.cum_volume
        self.known = True

    def spend(self, n_items: int) -> None:
        self.used += max(1, n_items)

    def on_fill_volume(self, notional_usd: float) -> None:
        self.cum_volume += notional_usd

    @property
    def cap(self) -> int:
        """The exchange's cap as last read, plus 1 per USDC we traded since."""
        return int(self._cap_read + self.cum_volume - self._volume_read)

    @property
    def headroom(self) -> int:
        """Actions left before the exchange starts refusing orders."""
        return self.cap - self.used

    @property
    def cancel_headroom(self) -> int:
        return min(self.cap + 100_000, 2 * self.cap) - self.used

    def allows(self, kind: str, n_items: int) -> bool:
        room = self.cancel_headroom if kind in ("cancel", "cancelByCloid") else self.headroom
        return room >= max(1, n_items)
