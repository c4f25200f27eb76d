//! `MarketMakerConfig` (SPEC 2): one TOML file plus environment overrides, validated once at
//! startup. Unknown keys are an error (typo protection) and every violation is reported at once,
//! each naming its field and value.
//!
//! Limits may be given three ways: `max_position` (coin), `max_position_usd` (the source of
//! truth when set: recomputed at the current mark), or `capital_usd` (derived at startup by
//! `auto_derive` from the exchange's numbers). `crate::risk::resolve_limits` turns any of them into concrete numbers.

mod sections;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

pub use self::sections::*;
use crate::governor::ZoneThresholds;
use crate::mode::ModePolicy;
use crate::params::SpreadProfile;
use crate::queue_value::QueueValueConfig;
use crate::strategy::QuoteStrategy;

/// One rule a config breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Dotted path, e.g. `reconcile.max_bps_diff`.
    pub field: String,
    /// The value as given (TOML rendering), or empty for a missing field.
    pub value: String,
    pub reason: String,
}

/// Every violation of one config, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.source_name, .violations))]
pub struct ConfigError {
    pub source_name: String,
    pub violations: Vec<Violation>,
}

fn render(source: &str, v: &[Violation]) -> String {
    let head = if v.len() == 1 {
        format!("{source}: invalid configuration")
    } else {
        format!("{source}: {} configuration errors", v.len())
    };
    let body: Vec<String> = v
        .iter()
        .map(|x| {
            if x.value.is_empty() {
                format!("  {}: {}", x.field, x.reason)
            } else {
                format!("  {} = {}: {}", x.field, x.value, x.reason)
            }
        })
        .collect();
    format!("{head}\n{}", body.join("\n"))
}

impl ConfigError {
    pub fn single(source: &str, field: &str, value: &str, reason: impl Into<String>) -> Self {
        ConfigError {
            source_name: source.to_string(),
            violations: vec![Violation {
                field: field.to_string(),
                value: value.to_string(),
                reason: reason.into(),
            }],
        }
    }
}

/// Which market leads Hyperliquid for the cross-venue signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadVenue {
    #[default]
    Binance,
    None,
}

/// The whole configuration. Field docs are in `examples/config.toml`. Unknown keys are caught by
/// `serde_ignored` (all of them, with their paths) rather than `deny_unknown_fields` (first only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MarketMakerConfig {
    /// Hyperliquid coin, e.g. "ETH", or "dex:NAME" for a HIP-3 asset (see `dex`).
    pub asset: String,
    /// Network: "mainnet" or "testnet" (selects the signing source "a" / "b").
    pub network: Network,
    pub spread_profile: SpreadProfile,
    pub mode_policy: ModePolicy,
    /// What makes the desired quotes: the GLFT ladder or the Avellaneda-Stoikov baseline.
    pub strategy: QuoteStrategy,
    /// Capital to derive limits from when neither max_position nor max_position_usd is set.
    pub capital_usd: Option<f64>,
    /// Hard ceiling on |position| in coin.
    pub max_position: Option<f64>,
    /// Hard ceiling in USD; when set, the source of truth (recomputed at the current mark).
    pub max_position_usd: Option<f64>,
    /// Per-side liquidity in coin; derived from the profile when absent.
    pub target_liquidity: Option<f64>,
    /// GLFT gamma (bps units); the profile's when absent.
    pub risk_aversion: Option<f64>,
    /// Maker fee in bps until `userFees` says otherwise; negative at a rebate tier.
    pub fee_bps: f64,
    /// Leverage set with `updateLeverage` at startup.
    pub leverage: u32,
    pub multi_asset: bool,
    pub initial_isolated_margin: f64,
    /// HIP-3 dex name; empty for the main perp dex.
    pub dex: String,
    pub smart_reconcile: bool,
    pub lead_venue: LeadVenue,
    pub lead: LeadConfig,
    pub zones: ZoneThresholds,
    pub risk: RiskConfig,
    /// Kill switch and soft monitors of the live loop.
    pub monitors: MonitorConfig,
    pub signals: SignalConfig,
    pub stochastic: StochasticConfig,
    pub ladder: LadderConfig,
    pub avellaneda_stoikov: AvellanedaStoikovConfig,
    pub queue: QueueValueConfig,
    pub reconcile: ReconcileConfig,
    pub impulse_control: ImpulseControlConfig,
    pub collateral: CollateralInfo,
    pub live: LiveConfig,
    /// Computed at startup from `meta`; never read from the file.
    #[serde(skip_deserializing)]
    pub runtime: AssetRuntimeConfig,
}

