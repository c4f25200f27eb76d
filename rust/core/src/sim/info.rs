//! `/info` answers and the JSON shapes of the venue's streams (PROTOCOL 1.4, 2).

use serde_json::{json, Map, Value};

use super::engine::{
    BlockOutput, FillEvent, MatchingEngine, OrderRecord, TradeEvent, MARKET_ADDRESS,
};
use super::rules::fmt_f64;

fn side(is_buy: bool) -> &'static str {
    if is_buy {
        "B"
    } else {
        "A"
    }
}

fn fake_hash(tid: u64) -> String {
    format!("0x{tid:064x}")
}

impl MatchingEngine {
    fn user_index(&self, user: &str) -> Option<u32> {
        self.by_address.get(&user.to_ascii_lowercase()).copied()
    }

    fn address(&self, u: Option<u32>) -> String {
        u.map_or_else(
            || MARKET_ADDRESS.to_string(),
            |u| self.accounts[u as usize].address.clone(),
        )
    }

    /// WsFill / userFills entry.
    pub fn fill_json(&self, f: &FillEvent) -> Value {
        let spec = &self.assets[f.asset];
        let mut v = json!({
            "coin": spec.coin,
            "px": spec.fmt_px(f.px),
            "sz": spec.fmt_sz(f.sz),
            "side": side(f.is_buy),
            "time": f.time,
            "startPosition": spec.fmt_sz(f.start_szi),
            "dir": f.dir,
            "closedPnl": fmt_f64(f.closed_pnl, 6),
            "hash": fake_hash(f.tid),
            "oid": f.oid,
            "crossed": f.crossed,
            "fee": fmt_f64(f.fee, 6),
            "tid": f.tid,
            "feeToken": "USDC",
        });
        if let Some(c) = &f.cloid {
            v["cloid"] = json!(c);
        }
        v
    }

    /// WsTrade.
    pub fn trade_json(&self, t: &TradeEvent) -> Value {
        let spec = &self.assets[t.asset];
        json!({
            "coin": spec.coin,
            "side": side(t.aggressor_buy),
            "px": spec.fmt_px(t.px),
            "sz": spec.fmt_sz(t.sz),
            "hash": fake_hash(t.tid),
            "time": t.time,
            "tid": t.tid,
            "users": [self.address(t.buyer), self.address(t.seller)],
        })
    }

    /// Order fields shared by openOrders, orderUpdates and orderStatus.
    pub fn order_json(&self, r: &OrderRecord) -> Value {
        let spec = &self.assets[r.asset];
        let mut v = json!({
            "coin": spec.coin,
            "side": side(r.is_buy),
            "limitPx": spec.fmt_px(r.px),
            "sz": spec.fmt_sz(r.remaining),
            "oid": r.oid,
            "timestamp": r.timestamp,
            "origSz": spec.fmt_sz(r.orig),
        });
        if let Some(c) = &r.cloid {
            v["cloid"] = json!(c);
        }
        if r.reduce_only {
            v["reduceOnly"] = json!(true);
        }
        v
    }

    /// `{coin, time, levels}` with at most `depth` levels per side.
    pub fn l2_json(&self, asset: usize, depth: usize) -> Value {
        let spec = &self.assets[asset];
        let b = &self.books[asset];
        let lv = |is_bid| -> Vec<Value> {
            b.levels(is_bid, depth)
                .into_iter()
                .map(|(px, sz, n)| json!({"px": spec.fmt_px(px), "sz": spec.fmt_sz(sz), "n": n}))
                .collect()
        };
        json!({"coin": spec.coin, "time": self.now, "levels": [lv(true), lv(false)]})
    }

