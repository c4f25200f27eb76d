"""PnL as operators read it (SPEC 10): realised and unrealised at mark, fees (rebates negative)
and funding apart, from our own fills (average-cost method)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PnL:
    position: float = 0.0
    avg_px: float = 0.0
    realised: float = 0.0
    fees: float = 0.0
    funding: float = 0.0
    volume_usd: float = 0.0
    fills: int = 0
    max_abs_position: float = 0.0

    def on_fill(self, is_buy: bool, px: float, sz: float, fee: float) -> None:
        """Applies one fill; `fee` in USD as the exchange reports it (negative = rebate)."""
        self._move(sz if is_buy else -sz, px)
        self.fees += fee
        self.volume_usd += px * sz
        self.fills += 1

    def adopt(self, position: float, px: float) -> None:
        """Takes the exchange's position when fills were lost (a socket down): the difference
        is booked as if traded at `px` (the mark: lost fills are recent), with no fee and no
        fill counted. Setting the position alone kept the average price of another position
        (0 when flat), so 0.0249 ETH adopted from flat showed +74.70 USD unrealised, and its
        loss a moment later tripped the drawdown kill (issue 13, frozen-socket chaos test)."""
        if abs(position - self.position) > 1e-12:
            self._move(position - self.position, px)

    def _move(self, signed: float, px: float) -> None:
        """The position moves by `signed` at `px` (average-cost method)."""
        sz = abs(signed)
        pos = self.position
        if pos == 0.0 or (pos > 0) == (signed > 0):
            new = pos + signed
            self.avg_px = (self.avg_px * abs(pos) + px * sz) / abs(new)
            self.position = new
        else:
            closed = min(abs(pos), sz)
            self.realised += closed * (px - self.avg_px) * (1.0 if pos > 0 else -1.0)
            new = pos + signed
            if abs(new) < 1e-12:
                new, self.avg_px = 0.0, 0.0
            elif (new > 0) != (pos > 0):  # flipped: the rest opens at this price
                self.avg_px = px
            self.position = new
        self.max_abs_position = max(self.max_abs_position, abs(self.position))

    def unrealised(self, mark: float | None) -> float:
        if mark is None or self.position == 0.0:
            return 0.0
        return self.position * (mark - self.avg_px)

    def total(self, mark: float | None) -> float:
        """Realised + unrealised, before fees and funding."""
        return self.realised + self.unrealised(mark)

    def net(self, mark: float | None) -> float:
        """What the account gained: trading PnL minus fees plus funding."""
        return self.total(mark) - self.fees + self.funding