impl Default for MarketMakerConfig {
    fn default() -> Self {
        Self {
            asset: "ETH".to_string(),
            network: Network::Testnet,
            spread_profile: SpreadProfile::Default,
            mode_policy: ModePolicy::Seed,
            strategy: QuoteStrategy::Glft,
            capital_usd: None,
            max_position: None,
            max_position_usd: None,
            target_liquidity: None,
            risk_aversion: None,
            fee_bps: 1.5,
            leverage: 3,
            multi_asset: false,
            initial_isolated_margin: 0.0,
            dex: String::new(),
            smart_reconcile: true,
            lead_venue: LeadVenue::Binance,
            lead: LeadConfig::default(),
            zones: ZoneThresholds::default(),
            risk: RiskConfig::default(),
            monitors: MonitorConfig::default(),
            signals: SignalConfig::default(),
            stochastic: StochasticConfig::default(),
            ladder: LadderConfig::default(),
            avellaneda_stoikov: AvellanedaStoikovConfig::default(),
            queue: QueueValueConfig::default(),
            reconcile: ReconcileConfig::default(),
            impulse_control: ImpulseControlConfig::default(),
            collateral: CollateralInfo::default(),
            live: LiveConfig::default(),
            runtime: AssetRuntimeConfig::default(),
        }
    }
}

pub use crate::risk::ResolvedLimits;

impl MarketMakerConfig {
    /// Parses and validates TOML text. `overrides` are `(dotted.path, value)` pairs applied on
    /// top of the file (from the environment); a value is read as a TOML literal when it parses
    /// as one, else as a string.
    ///
    /// # Errors
    /// One `ConfigError` listing malformed TOML, every unknown key and every invalid value.
    pub fn from_toml_str(
        text: &str,
        source: &str,
        overrides: &[(String, String)],
    ) -> Result<Self, ConfigError> {
        Self::from_toml_str_noted(text, source, overrides).map(|(c, _)| c)
    }