    /// The block's events grouped for the streams: responses, fills and order updates per user,
    /// trades per coin, changed coins, new breaches.
    pub fn block_json(&self, out: &BlockOutput) -> Value {
        let mut fills: Map<String, Value> = Map::new();
        for f in &out.fills {
            let a = self.address(Some(f.user));
            let e = fills.entry(a).or_insert_with(|| json!([]));
            e.as_array_mut().expect("array").push(self.fill_json(f));
        }
        let mut orders: Map<String, Value> = Map::new();
        for o in &out.orders {
            let a = self.address(Some(o.order.user));
            let e = orders.entry(a).or_insert_with(|| json!([]));
            e.as_array_mut().expect("array").push(json!({
                "order": self.order_json(&o.order),
                "status": o.order.status,
                "statusTimestamp": o.time,
            }));
        }
        let mut trades: Map<String, Value> = Map::new();
        for t in &out.trades {
            let e = trades
                .entry(self.assets[t.asset].coin.clone())
                .or_insert_with(|| json!([]));
            e.as_array_mut().expect("array").push(self.trade_json(t));
        }
        let changed: Vec<&str> = out
            .changed
            .iter()
            .map(|&i| self.assets[i].coin.as_str())
            .collect();
        let breaches: Vec<Value> = out
            .breaches
            .iter()
            .map(|b| {
                let spec = &self.assets[b.asset];
                json!({
                    "user": self.address(Some(b.user)),
                    "coin": spec.coin,
                    "time": b.time,
                    "position": spec.sz_to_f64(b.position),
                    "restingBuy": spec.sz_to_f64(b.resting_buy),
                    "restingSell": spec.sz_to_f64(b.resting_sell),
                    "maxPosition": spec.sz_to_f64(b.max_position),
                })
            })
            .collect();
        json!({
            "time": out.time,
            "responses": out.responses.iter().map(|(t, r)| json!([t, r])).collect::<Vec<_>>(),
            "fills": fills,
            "orders": orders,
            "trades": trades,
            "changed": changed,
            "breaches": breaches,
        })
    }

