# Type stub of the Rust extension `mmfast._core`. Checked against the binary by
# `python -m mypy.stubtest mmfast._core` in CI: keep it in step with rust/py/src.
# Sections follow the binding's modules.

from collections.abc import Mapping, Sequence
from typing import Any, final

import numpy as np
import numpy.typing as npt

__version__: str

# ---- config (rust/py/src/config.rs) ----

@final
class MarketMakerConfig:
    def __new__(cls, **fields: Any) -> MarketMakerConfig: ...
    @staticmethod
    def from_toml(
        text: str, source: str = "<string>", overrides: list[tuple[str, str]] | None = None
    ) -> MarketMakerConfig: ...
    @staticmethod
    def known_paths() -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_toml(self) -> str: ...
    def __getattr__(self, name: str) -> Any: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class ConfigSection:
    def __getattr__(self, name: str) -> Any: ...
    def to_dict(self) -> dict[str, Any]: ...

# ---- decision layer (rust/py/src/decision.rs) ----

@final
class SpreadProfile:
    Default: SpreadProfile
    Hip3: SpreadProfile
    Aggressive: SpreadProfile
    def __int__(self) -> int: ...

@final
class PositionZone:
    Green: PositionZone
    Yellow: PositionZone
    Red: PositionZone
    Kill: PositionZone
    def __int__(self) -> int: ...

@final
class ToxicityRegime:
    Benign: ToxicityRegime
    Normal: ToxicityRegime
    Toxic: ToxicityRegime
    def __int__(self) -> int: ...

@final
class ExchangeContext:
    def __new__(
        cls,
        *,
        mark_px: float,
        available_margin: float,
        max_leverage: float,
        account_value: float | None = None,
        fee_bps: float = 1.5,
        sz_decimals: int = 4,
        min_notional: float = 10.0,
    ) -> ExchangeContext: ...
    @property
    def mark_px(self) -> float: ...
    @property
    def account_value(self) -> float: ...
    @property
    def available_margin(self) -> float: ...
    @property
    def max_leverage(self) -> float: ...
    @property
    def fee_bps(self) -> float: ...
    @property
    def sz_decimals(self) -> int: ...
    @property
    def min_notional(self) -> float: ...

@final
class DerivedParams:
    @property
    def max_position(self) -> float: ...
    @property
    def max_position_usd(self) -> float: ...
    @property
    def target_liquidity(self) -> float: ...
    @property
    def risk_aversion(self) -> float: ...
    @property
    def max_bps_diff(self) -> float: ...
    @property
    def min_order(self) -> float: ...
    @property
    def capital_tier(self) -> str: ...
    @property
    def levels_per_side(self) -> int: ...
    @property
    def viable(self) -> bool: ...
    @property
    def diagnostic(self) -> str | None: ...
    def to_dict(self) -> dict[str, Any]: ...

def auto_derive(
    capital_usd: float, spread_profile: SpreadProfile | str, ctx: ExchangeContext
) -> DerivedParams: ...

@final
class PositionAssessment:
    @property
    def zone(self) -> PositionZone: ...
    @property
    def max_new_exposure(self) -> float: ...
    @property
    def position_ratio(self) -> float: ...
    @property
    def position(self) -> float: ...
    @property
    def is_long(self) -> bool: ...
    @property
    def increasing_side_spread_mult(self) -> float: ...

@final
class InventoryGovernor:
    def __new__(cls, max_position: float) -> InventoryGovernor: ...
    @property
    def max_position(self) -> float: ...
    def assess(self, position: float) -> PositionAssessment: ...
    def would_exceed(self, current_position: float, order_size: float, is_buy: bool) -> bool: ...
    def is_reducing(self, position: float, is_buy: bool) -> bool: ...
    def zone_adjusted_max(self, regime_volatility_fraction: float) -> float: ...

@final
class ModeSelectionInput:
    def __new__(
        cls,
        *,
        position_zone: PositionZone,
        toxicity_regime: ToxicityRegime,
        bid_has_value: bool,
        ask_has_value: bool,
        has_alpha: bool,
        position: float,
    ) -> ModeSelectionInput: ...
    @property
    def position_zone(self) -> PositionZone: ...
    @property
    def toxicity_regime(self) -> ToxicityRegime: ...
    @property
    def bid_has_value(self) -> bool: ...
    @property
    def ask_has_value(self) -> bool: ...
    @property
    def has_alpha(self) -> bool: ...
    @property
    def position(self) -> float: ...

@final
class ExecutionMode:
    @property
    def kind(self) -> str: ...
    @property
    def bid(self) -> bool: ...
    @property
    def ask(self) -> bool: ...
    @property
    def urgency(self) -> float: ...
    def __eq__(self, value: object, /) -> bool: ...

def select_mode(input: ModeSelectionInput, policy: str = "seed") -> ExecutionMode: ...

@final
class QueueValueHeuristic:
    def __new__(cls, config: MarketMakerConfig | None = None) -> QueueValueHeuristic: ...
    def queue_value(
        self, depth_bps: float, toxicity: ToxicityRegime, queue_rank: float
    ) -> float: ...
    def should_quote(
        self, depth_bps: float, toxicity: ToxicityRegime, queue_rank: float
    ) -> bool: ...
    def record_outcome(self, predicted_bps: float, realised_bps: float) -> None: ...
    @property
    def prediction_bias_bps(self) -> float: ...
    @property
    def outcome_count(self) -> int: ...