    /// As `from_toml_str`, with a notice per deprecated field name read
    /// ([`DEPRECATED_ALIASES`]): the caller shows them (Python: a `FutureWarning`).
    ///
    /// # Errors
    /// As `from_toml_str`.
    pub fn from_toml_str_noted(
        text: &str,
        source: &str,
        overrides: &[(String, String)],
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let at = match e.span() {
                Some(span) => {
                    let (line, col) = line_col(text, span.start);
                    format!(" at line {line}, column {col}")
                }
                None => String::new(),
            };
            ConfigError::single(
                source,
                "<file>",
                "",
                format!("malformed TOML{at}: {}", e.message().trim()),
            )
        })?;
        for (path, raw) in overrides {
            set_path(&mut table, path, parse_literal(raw));
        }
        Self::from_value(toml::Value::Table(table), source)
    }

    /// Builds a config from JSON text (the Python constructor's keyword arguments).
    ///
    /// # Errors
    /// As `from_toml_str`.
    pub fn from_json_str(text: &str, source: &str) -> Result<Self, ConfigError> {
        Self::from_json_str_noted(text, source).map(|(c, _)| c)
    }

    /// As `from_json_str`, with the deprecation notices of `from_toml_str_noted`.
    ///
    /// # Errors
    /// As `from_toml_str`.
    pub fn from_json_str_noted(
        text: &str,
        source: &str,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            ConfigError::single(source, "<arguments>", "", format!("malformed: {e}"))
        })?;
        match json_to_toml(v) {
            Some(t @ toml::Value::Table(_)) => Self::from_value(t, source),
            _ => Err(ConfigError::single(
                source,
                "<arguments>",
                "",
                "expected keyword arguments",
            )),
        }
    }

    fn from_value(v: toml::Value, source: &str) -> Result<(Self, Vec<String>), ConfigError> {
        let toml::Value::Table(mut table) = v else {
            return Err(ConfigError::single(source, "<file>", "", "not a table"));
        };
        let mut violations = Vec::new();
        let notices = fold_deprecated(&mut table, &mut violations);
        derive_lead_symbol(&mut table, &mut violations);
        let mut unknown = Vec::new();
        let parsed: Result<Self, _> =
            serde_ignored::deserialize(toml::Value::Table(table.clone()), |p| {
                unknown.push(p.to_string())
            });
        let parsed = match parsed {
            Ok(cfg) => Ok(cfg),
            Err(first) => {
                // serde stops at the first bad value: find every leaf that fails on its own,
                // report them all, and parse the rest so that value rules are reported too.
                let bad = type_errors(&table);
                if bad.is_empty() {
                    Err(first.to_string())
                } else {
                    for (path, value, reason) in bad {
                        remove_path(&mut table, &path);
                        violations.push(Violation {
                            field: path,
                            value,
                            reason,
                        });
                    }
                    unknown.clear();
                    serde_ignored::deserialize(toml::Value::Table(table), |p| {
                        unknown.push(p.to_string())
                    })
                    .map_err(|e: toml::de::Error| e.to_string())
                }
            }
        };
        Self::finish(parsed, unknown, violations, source).map(|c| (c, notices))
    }

    fn finish(
        parsed: Result<Self, String>,
        unknown: Vec<String>,
        mut violations: Vec<Violation>,
        source: &str,
    ) -> Result<Self, ConfigError> {
        violations.extend(unknown.into_iter().map(|field| Violation {
            field,
            value: String::new(),
            reason: "unknown key".to_string(),
        }));
        match parsed {
            Ok(cfg) => {
                cfg.validate_into(&mut violations);
                if violations.is_empty() {
                    Ok(cfg)
                } else {
                    Err(ConfigError {
                        source_name: source.to_string(),
                        violations,
                    })
                }
            }
            Err(msg) => {
                // A type error stops serde at the first bad field; report it beside the unknown
                // keys already found.
                violations.push(type_violation(&msg));
                Err(ConfigError {
                    source_name: source.to_string(),
                    violations,
                })
            }
        }
    }

    /// Validates a config built in code.
    ///
    /// # Errors
    /// Every violation at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut v = Vec::new();
        self.validate_into(&mut v);
        if v.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                source_name: "config".to_string(),
                violations: v,
            })
        }
    }

    fn validate_into(&self, out: &mut Vec<Violation>) {
        let mut c = Checker(out);
        if self.asset.trim().is_empty() {
            c.fail("asset", &self.asset, "must name a coin");
        }
        for (name, v) in [
            ("capital_usd", self.capital_usd),
            ("max_position", self.max_position),
            ("max_position_usd", self.max_position_usd),
            ("target_liquidity", self.target_liquidity),
            ("risk_aversion", self.risk_aversion),
        ] {
            if let Some(x) = v {
                c.positive(name, x);
            }
        }
        if self.max_position.is_none()
            && self.max_position_usd.is_none()
            && self.capital_usd.is_none()
        {
            c.fail(
                "max_position",
                "",
                "one of max_position, max_position_usd or capital_usd is required",
            );
        }
        c.range(
            "fee_bps",
            self.fee_bps,
            crate::params::MIN_FEE_BPS,
            100.0,
            false,
        );
        if self.leverage == 0 {
            c.fail("leverage", "0", "must be >= 1");
        }
        c.non_negative("initial_isolated_margin", self.initial_isolated_margin);
        let z = &self.zones;
        if !(z.yellow > 0.0 && z.yellow < z.red && z.red < z.kill && z.kill.is_finite()) {
            c.fail(
                "zones",
                &format!("{}/{}/{}", z.yellow, z.red, z.kill),
                "need 0 < yellow < red < kill",
            );
        }
        let q = &self.queue;
        for (name, x) in [
            ("queue.as_benign_bps", q.as_benign_bps),
            ("queue.as_toxic_bps", q.as_toxic_bps),
        ] {
            c.non_negative(name, x);
        }
        c.range("queue.queue_penalty", q.queue_penalty, 0.0, 1.0, true);
        c.range("queue.bias_alpha", q.bias_alpha, 0.0, 1.0, true);
        if self.lead_venue == LeadVenue::Binance {
            let symbol = self.lead.symbol.trim();
            if symbol.is_empty() {
                c.fail("lead.symbol", "", "required when lead_venue = \"binance\"");
            } else if let Some(base) = lead_base(&self.asset, &self.dex) {
                if !symbol.to_ascii_uppercase().contains(&base) {
                    c.fail(
                        "lead.symbol",
                        symbol,
                        &format!(
                            "does not match asset {:?}: remove it to lead from {}, or set \
                             lead_venue = \"none\"",
                            self.asset,
                            derived_lead_symbol(&self.asset)
                        ),
                    );
                }
            }
        }
        c.positive("lead.price_multiplier", self.lead.price_multiplier);
        self.risk.validate(&mut c);
        self.monitors.validate(&mut c);
        self.signals.validate(&mut c);
        self.stochastic.validate(&mut c);
        self.ladder.validate(&mut c);
        c.positive(
            "avellaneda_stoikov.horizon_s",
            self.avellaneda_stoikov.horizon_s,
        );
        self.reconcile.validate(&mut c);
        self.impulse_control.validate(&mut c);
        self.live.validate(&mut c);
    }

    /// Every dotted key the config accepts, for environment overrides.
    pub fn known_paths() -> BTreeSet<String> {
        let v = serde_json::to_value(Self::default()).expect("config serializes");
        let mut out = BTreeSet::new();
        collect_paths(&v, "", &mut out);
        for (old, _, _) in DEPRECATED_ALIASES {
            out.insert(old.to_string());
        }
        for opt in [
            "capital_usd",
            "max_position",
            "max_position_usd",
            "target_liquidity",
            "risk_aversion",
        ] {
            out.insert(opt.to_string());
        }
        out.retain(|p| !p.starts_with("runtime"));
        out
    }

    /// The config as TOML text (what `load` would read back to the same value).
    pub fn to_toml_string(&self) -> String {
        let mut table = toml::Table::try_from(self).unwrap_or_default();
        table.remove("runtime");
        toml::to_string(&table).unwrap_or_default()
    }
}