    fn meta_json(&self, dex: &str) -> Value {
        let universe: Vec<Value> = self
            .assets
            .iter()
            .filter(|a| a.dex == dex)
            .map(|a| {
                json!({"name": a.coin, "szDecimals": a.sz_decimals, "maxLeverage": a.max_leverage,
                       "marginTableId": a.max_leverage})
            })
            .collect();
        let mut tables: Vec<u32> = self
            .assets
            .iter()
            .filter(|a| a.dex == dex)
            .map(|a| a.max_leverage)
            .collect();
        tables.sort_unstable();
        tables.dedup();
        let margin_tables: Vec<Value> = tables
            .into_iter()
            .map(|l| {
                json!([l, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": l}]}])
            })
            .collect();
        json!({"universe": universe, "marginTables": margin_tables, "collateralToken": 0})
    }

    fn asset_ctxs(&self, dex: &str) -> Vec<Value> {
        self.assets
            .iter()
            .enumerate()
            .filter(|(_, a)| a.dex == dex)
            .map(|(i, a)| {
                let mid = self.mid(i);
                let px = |x: f64| fmt_f64(x, a.px_decimals() as usize);
                let b = &self.books[i];
                let (bid, ask) = (b.best_bid(), b.best_ask());
                json!({
                    "dayNtlVlm": "0.0", "funding": "0.0000125", "openInterest": "0.0",
                    "oraclePx": px(mid), "markPx": px(mid),
                    "midPx": if bid.is_some() && ask.is_some() { json!(px(mid)) } else { Value::Null },
                    "premium": "0.0", "prevDayPx": px(self.config().assets[i].mid),
                    "dayBaseVlm": "0.0",
                    "impactPxs": match (bid, ask) {
                        (Some(b), Some(s)) => json!([a.fmt_px(b), a.fmt_px(s)]),
                        _ => Value::Null,
                    },
                })
            })
            .collect()
    }

    fn clearinghouse_json(&self, u: Option<u32>, dex: &str) -> Value {
        let mut positions = Vec::new();
        let (mut av, mut pos_m, mut ntl, mut raw) = (0.0, 0.0, 0.0, 0.0);
        if let Some(u) = u {
            let acct = &self.accounts[u as usize];
            let (value, pm, _) = self.account_summary(u);
            av = value;
            pos_m = pm;
            raw = value;
            for (i, p) in acct.positions.iter().enumerate() {
                let spec = &self.assets[i];
                if p.szi == 0 || spec.dex != dex {
                    continue;
                }
                let mark = self.mid(i);
                let szi = spec.sz_to_f64(p.szi);
                let value = szi.abs() * mark;
                let upnl = szi * (mark - p.entry_px);
                let margin = value / f64::from(p.leverage);
                ntl += value;
                raw -= szi * mark;
                positions.push(json!({"type": "oneWay", "position": {
                    "coin": spec.coin,
                    "szi": spec.fmt_sz(p.szi),
                    "entryPx": fmt_f64(p.entry_px, 8),
                    "positionValue": fmt_f64(value, 6),
                    "unrealizedPnl": fmt_f64(upnl, 6),
                    "returnOnEquity": fmt_f64(if margin > 0.0 { upnl / (szi.abs() * p.entry_px / f64::from(p.leverage)) } else { 0.0 }, 8),
                    "liquidationPx": Value::Null,
                    "marginUsed": fmt_f64(margin, 6),
                    "maxLeverage": spec.max_leverage,
                    "leverage": {"type": "cross", "value": p.leverage},
                    "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"},
                }}));
            }
        }
        let summary = json!({
            "accountValue": fmt_f64(av, 6),
            "totalNtlPos": fmt_f64(ntl, 6),
            "totalRawUsd": fmt_f64(raw, 6),
            "totalMarginUsed": fmt_f64(pos_m, 6),
        });
        json!({
            "assetPositions": positions,
            "marginSummary": summary,
            "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": fmt_f64(pos_m / 2.0, 6),
            "withdrawable": fmt_f64((av - pos_m).max(0.0), 6),
            "time": self.now,
        })
    }

    /// Answers one `/info` request body. `Err` carries the HTTP 422 text of an unknown or
    /// malformed request.
    ///
    /// # Errors
    /// A description of what could not be read.
    pub fn info(&self, req: &Value) -> std::result::Result<Value, String> {
        let kind = req
            .get("type")
            .and_then(Value::as_str)
            .ok_or("missing type")?;
        let dex = req.get("dex").and_then(Value::as_str).unwrap_or("");
        let user = req.get("user").and_then(Value::as_str);
        let u = user.and_then(|a| self.user_index(a));
        let need_user = || user.ok_or_else(|| format!("{kind} needs user"));
        Ok(match kind {
            "meta" => self.meta_json(dex),
            "metaAndAssetCtxs" => json!([self.meta_json(dex), self.asset_ctxs(dex)]),
            "spotMeta" => json!({
                "tokens": [{"name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0,
                            "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054", "isCanonical": true,
                            "evmContract": null, "fullName": null}],
                "universe": [],
            }),
            "spotMetaAndAssetCtxs" => json!([{"tokens": [], "universe": []}, []]),
            "perpDexs" => {
                let mut v = vec![Value::Null];
                for d in self.dexes.iter().skip(1) {
                    v.push(json!({"name": d, "fullName": d, "deployer": MARKET_ADDRESS,
                                  "oracleUpdater": null}));
                }
                Value::Array(v)
            }
            "allMids" => {
                let mut m = Map::new();
                for (i, a) in self.assets.iter().enumerate().filter(|(_, a)| a.dex == dex) {
                    m.insert(a.coin.clone(), json!(fmt_f64(self.mid(i), a.px_decimals() as usize + 1)));
                }
                Value::Object(m)
            }
            "l2Book" => {
                let coin = req.get("coin").and_then(Value::as_str).ok_or("l2Book needs coin")?;
                match self.asset_index(coin) {
                    Some(i) => self.l2_json(i, 20),
                    None => Value::Null,
                }
            }
            "clearinghouseState" => {
                need_user()?;
                self.clearinghouse_json(u, dex)
            }
            "openOrders" | "frontendOpenOrders" => {
                need_user()?;
                let mut v: Vec<&OrderRecord> = u
                    .map(|u| {
                        self.accounts[u as usize]
                            .open
                            .iter()
                            .filter_map(|o| self.orders.get(o))
                            .filter(|r| self.assets[r.asset].dex == dex)
                            .collect()
                    })
                    .unwrap_or_default();
                v.sort_by_key(|r| std::cmp::Reverse(r.oid));
                let front = kind == "frontendOpenOrders";
                Value::Array(
                    v.into_iter()
                        .map(|r| {
                            let mut o = self.order_json(r);
                            if front {
                                o["isTrigger"] = json!(false);
                                o["triggerPx"] = json!("0.0");
                                o["triggerCondition"] = json!("N/A");
                                o["orderType"] = json!("Limit");
                                o["tif"] = json!(format!("{:?}", r.tif));
                                o["isPositionTpsl"] = json!(false);
                                o["children"] = json!([]);
                                o["reduceOnly"] = json!(r.reduce_only);
                            }
                            o
                        })
                        .collect(),
                )
            }
            "orderStatus" => {
                need_user()?;
                let oid = req.get("oid").ok_or("orderStatus needs oid")?;
                let rec = u.and_then(|u| {
                    let oid = match oid {
                        Value::Number(n) => n.as_u64(),
                        Value::String(c) => self.cloids.get(&(u, c.to_ascii_lowercase())).copied(),
                        _ => None,
                    }?;
                    self.orders.get(&oid).filter(|r| r.user == u)
                });
                match rec {
                    Some(r) => {
                        let mut o = self.order_json(r);
                        o["tif"] = json!(format!("{:?}", r.tif));
                        o["orderType"] = json!("Limit");
                        o["reduceOnly"] = json!(r.reduce_only);
                        json!({"status": "order", "order": {"order": o, "status": r.status,
                                                            "statusTimestamp": r.status_ts}})
                    }
                    None => json!({"status": "unknownOid"}),
                }
            }
            "userFills" | "userFillsByTime" => {
                need_user()?;
                let start = req.get("startTime").and_then(Value::as_u64).unwrap_or(0);
                let end = req.get("endTime").and_then(Value::as_u64).unwrap_or(u64::MAX);
                let fills = u.map_or(&[][..], |u| &self.fills[u as usize][..]);
                Value::Array(
                    fills
                        .iter()
                        .rev()
                        .filter(|f| f.time >= start && f.time <= end)
                        .take(2000)
                        .map(|f| self.fill_json(f))
                        .collect(),
                )
            }
            "userRateLimit" => {
                need_user()?;
                let (vol, used) = u.map_or((0.0, 0), |u| {
                    let a = &self.accounts[u as usize];
                    (a.cum_volume, a.n_requests)
                });
                json!({"cumVlm": fmt_f64(vol, 2), "nRequestsUsed": used,
                       "nRequestsCap": self.config().request_buffer + vol as u64,
                       "nRequestsSurplus": 0})
            }
            "userFees" => {
                need_user()?;
                let (t, m) = (self.config().taker_fee_bps * 1e-4, self.config().maker_fee_bps * 1e-4);
                json!({
                    "dailyUserVlm": [],
                    "feeSchedule": {"cross": fmt_f64(t, 6), "add": fmt_f64(m, 6),
                                    "spotCross": "0.0007", "spotAdd": "0.0004", "tiers": {},
                                    "referralDiscount": "0.0", "stakingDiscountTiers": []},
                    "userCrossRate": fmt_f64(t, 6),
                    "userAddRate": fmt_f64(m, 6),
                    "userSpotCrossRate": "0.0007",
                    "userSpotAddRate": "0.0004",
                    "activeReferralDiscount": "0.0",
                    "trial": null, "feeTrialReward": "0.0", "nextTrialAvailableTimestamp": null,
                    "stakingLink": null, "activeStakingDiscount": {"bpsOfMaxSupply": "0.0", "discount": "0.0"},
                })
            }
            "userRole" => {
                // The real answer's shapes: an agent names its master; an account is a user.
                let a = need_user()?.to_ascii_lowercase();
                if u.is_some() {
                    json!({"role": "user"})
                } else if let Some(master) = self.user_of(&a) {
                    json!({"role": "agent", "data": {"user": master}})
                } else {
                    json!({"role": "missing"})
                }
            }
            "exchangeStatus" => json!({"time": self.now, "specialStatuses": null}),
            other => return Err(format!("Failed to deserialize the JSON body into the target type: unknown variant `{other}`")),
        })
    }

    /// The venue's own account of every account: positions, PnL, fees, volume, breaches.
    pub fn ledger_json(&self) -> Value {
        let mut out = Map::new();
        for (u, acct) in self.accounts.iter().enumerate() {
            let (av, pm, om) = self.account_summary(u as u32);
            let mut coins = Map::new();
            let mut breaches = 0;
            for (i, p) in acct.positions.iter().enumerate() {
                breaches += p.breaches;
                if p.n_fills == 0
                    && p.max_position.is_none()
                    && p.resting_buy == 0
                    && p.resting_sell == 0
                {
                    continue;
                }
                let spec = &self.assets[i];
                let mark = self.mid(i);
                let szi = spec.sz_to_f64(p.szi);
                coins.insert(
                    spec.coin.clone(),
                    json!({
                        "position": szi,
                        "entryPx": p.entry_px,
                        "markPx": mark,
                        "unrealizedPnl": szi * (mark - p.entry_px),
                        "realizedPnl": p.realized,
                        "fees": p.fees,
                        "volume": p.volume,
                        "fills": p.n_fills,
                        "restingBuy": spec.sz_to_f64(p.resting_buy),
                        "restingSell": spec.sz_to_f64(p.resting_sell),
                        "maxPosition": p.max_position.map(|m| spec.sz_to_f64(m)),
                        "maxPositionUsd": p.max_position_usd.map(|(usd, _)| usd),
                        "breaches": p.breaches,
                        "maxExcess": spec.sz_to_f64(p.max_excess),
                        "leverage": p.leverage,
                    }),
                );
            }
            out.insert(
                acct.address.clone(),
                json!({
                    "usdc": acct.usdc,
                    "accountValue": av,
                    "marginUsed": pm + om,
                    "volume": acct.cum_volume,
                    "requests": acct.n_requests,
                    "openOrders": acct.open.len(),
                    "breaches": breaches,
                    "coins": coins,
                }),
            );
        }
        Value::Object(out)
    }
}

/// Wire input for the replay market: recorded `l2Book` and `trades` payloads.
impl MatchingEngine {
    /// Replaces an asset's background book with a recorded `l2Book` payload
    /// (`{coin, time, levels: [bids, asks]}`). Returns false for an unknown coin.
    ///
    /// # Errors
    /// A description of the malformed field.
    pub fn apply_l2_wire(&mut self, data: &Value) -> std::result::Result<bool, String> {
        let coin = data
            .get("coin")
            .and_then(Value::as_str)
            .ok_or("l2Book without coin")?;
        let Some(i) = self.asset_index(coin) else {
            return Ok(false);
        };
        let spec = self.assets[i].clone();
        let levels = data
            .get("levels")
            .and_then(Value::as_array)
            .ok_or("l2Book without levels")?;
        let mut sides: [Vec<(i64, i64, u32)>; 2] = [Vec::new(), Vec::new()];
        for (s, side) in levels.iter().take(2).enumerate() {
            for l in side.as_array().ok_or("levels side is not a list")? {
                let px = l
                    .get("px")
                    .and_then(Value::as_str)
                    .ok_or("level without px")?;
                let sz = l
                    .get("sz")
                    .and_then(Value::as_str)
                    .ok_or("level without sz")?;
                let n = l.get("n").and_then(Value::as_u64).unwrap_or(1) as u32;
                let px = super::rules::parse_scaled(px, spec.px_decimals())
                    .map_err(|_| format!("bad px {px}"))?;
                let sz = super::rules::parse_scaled(sz, spec.sz_decimals)
                    .map_err(|_| format!("bad sz {sz}"))?;
                sides[s].push((px, sz, n));
            }
        }
        self.apply_l2_levels(i, &sides[0], &sides[1]);
        Ok(true)
    }