# ---- books (rust/py/src/book.rs) ----

# ---- signals (rust/py/src/signals.rs) ----

# ---- engine (rust/py/src/engine.rs) ----

@final
class LadderStrategy:
    def __new__(cls, config: MarketMakerConfig) -> LadderStrategy: ...
    def quote(
        self,
        *,
        mid: float,
        best_bid: float,
        best_ask: float,
        sz_decimals: int,
        position: float,
        effective_max: float,
        target_liquidity: float,
        room_bid: float,
        room_ask: float,
        min_notional: float = 10.0,
        sigma_bps: float = 2.0,
        kappa: float = 0.25,
        a_intensity: float = 0.5,
        gamma_base: float = 0.02,
        vol_ratio: float = 1.0,
        inventory_ratio: float = 0.0,
        toxicity_score: float = 0.0,
        thin_book: float = 0.0,
        alpha_bps: float = 0.0,
        measured_as_bps: float = 0.0,
        as_warmup: float = 0.0,
        regime: str = "normal",
        margin_notional: float = ...,
        quote_bid: bool = True,
        quote_ask: bool = True,
        reduce_only: bool = False,
        urgency: float = 0.0,
        bid_mult: float = 1.0,
        ask_mult: float = 1.0,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], dict[str, float]]: ...

def round_price(px: float, sz_decimals: int, is_bid: bool) -> float: ...
def is_valid_price(px: float, sz_decimals: int) -> bool: ...

# ---- signing (rust/py/src/signing.rs) ----

# An order as Signer takes it: (asset, is_buy, px, sz, reduce_only, tif[, cloid]); px and sz are
# floats (converted like the SDK's float_to_wire) or canonical decimal strings.
_Order = (
    tuple[int, bool, float | str, float | str, bool, str]
    | tuple[int, bool, float | str, float | str, bool, str, str | int | None]
)

@final
class Signer:
    def __new__(
        cls,
        key_hex: str | bytes | Any,
        *,
        is_mainnet: bool = True,
        vault_address: str | None = None,
    ) -> Signer: ...
    @staticmethod
    def from_env(
        var: str = "MMFAST_PRIVATE_KEY",
        *,
        is_mainnet: bool = True,
        vault_address: str | None = None,
    ) -> Signer: ...
    @property
    def address(self) -> str: ...
    @property
    def is_mainnet(self) -> bool: ...
    @property
    def vault_address(self) -> str | None: ...
    @property
    def last_nonce(self) -> int: ...
    def next_nonce(self) -> int: ...
    def sign_orders(
        self,
        orders: Sequence[_Order],
        *,
        grouping: str | dict[str, int] | None = None,
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
    ) -> bytes: ...
    def sign_cancel(
        self,
        cancels: Sequence[tuple[int, int]],
        *,
        fast: bool = True,
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
    ) -> bytes: ...
    def sign_cancel_by_cloid(
        self,
        cancels: Sequence[tuple[int, str | int]],
        *,
        fast: bool = True,
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
    ) -> bytes: ...
    def sign_batch_modify(
        self,
        modifies: Sequence[tuple[int | str, _Order]],
        *,
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
    ) -> bytes: ...
    def sign_schedule_cancel(
        self,
        time: int | None = None,
        *,
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
    ) -> bytes: ...
    def sign_noop(
        self,
        *,
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
    ) -> bytes: ...
    def sign_update_leverage(
        self,
        asset: int,
        is_cross: bool,
        leverage: int,
        *,
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
    ) -> bytes: ...
    def sign_action_json(
        self,
        action_json: bytes | str,
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
    ) -> bytes: ...
    def sign_action(
        self,
        action: Mapping[str, Any],
        nonce: int | None = None,
        vault: str | None = None,
        expires_after: int | None = None,
    ) -> bytes: ...
    def __reduce__(self) -> tuple[Any, ...]: ...

@final
class RecoveredRequest:
    @property
    def signer(self) -> str: ...
    @property
    def nonce(self) -> int: ...
    @property
    def vault_address(self) -> str | None: ...
    @property
    def expires_after(self) -> int | None: ...
    @property
    def action_type(self) -> str: ...

def recover_request(body: bytes, is_mainnet: bool) -> RecoveredRequest: ...
def action_msgpack(action: Any) -> bytes: ...
def action_hash(
    action: Any, vault_address: str | None, nonce: int, expires_after: int | None = None
) -> bytes: ...
def agent_digest(connection_id: bytes, is_mainnet: bool) -> bytes: ...
def sign_l1_action(
    private_key: str | bytes | Any,
    action: Any,
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
) -> dict[str, Any]: ...
def recover_l1_signer(
    action: Any,
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
    signature: Any,
) -> str: ...
def address_from_key(key: str | bytes | Any) -> str: ...
def float_to_wire(x: float) -> str: ...

# ---- matching engine (rust/py/src/sim.rs) ----
