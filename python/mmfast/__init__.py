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
    SpreadProfile,
    ToxicityRegime,
    __version__,
    auto_derive,
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

# Signals (issue 4)

# Quote engine (issue 5)

# Signing (issue 6)

# Matching engine (issue 6; the venue itself is `mmfast.venue`): MatchingEngine, imported above

__all__ = [
    "BookError",
    "ConfigError",
    "DerivedParams",
    "EngineError",
    "ExchangeContext",
    "ExecutionMode",
    "InputError",
    "InventoryGovernor",
    "MarketMakerConfig",
    "MatchingEngine",
    "MmfastError",
    "ModeSelectionInput",
    "PositionAssessment",
    "PositionZone",
    "QueueValueHeuristic",
    "SigningError",
    "SpreadProfile",
    "ToxicityRegime",
    "VenueError",
    "__version__",
    "auto_derive",
    "load_config",
    "select_mode",
]