fn collect_paths(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let serde_json::Value::Object(map) = v {
        for (k, child) in map {
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if child.is_object() {
                collect_paths(child, &p, out);
            } else {
                out.insert(p);
            }
        }
    }
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// JSON (the Python constructor's keywords) as TOML; `null` means "not given" and is dropped.
fn json_to_toml(v: serde_json::Value) -> Option<toml::Value> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => return None,
        J::Bool(b) => toml::Value::Boolean(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        J::String(s) => toml::Value::String(s),
        J::Array(a) => toml::Value::Array(a.into_iter().filter_map(json_to_toml).collect()),
        J::Object(m) => toml::Value::Table(
            m.into_iter()
                .filter_map(|(k, v)| json_to_toml(v).map(|v| (k, v)))
                .collect(),
        ),
    })
}

/// The coin a Binance symbol must contain for `asset`, or `None` for a HIP-3 asset (no rule).
fn lead_base(asset: &str, dex: &str) -> Option<String> {
    if asset.contains(':') || !dex.is_empty() {
        return None;
    }
    // kPEPE on Hyperliquid is 1000 PEPE; Binance lists it as 1000PEPEUSDT.
    let base = match asset.strip_prefix('k') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) => rest,
        _ => asset,
    };
    Some(base.to_ascii_uppercase())
}

/// The Binance USD-M symbol that leads `asset` by default: `BTC` -> `BTCUSDT`,
/// `kPEPE` -> `1000PEPEUSDT`.
pub fn derived_lead_symbol(asset: &str) -> String {
    match asset.strip_prefix('k') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) => {
            format!("1000{}USDT", rest.to_ascii_uppercase())
        }
        _ => format!("{}USDT", asset.to_ascii_uppercase()),
    }
}

/// Fills `lead.symbol` from `asset` when the config leaves it out, so that changing the asset
/// never keeps a silent ETH lead. A HIP-3 asset has no Binance twin to guess: the operator
/// names one or chooses `lead_venue = "none"`.
/// Field names still read after their concept moved: `(old path, the one field that holds it
/// now, what changed)`. Reading an old name gives a notice; setting both to different values is
/// a violation (which one was meant is not guessable).
pub const DEPRECATED_ALIASES: [(&str, &str, &str); 1] = [(
    "queue.as_normal_bps",
    "ladder.as_prior_bps",
    "the queue value's Normal-regime adverse selection is the ladder's adverse-selection \
     buffer (its prior blended with the measured markouts), one setting for one concept",
)];

fn get_path<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    match path.split_once('.') {
        None => table.get(path),
        Some((head, rest)) => table.get(head)?.as_table().and_then(|t| get_path(t, rest)),
    }
}

/// Moves each deprecated field to its new name ([`DEPRECATED_ALIASES`]); returns the notices.
fn fold_deprecated(table: &mut toml::Table, out: &mut Vec<Violation>) -> Vec<String> {
    let mut notices = Vec::new();
    for (old, new, why) in DEPRECATED_ALIASES {
        let Some(value) = get_path(table, old).cloned() else {
            continue;
        };
        remove_path(table, old);
        match get_path(table, new) {
            Some(current) if *current != value => out.push(Violation {
                field: old.to_string(),
                value: value.to_string(),
                reason: format!(
                    "deprecated name of {new} (now {current}): both are set and differ; \
                     remove {old} and keep {new}"
                ),
            }),
            Some(_) => notices.push(format!(
                "{old} is deprecated and equals {new}: remove {old} ({why})"
            )),
            None => {
                notices.push(format!(
                    "{old} is deprecated: read as {new} = {value}; rename it ({why})"
                ));
                set_path(table, new, value);
            }
        }
    }
    notices
}