    /// Replaces an asset's background book with recorded levels `(px, sz, n)`, best first, in
    /// the asset's units; the mid follows the new top.
    pub fn apply_l2_levels(
        &mut self,
        asset: usize,
        bids: &[(i64, i64, u32)],
        asks: &[(i64, i64, u32)],
    ) {
        self.apply_book(asset, bids, asks);
        if let (Some(b), Some(a)) = (bids.first(), asks.first()) {
            let spec = &self.assets[asset];
            self.mids[asset] = (spec.px_to_f64(b.0) + spec.px_to_f64(a.0)) / 2.0;
        }
    }

    /// Applies recorded trades (`WsTrade[]`): each takes our orders strictly better than its
    /// price, then its size at its price, background first (queue position).
    ///
    /// # Errors
    /// A description of the malformed field.
    pub fn apply_trades_wire(&mut self, data: &Value) -> std::result::Result<usize, String> {
        let trades = data.as_array().ok_or("trades payload is not a list")?;
        let mut n = 0;
        for t in trades {
            let coin = t
                .get("coin")
                .and_then(Value::as_str)
                .ok_or("trade without coin")?;
            let Some(i) = self.asset_index(coin) else {
                continue;
            };
            let spec = self.assets[i].clone();
            let is_buy = t.get("side").and_then(Value::as_str) == Some("B");
            let px = t
                .get("px")
                .and_then(Value::as_str)
                .ok_or("trade without px")?;
            let sz = t
                .get("sz")
                .and_then(Value::as_str)
                .ok_or("trade without sz")?;
            let px = super::rules::parse_scaled(px, spec.px_decimals())
                .map_err(|_| format!("bad px {px}"))?;
            let sz = super::rules::parse_scaled(sz, spec.sz_decimals)
                .map_err(|_| format!("bad sz {sz}"))?;
            self.market_order(
                i,
                super::market::MarketOrder {
                    is_buy,
                    through_px: px,
                    last_qty: sz,
                },
                Some(px),
            );
            n += 1;
        }
        Ok(n)
    }
}
