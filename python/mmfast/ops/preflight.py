"""Preflight: before quoting, read the exchange and say what the bot will trade with (asset and
its id, network, signer and master, the limits derived from live `meta` and
`clearinghouseState`, leverage and margin mode, the actual fee rates from `userFees`, the address
budget from `userRateLimit`, clock skew), and refuse, with the reason and the numbers, when it
cannot trade safely: limits not viable, the agent not approved for the master, the clock off,
the budget too low to requote, leverage above the asset's maximum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mmfast.errors import MmfastError
from mmfast.gateway.rest import RestClient
from mmfast.keys import Identity
from mmfast.truth import ExchangeState, dex_of, read_exchange


@dataclass
class Preflight:
    rows: list[tuple[str, str]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    state: ExchangeState | None = None
    mark: float | None = None
    max_position: float | None = None

    @property
    def ok(self) -> bool:
        return not self.refusals

    def render(self) -> str:
        w = max((len(k) for k, _ in self.rows), default=0)
        lines = ["preflight"] + [f"  {k:<{w}}  {v}" for k, v in self.rows]
        if self.refusals:
            lines.append("refusing to start:")
            lines += [f"  - {r}" for r in self.refusals]
        return "\n".join(lines)


async def mark_price(rest: RestClient, coin: str) -> float | None:
    dex = dex_of(coin)
    meta, ctxs = await rest.info("metaAndAssetCtxs", **({"dex": dex} if dex else {}))
    for u, c in zip(meta.get("universe", ()), ctxs, strict=False):
        if u.get("name") == coin:
            for k in ("midPx", "markPx", "oraclePx"):
                if c.get(k) is not None:
                    return float(c[k])
    return None


async def agent_master(rest: RestClient, signer: str) -> str | None:
    """The master an agent key is approved for (`userRole`), None when it is not an agent."""
    role = await rest.info("userRole", user=signer)
    if isinstance(role, dict) and role.get("role") == "agent":
        return str((role.get("data") or {}).get("user", "")).lower() or None
    return None


async def preflight(
    rest: RestClient, cfg: Any, ident: Identity, *, network: str, dry_run: bool = False
) -> Preflight:
    from mmfast import ExchangeContext, auto_derive, resolve_limits

    p = Preflight()
    coin = str(cfg.asset)
    rows, refuse = p.rows, p.refusals
    rows.append(("network", network + ("  (REAL MONEY)" if network == "mainnet" else "")))
    try:
        st = await read_exchange(rest, ident.account, coin)
    except MmfastError as e:
        refuse.append(str(e))
        return p
    p.state = st
    rows.append(("asset", f"{coin} (asset id {st.meta.asset}, szDecimals {st.meta.sz_decimals})"))
    rows.append(("account", ident.account + ("  (dry run: read only)" if dry_run else "")))
    if not dry_run:
        rows.append(("signer", ident.signer_address + ("  (agent)" if ident.is_agent else "")))
        if ident.is_agent:
            master = await agent_master(rest, ident.signer_address)
            if master != ident.account:
                refuse.append(
                    f"agent {ident.signer_address} is not approved for master {ident.account} "
                    f"(userRole says {'agent of ' + master if master else 'not an agent'}): "
                    "approve the API wallet for the account, or fix live.master_address"
                )
    mark = await mark_price(rest, coin)
    p.mark = mark
    rows.append(("mark", "unknown" if mark is None else f"{mark:g}"))
    rows.append(
        (
            "account value",
            f"{st.account_value:.2f} USD, available margin {st.available_margin:.2f}, "
            f"position {st.position:g}",
        )
    )
    rows.append(
        (
            "fees",
            f"maker {st.maker_fee_bps:.2f} bps, taker {st.taker_fee_bps:.2f} bps (userFees)",
        )
    )
    exit_bps = float(cfg.risk.taker_exit_bps)
    if exit_bps > 0:
        rows.append(("taker exit", f"at {exit_bps:g} bps against the position (taker fee above)"))
        # Below the fee an exit pays more than the move it avoids (issue 14: at 4 bps under a
        # 4.5 bps fee, -4.2 USD per 30 min on the default market).
        if exit_bps <= st.taker_fee_bps:
            refuse.append(
                f"risk.taker_exit_bps = {exit_bps:g} is not above this account's taker fee "
                f"{st.taker_fee_bps:.2f} bps (userFees): every exit would cost more than it "
                "saves; raise it above the fee (the rebate profile uses 6) or set 0 to turn it off"
            )
    mode = "cross" if st.leverage_is_cross else "isolated"
    lev_now = "not set (no position)" if st.leverage is None else f"{st.leverage}x {mode}"
    rows.append(
        (
            "leverage",
            f"{cfg.leverage}x configured, {lev_now} on the exchange, asset max "
            f"{st.meta.max_leverage}x",
        )
    )
    if int(cfg.leverage) > st.meta.max_leverage:
        refuse.append(
            f"leverage = {cfg.leverage} exceeds {coin}'s max leverage {st.meta.max_leverage}"
        )
    rl = st.rate_limit
    cap, used = int(rl.get("nRequestsCap", 0) or 0), int(rl.get("nRequestsUsed", 0) or 0)
    headroom = cap - used
    need = int(cfg.monitors.min_budget_headroom)
    rows.append(
        (
            "address budget",
            f"{headroom} requests left (used {used} of {cap}; cumulative volume "
            f"{rl.get('cumVlm', '?')} USD)",
        )
    )
    if rl and headroom < need:
        refuse.append(
            f"address budget {headroom} requests < monitors.min_budget_headroom = {need}: too "
            "low to requote (each USD traded earns one request; wait, or trade volume first)"
        )
    skew = st.clock_skew_ms
    max_skew = float(cfg.live.max_clock_skew_ms)
    rows.append(("clock skew", "unknown" if skew is None else f"{skew:+.0f} ms"))
    if skew is not None and abs(skew) > max_skew:
        refuse.append(
            f"clock skew {skew:+.0f} ms exceeds live.max_clock_skew_ms = {max_skew:.0f}: fix the "
            "system clock (NTP) before trading"
        )
    if mark is None:
        refuse.append(f"asset = {coin!r}: no mark price in metaAndAssetCtxs")
        return p
    ctx = ExchangeContext(
        mark_px=mark,
        available_margin=max(st.available_margin, 0.0),
        max_leverage=float(st.meta.max_leverage),
        account_value=max(st.account_value, 0.0),
        fee_bps=st.maker_fee_bps,
        sz_decimals=st.meta.sz_decimals,
    )
    # Which limit wins is `resolve_limits`'s, the rule the engine and the guard apply.
    limits = resolve_limits(cfg, ctx)
    min_order_usd = limits.min_order * mark
    if limits.max_position_user_specified:
        mx = float(limits.max_position)
        p.max_position = mx
        rows.append(("max position", f"{mx:g} {coin} = {mx * mark:.2f} USD (configured)"))
        if mx * mark < min_order_usd:
            refuse.append(
                f"max position {mx:g} {coin} = {mx * mark:.2f} USD is below one minimum order "
                f"({min_order_usd:.2f} USD at mark {mark:g}): raise it"
            )
        if mx * mark / max(float(cfg.leverage), 1.0) > st.account_value:
            refuse.append(
                f"max position {mx * mark:.2f} USD needs {mx * mark / float(cfg.leverage):.2f} USD "
                f"of margin at {cfg.leverage}x; the account holds {st.account_value:.2f}"
            )
    else:
        capital = float(cfg.capital_usd)
        d = auto_derive(capital, str(cfg.spread_profile), ctx)
        p.max_position = float(d.max_position)
        rows.append(
            (
                "derived",
                f"capital {capital:g} USD: max position {d.max_position:g} {coin} "
                f"({d.max_position_usd:.2f} USD), liquidity {d.target_liquidity:g}, gamma "
                f"{d.risk_aversion:g}, {d.levels_per_side} level(s)/side, tier {d.capital_tier}",
            )
        )
        if not d.viable:
            refuse.append(f"capital_usd = {capital:g}: {d.diagnostic}")
        if capital > st.account_value * 1.0001:
            refuse.append(
                f"capital_usd = {capital:g} exceeds the account value {st.account_value:.2f} USD"
            )
    daily = float(cfg.risk.daily_loss_limit_usd)
    rows.append(("daily loss limit", f"{daily:g} USD" if daily > 0 else "off (0)"))
    return p