fn derive_lead_symbol(table: &mut toml::Table, out: &mut Vec<Violation>) {
    if table
        .get("lead_venue")
        .and_then(|v| v.as_str())
        .is_some_and(|v| v != "binance")
    {
        return;
    }
    let has_symbol = table
        .get("lead")
        .and_then(|l| l.as_table())
        .is_some_and(|l| l.contains_key("symbol"));
    if has_symbol {
        return;
    }
    let asset = table
        .get("asset")
        .and_then(|v| v.as_str())
        .unwrap_or("ETH")
        .to_string();
    let dex = table.get("dex").and_then(|v| v.as_str()).unwrap_or("");
    if lead_base(&asset, dex).is_none() {
        out.push(Violation {
            field: "lead.symbol".to_string(),
            value: String::new(),
            reason: format!(
                "asset {asset:?} is a HIP-3 asset with no Binance symbol to derive: name one \
                 in [lead] symbol, or set lead_venue = \"none\""
            ),
        });
        return;
    }
    set_path(
        table,
        "lead.symbol",
        toml::Value::String(derived_lead_symbol(&asset)),
    );
}

/// Every leaf of `table` that fails to deserialize on its own: `(path, value, reason)`.
fn type_errors(table: &toml::Table) -> Vec<(String, String, String)> {
    let mut leaves = Vec::new();
    collect_leaves(table, "", &mut leaves);
    let mut out = Vec::new();
    for (path, value) in leaves {
        let mut one = toml::Table::new();
        set_path(&mut one, &path, value.clone());
        let r: Result<MarketMakerConfig, toml::de::Error> =
            serde_ignored::deserialize(toml::Value::Table(one), |_| {});
        if let Err(e) = r {
            out.push((
                path,
                value.to_string(),
                e.to_string().replace('\n', " ").trim().to_string(),
            ));
        }
    }
    out
}

fn collect_leaves(table: &toml::Table, prefix: &str, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in table {
        let p = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => collect_leaves(t, &p, out),
            _ => out.push((p, v.clone())),
        }
    }
}

fn remove_path(table: &mut toml::Table, path: &str) {
    match path.split_once('.') {
        None => {
            table.remove(path);
        }
        Some((head, rest)) => {
            if let Some(toml::Value::Table(t)) = table.get_mut(head) {
                remove_path(t, rest);
            }
        }
    }
}

fn type_violation(msg: &str) -> Violation {
    Violation {
        field: "<value>".to_string(),
        value: String::new(),
        reason: msg.replace('\n', " ").trim().to_string(),
    }
}

fn parse_literal(raw: &str) -> toml::Value {
    format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

fn set_path(table: &mut toml::Table, path: &str, value: toml::Value) {
    let mut parts = path.split('.').peekable();
    let mut cur = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(part.to_string(), value);
            return;
        }
        let entry = cur
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        cur = entry.as_table_mut().expect("just made a table");
    }
}

/// Collects violations; one method per kind of rule so sections stay one line per field.
pub struct Checker<'a>(pub &'a mut Vec<Violation>);

impl Checker<'_> {
    pub fn fail(&mut self, field: &str, value: &str, reason: &str) {
        self.0.push(Violation {
            field: field.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        });
    }

    pub fn positive(&mut self, field: &str, v: f64) {
        if !(v.is_finite() && v > 0.0) {
            self.fail(field, &v.to_string(), "must be a finite number > 0");
        }
    }

    pub fn non_negative(&mut self, field: &str, v: f64) {
        if !(v.is_finite() && v >= 0.0) {
            self.fail(field, &v.to_string(), "must be a finite number >= 0");
        }
    }

    /// An integer count within `[lo, hi]`.
    pub fn count(&mut self, field: &str, v: u32, lo: u32, hi: u32) {
        if !(lo..=hi).contains(&v) {
            self.fail(field, &v.to_string(), &format!("must be in [{lo}, {hi}]"));
        }
    }

    /// A duration in ms: at least 1 and at most a day.
    pub fn millis(&mut self, field: &str, v: u64) {
        if !(1..=86_400_000).contains(&v) {
            self.fail(field, &v.to_string(), "must be in [1, 86400000] ms");
        }
    }

    /// `lo <= v < hi`, or `lo <= v <= hi` when `inclusive`.
    pub fn range(&mut self, field: &str, v: f64, lo: f64, hi: f64, inclusive: bool) {
        let ok = v.is_finite() && v >= lo && if inclusive { v <= hi } else { v < hi };
        if !ok {
            let close = if inclusive { "]" } else { ")" };
            self.fail(
                field,
                &v.to_string(),
                &format!("must be in [{lo}, {hi}{close}"),
            );
        }
    }
}

#[cfg(test)]
mod tests;
