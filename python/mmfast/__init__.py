"""mmfast: a low-latency market maker for Hyperliquid perpetuals.

The hot path is Rust (`mmfast._core`); this package re-exports its public classes and adds the
Python orchestration (config loading, feeds, gateway, venue, CLI).
"""

from __future__ import annotations

from mmfast._core import (
    DerivedParams,
    ExchangeContext,
    ExecutionMode,
    InventoryGovernor,
    MarketMakerConfig,
    MatchingEngine,
    ModeSelectionInput,
    PositionAssessment,
    PositionZone,
    QueueValueHeuristic,
    ResolvedLimits,
    SpreadProfile,
    ToxicityRegime,
    __version__,
    auto_derive,
    resolve_limits,
    select_mode,
)
from mmfast.config import load_config
from mmfast.errors import (
    BookError,
    ConfigError,
    EngineError,
    InputError,
    MmfastError,
    SigningError,
    VenueError,
)

# Market data (issue 3)
# isort: split
from mmfast._core import BinanceBook, HlBook

# Signals (issue 4)
# isort: split
from mmfast._core import (
    FlowDecomposition,
    LeadLagSignal,
    SignalIntegrator,
    SignalSnapshot,
)

# Quote engine (issue 5)
# isort: split
from mmfast._core import (
    CycleOutput,
    LadderStrategy,
    OrderStep,
    Quote,
    QuoteEngine,
    is_valid_price,
    round_price,
)

# Signing (issue 6)
# isort: split
from mmfast._core import RecoveredRequest, Signer

# Matching engine (issue 6; the venue itself is `mmfast.venue`): MatchingEngine, imported above

__all__ = [
    "BinanceBook",
    "BookError",
    "ConfigError",
    "CycleOutput",
    "DerivedParams",
    "EngineError",
    "ExchangeContext",
    "ExecutionMode",
    "FlowDecomposition",
    "HlBook",
    "InputError",
    "InventoryGovernor",
    "LadderStrategy",
    "LeadLagSignal",
    "MarketMakerConfig",
    "MatchingEngine",
    "MmfastError",
    "ModeSelectionInput",
    "OrderStep",
    "PositionAssessment",
    "PositionZone",
    "QueueValueHeuristic",
    "Quote",
    "QuoteEngine",
    "RecoveredRequest",
    "ResolvedLimits",
    "SignalIntegrator",
    "SignalSnapshot",
    "Signer",
    "SigningError",
    "SpreadProfile",
    "ToxicityRegime",
    "VenueError",
    "__version__",
    "auto_derive",
    "is_valid_price",
    "load_config",
    "resolve_limits",
    "round_price",
    "select_mode",
]
