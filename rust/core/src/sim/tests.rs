//! Engine-level tests: blocks, matching, fees, rules and the ledger, with hand-computed values.

use serde_json::{json, Value};

use super::config::{AssetConfig, MarketKind, SimConfig, SyntheticParams};
use super::engine::MatchingEngine;
use super::queue::QueueModel;

const A: &str = "0x00000000000000000000000000000000000000a1";
const B: &str = "0x00000000000000000000000000000000000000b2";
const T0: u64 = 1_700_000_000_000;

/// ETH at mid 2000, static book: touch 1999.9 / 2000.1, 1 coin per level (level_usd 2000).
fn engine() -> MatchingEngine {
    let cfg = SimConfig {
        market: MarketKind::Static,
        queue: QueueModel::RISK_AVERSE,
        assets: vec![AssetConfig {
            coin: "ETH".into(),
            sz_decimals: 4,
            mid: 2000.0,
            synthetic: SyntheticParams {
                level_usd: 2000.0,
                level_growth: 0.0,
                levels: 5,
                level_spacing_bps: 0.0,
                ..SyntheticParams::default()
            },
            ..AssetConfig::default()
        }],
        ..SimConfig::default()
    };
    let mut e = MatchingEngine::new(cfg).unwrap();
    e.add_account(A, 100_000.0).unwrap();
    e.add_account(B, 100_000.0).unwrap();
    e.end_block(T0);
    e
}

struct Run {
    nonce: u64,
}

impl Run {
    fn send(&mut self, e: &mut MatchingEngine, who: &str, action: Value) -> u64 {
        self.nonce += 1;
        e.submit(
            who,
            action.to_string().as_bytes(),
            T0 + self.nonce,
            None,
            None,
            T0,
        )
        .unwrap()
    }
}

fn order(is_buy: bool, px: &str, sz: &str, tif: &str) -> Value {
    json!({"type": "order", "grouping": "na", "orders": [
        {"a": 0, "b": is_buy, "p": px, "s": sz, "r": false, "t": {"limit": {"tif": tif}}}
    ]})
}

fn block(e: &mut MatchingEngine, t: u64) -> Value {
    let out = e.end_block(t);
    e.block_json(&out)
}

fn response(b: &Value, ticket: u64) -> Value {
    b["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r[0] == json!(ticket))
        .map(|r| r[1].clone())
        .unwrap()
}

fn status0(b: &Value, ticket: u64) -> Value {
    response(b, ticket)["response"]["data"]["statuses"][0].clone()
}

#[test]
fn static_book_is_the_hand_computed_profile() {
    let e = engine();
    let l2 = e.l2_json(0, 2);
    assert_eq!(
        l2["levels"][0][0],
        json!({"px": "1999.9", "sz": "1", "n": 1})
    );
    assert_eq!(
        l2["levels"][1][0],
        json!({"px": "2000.1", "sz": "1", "n": 1})
    );
    assert_eq!(l2["levels"][1][1]["px"], json!("2000.2"));
}

#[test]
fn alo_rests_and_crossing_alo_is_rejected_with_the_bbo() {
    let mut e = engine();
    let mut r = Run { nonce: 0 };
    let t1 = r.send(&mut e, A, order(true, "1999.8", "0.01", "Alo"));
    let t2 = r.send(&mut e, A, order(true, "2000.1", "0.01", "Alo"));
    let b = block(&mut e, T0 + 70);
    assert_eq!(status0(&b, t1), json!({"resting": {"oid": 1}}));
    assert_eq!(
        status0(&b, t2),
        json!({"error": "Post only order would have immediately matched, bbo was 1999.9@2000.1. asset=0"})
    );
}

#[test]
fn tick_size_and_min_notional_errors() {
    let mut e = engine();
    let mut r = Run { nonce: 0 };
    let t1 = r.send(&mut e, A, order(true, "1234.56", "0.01", "Alo"));
    let t2 = r.send(&mut e, A, order(true, "1999.8", "0.00001", "Alo"));
    let t3 = r.send(&mut e, A, order(true, "1999.8", "0.004", "Alo"));
    let t4 = r.send(&mut e, A, order(true, "123456", "0.01", "Alo"));
    let b = block(&mut e, T0 + 70);
    assert_eq!(
        status0(&b, t1),
        json!({"error": "Price must be divisible by tick size. asset=0"})
    );
    assert_eq!(
        status0(&b, t2),
        json!({"error": "Order has invalid size. asset=0"})
    );
    assert_eq!(
        status0(&b, t3),
        json!({"error": "Order must have minimum value of $10. asset=0"})
    );
    // an integer price is always valid; 123456 crosses the book, so as ALO it is a post-only error
    assert!(status0(&b, t4)["error"]
        .as_str()
        .unwrap()
        .starts_with("Post only"));
}

#[test]
fn cancel_beats_a_taker_in_the_same_block() {
    let mut e = engine();
    let mut r = Run { nonce: 0 };
    let t = r.send(&mut e, A, order(false, "2000.1", "0.5", "Alo"));
    let b = block(&mut e, T0 + 70);
    let oid = status0(&b, t)["resting"]["oid"].as_u64().unwrap();
    // B's taker arrives first, A's cancel second: the cancel still runs first.
    let taker = r.send(&mut e, B, order(true, "2000.1", "0.5", "Gtc"));
    let cancel = r.send(
        &mut e,
        A,
        json!({"type": "cancel", "cancels": [{"a": 0, "o": oid}]}),
    );
    let b = block(&mut e, T0 + 140);
    assert_eq!(status0(&b, cancel), json!("success"));
    // B filled 0.5 against the background only (1 coin at 2000.1)
    assert_eq!(
        status0(&b, taker),
        json!({"filled": {"totalSz": "0.5", "avgPx": "2000.1", "oid": 2}})
    );
    assert!(b["fills"].get(A).is_none());
    assert_eq!(b["orders"][A][0]["status"], json!("canceled"));
}

#[test]
fn resting_order_fills_only_after_the_size_ahead_traded() {
    let mut e = engine();
    let mut r = Run { nonce: 0 };
    // join the 1-coin background bid at 1999.9
    let t = r.send(&mut e, A, order(true, "1999.9", "0.5", "Alo"));
    block(&mut e, T0 + 70);
    let s1 = r.send(&mut e, B, order(false, "1999.9", "0.6", "Ioc"));
    let b = block(&mut e, T0 + 140);
    assert!(b["fills"].get(A).is_none(), "0.4 still ahead of us");
    assert_eq!(status0(&b, s1)["filled"]["totalSz"], json!("0.6"));
    let s2 = r.send(&mut e, B, order(false, "1999.9", "0.6", "Ioc"));
    let b = block(&mut e, T0 + 210);
    // 0.4 background, then 0.2 of ours
    let fills = b["fills"][A].as_array().unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0]["sz"], json!("0.2"));
    assert_eq!(fills[0]["crossed"], json!(false));
    assert_eq!(status0(&b, s2)["filled"]["totalSz"], json!("0.6"));
    let _ = t;
}

#[test]
fn fees_pnl_and_directions_hand_computed() {
    let mut e = engine();
    let mut r = Run { nonce: 0 };
    // A buys 1 coin at 2000.1 as taker: fee 2000.1 * 4.5e-4 = 0.900045
    let t = r.send(&mut e, A, order(true, "2000.1", "1", "Ioc"));
    let b = block(&mut e, T0 + 70);
    let f = &b["fills"][A][0];
    assert_eq!(f["dir"], json!("Open Long"));
    assert_eq!(f["fee"], json!("0.900045"));
    assert_eq!(f["crossed"], json!(true));
    assert_eq!(status0(&b, t)["filled"]["avgPx"], json!("2000.1"));
    // A rests an ask at 2000.3, B lifts it: maker fee 2000.3 * 0.5 * 1.5e-4 = 0.1500225
    r.send(&mut e, A, order(false, "2000.3", "0.5", "Alo"));
    block(&mut e, T0 + 140);
    r.send(&mut e, B, order(true, "2000.3", "3.5", "Ioc"));
    let b = block(&mut e, T0 + 210);
    let f = &b["fills"][A][0];
    assert_eq!(f["dir"], json!("Close Long"));
    assert_eq!(f["fee"], json!("0.150023")); // 6 decimals on the wire
    assert_eq!(f["closedPnl"], json!("0.1")); // (2000.3 - 2000.1) * 0.5
    let ledger = e.ledger_json();
    let eth = &ledger[A]["coins"]["ETH"];
    assert_eq!(eth["position"], json!(0.5));
    assert!((eth["fees"].as_f64().unwrap() - (0.900045 + 0.1500225)).abs() < 1e-9);
    assert!(
        (ledger[A]["usdc"].as_f64().unwrap() - (100_000.0 + 0.1 - 0.900045 - 0.1500225)).abs()
            < 1e-9
    );
    // B swept 2000.1, 2000.2 and the background ahead of A at 2000.3, then A: price-time order
    let bf: Vec<_> = b["fills"][B]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["px"].clone())
        .collect();
    assert_eq!(
        bf,
        vec![
            json!("2000.1"),
            json!("2000.2"),
            json!("2000.3"),
            json!("2000.3")
        ]
    );
}

#[test]
fn self_trade_prevention_cancels_the_resting_order() {
    let mut e = engine();
    let mut r = Run { nonce: 0 };
    let t = r.send(&mut e, A, order(false, "2000", "0.5", "Alo"));
    let b = block(&mut e, T0 + 70);
    let oid = status0(&b, t)["resting"]["oid"].as_u64().unwrap();
    r.send(&mut e, A, order(true, "2000", "0.5", "Gtc"));
    let b = block(&mut e, T0 + 140);
    assert!(b["fills"].get(A).is_none());
    let upd = b["orders"][A].as_array().unwrap();
    assert!(upd
        .iter()
        .any(|u| u["order"]["oid"] == json!(oid) && u["status"] == json!("selfTradeCanceled")));
    // the GTC itself rests at 2000 (nothing else to take there)
    assert_eq!(e.l2_json(0, 1)["levels"][0][0]["px"], json!("2000"));
}

#[test]
fn modify_is_cancel_replace_with_a_new_oid() {
    let mut e = engine();
    let mut r = Run { nonce: 0 };
    let t = r.send(&mut e, A, order(true, "1999", "0.01", "Alo"));
    let b = block(&mut e, T0 + 70);
    let oid = status0(&b, t)["resting"]["oid"].as_u64().unwrap();
    let m = r.send(&mut e, A, json!({"type": "batchModify", "modifies": [{"oid": oid, "order":
        {"a": 0, "b": true, "p": "1998", "s": "0.02", "r": false, "t": {"limit": {"tif": "Gtc"}}}}]}));
    let b = block(&mut e, T0 + 140);
    let new = status0(&b, m)["resting"]["oid"].as_u64().unwrap();
    assert_ne!(new, oid);
    let st = e
        .info(&json!({"type": "orderStatus", "user": A, "oid": oid}))
        .unwrap();
    assert_eq!(st["order"]["status"], json!("canceled"));
    let open = e.info(&json!({"type": "openOrders", "user": A})).unwrap();
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert_eq!(open[0]["limitPx"], json!("1998"));
    // modifying the old oid again fails with the exchange's text
    let m2 = r.send(&mut e, A, json!({"type": "batchModify", "modifies": [{"oid": oid, "order":
        {"a": 0, "b": true, "p": "1997", "s": "0.02", "r": false, "t": {"limit": {"tif": "Alo"}}}}]}));
    let b = block(&mut e, T0 + 210);
    assert_eq!(
        status0(&b, m2),
        json!({"error": "Cannot modify canceled or filled order"})
    );
}

#[test]
fn unknown_signer_duplicate_nonce_and_budget_are_top_level_errors() {
    let mut e = engine();
    let a = order(true, "1999", "0.01", "Alo").to_string();
    let stranger = "0x00000000000000000000000000000000000000c3";
    assert_eq!(
        e.submit(stranger, a.as_bytes(), T0, None, None, T0)
            .unwrap_err(),
        format!("L1 error: User or API Wallet {stranger} does not exist.")
    );
    e.submit(A, a.as_bytes(), T0 + 1, None, None, T0).unwrap();
    assert_eq!(
        e.submit(A, a.as_bytes(), T0 + 1, None, None, T0)
            .unwrap_err(),
        format!("Invalid nonce: duplicate nonce {}", T0 + 1)
    );
    // an agent signs for its master, with its own nonce set
    e.add_agent(stranger, A).unwrap();
    e.submit(stranger, a.as_bytes(), T0 + 1, None, None, T0)
        .unwrap();
    assert_eq!(e.user_of(stranger).as_deref(), Some(A));
}

#[test]
fn address_budget_refuses_past_the_cap_then_allows_one_per_10s() {
    let mut cfg = engine().config().clone();
    cfg.request_buffer = 3;
    let mut e = MatchingEngine::new(cfg).unwrap();
    e.add_account(A, 1000.0).unwrap();
    let a = order(true, "1999", "0.01", "Alo").to_string();
    for n in 1..=3 {
        e.submit(A, a.as_bytes(), T0 + n, None, None, T0).unwrap();
    }
    // past the cap, the first one goes through (one per 10 s), the next is refused
    e.submit(A, a.as_bytes(), T0 + 4, None, None, T0).unwrap();
    let err = e
        .submit(A, a.as_bytes(), T0 + 5, None, None, T0 + 1)
        .unwrap_err();
    assert_eq!(
        err,
        "Too many cumulative requests sent (5 > 3) for cumulative volume traded $0.00. Place taker orders to free up 1 request per USDC traded."
    );
    e.submit(A, a.as_bytes(), T0 + 6, None, None, T0 + 10_000)
        .unwrap();
    let rl = e
        .info(&json!({"type": "userRateLimit", "user": A}))
        .unwrap();
    assert_eq!(rl["nRequestsUsed"], json!(5));
    assert_eq!(rl["nRequestsCap"], json!(3));
}

#[test]
fn block_order_is_alo_then_cancels_then_gtc() {
    let mut e = engine();
    let mut r = Run { nonce: 0 };
    let g = r.send(&mut e, B, order(true, "2000.1", "1.5", "Gtc"));
    let c = r.send(
        &mut e,
        A,
        json!({"type": "cancel", "cancels": [{"a": 0, "o": 999}]}),
    );
    let a = r.send(&mut e, A, order(false, "2000.1", "0.5", "Alo"));
    let b = block(&mut e, T0 + 70);
    let order: Vec<u64> = b["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_u64().unwrap())
        .collect();
    assert_eq!(order, vec![a, c, g]);
    // A's ALO joined the 2000.1 ask behind 1 coin of background, so B's 1.5 took 1 + 0.5 of A
    assert_eq!(b["fills"][A][0]["sz"], json!("0.5"));
}

#[test]
fn margin_check_refuses_what_the_account_cannot_carry() {
    let mut e = engine();
    let poor = "0x00000000000000000000000000000000000000d4";
    e.add_account(poor, 100.0).unwrap(); // 20x: $2000 of orders
    let mut r = Run { nonce: 0 };
    let ok = r.send(&mut e, poor, order(true, "1999", "0.5", "Alo"));
    let no = r.send(&mut e, poor, order(true, "1999", "0.6", "Alo"));
    let b = block(&mut e, T0 + 70);
    assert!(status0(&b, ok).get("resting").is_some());
    assert_eq!(
        status0(&b, no),
        json!({"error": "Insufficient margin to place order. asset=0"})
    );
}

#[test]
fn breaches_are_counted_from_resting_orders_and_position() {
    let mut e = engine();
    e.set_max_position(A, "ETH", 0.5).unwrap();
    let mut r = Run { nonce: 0 };
    r.send(&mut e, A, order(true, "1999", "0.3", "Alo"));
    r.send(&mut e, A, order(true, "1998", "0.2", "Alo"));
    let b = block(&mut e, T0 + 70);
    assert_eq!(b["breaches"], json!([]));
    r.send(&mut e, A, order(true, "1997", "0.1", "Alo"));
    let b = block(&mut e, T0 + 140);
    assert_eq!(b["breaches"].as_array().unwrap().len(), 1);
    assert_eq!(b["breaches"][0]["restingBuy"], json!(0.6));
    // sells do not add to the long side; a second entry into breach counts again
    let l = e.ledger_json();
    assert_eq!(l[A]["breaches"], json!(1));
    assert_eq!(l[A]["coins"]["ETH"]["maxExcess"], json!(0.1));
}

/// A USD limit (SPEC 2: the source of truth) is held at the venue's own mid, with the bot's
/// re-resolve hysteresis (0.5%) as tolerance: ceiling = usd / (mid * 0.995), rounded down to a
/// lot. Hand-computed for $1000 on ETH (lots of 0.0001), the market's book moved by hand.
#[test]
fn a_usd_limit_is_counted_at_the_venues_own_mid() {
    let cfg = SimConfig {
        market: MarketKind::External,
        assets: vec![AssetConfig {
            coin: "ETH".into(),
            sz_decimals: 4,
            mid: 1960.0,
            ..AssetConfig::default()
        }],
        ..SimConfig::default()
    };
    let mut e = MatchingEngine::new(cfg).unwrap();
    e.add_account(A, 100_000.0).unwrap();
    // The market's own book, one coin a side 0.1 from `mid` (prices in cents).
    let set_mid = |e: &mut MatchingEngine, cents: i64| {
        e.apply_l2_levels(0, &[(cents - 10, 10_000, 1)], &[(cents + 10, 10_000, 1)]);
    };
    set_mid(&mut e, 196_000);
    e.set_max_position_usd(A, "ETH", 1000.0, 0.005).unwrap();
    let mut r = Run { nonce: 0 };
    // At 1960 the ceiling is 1000 / (1960 * 0.995) = 0.51277 -> 0.5127: 0.51 of buys is within
    // it (the coin max at a starting mid of 2000, 0.5, would have counted this).
    r.send(&mut e, A, order(true, "1900", "0.3", "Alo"));
    r.send(&mut e, A, order(true, "1899", "0.21", "Alo"));
    assert_eq!(block(&mut e, T0 + 70)["breaches"], json!([]));
    // +0.5% to 1969.8: a bot that resolved at 1960 keeps its 0.5102 and need not re-resolve;
    // the venue's ceiling, 1000 / (1969.8 * 0.995) = 0.51022 -> 0.5102, still holds the 0.51.
    set_mid(&mut e, 196_980);
    r.send(&mut e, A, order(false, "2100", "0.01", "Alo"));
    assert_eq!(block(&mut e, T0 + 140)["breaches"], json!([]));
    // At 2000 the ceiling is 0.5025: buys kept at 0.51 once the mark rose 2% are a breach,
    // counted at the account's next event.
    set_mid(&mut e, 200_000);
    r.send(&mut e, A, order(false, "2101", "0.01", "Alo"));
    let b = block(&mut e, T0 + 210);
    assert_eq!(b["breaches"].as_array().unwrap().len(), 1, "{b}");
    let l = e.ledger_json();
    assert_eq!(l[A]["breaches"], json!(1));
    assert_eq!(l[A]["coins"]["ETH"]["maxExcess"], json!(0.0075));
    // A coin limit replaces the USD one: 0.6 coin, whatever the mid.
    e.set_max_position(A, "ETH", 0.6).unwrap();
    set_mid(&mut e, 300_000);
    r.send(&mut e, A, order(false, "3100", "0.01", "Alo"));
    assert_eq!(block(&mut e, T0 + 280)["breaches"], json!([]));
}

#[test]
fn hip3_assets_get_their_ids_and_meta() {
    let cfg = SimConfig {
        market: MarketKind::Static,
        assets: vec![
            AssetConfig::default(),
            AssetConfig {
                coin: "xyz:GOLD".into(),
                sz_decimals: 2,
                mid: 2500.0,
                ..AssetConfig::default()
            },
            AssetConfig {
                coin: "xyz:SILVER".into(),
                sz_decimals: 1,
                mid: 30.0,
                ..AssetConfig::default()
            },
        ],
        ..SimConfig::default()
    };
    let e = MatchingEngine::new(cfg).unwrap();
    let ids: Vec<u32> = e.assets().iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![0, 110_000, 110_001]);
    let meta = e.info(&json!({"type": "meta", "dex": "xyz"})).unwrap();
    assert_eq!(meta["universe"][1]["name"], json!("xyz:SILVER"));
    let main = e.info(&json!({"type": "meta"})).unwrap();
    assert_eq!(main["universe"].as_array().unwrap().len(), 1);
    let dexs = e.info(&json!({"type": "perpDexs"})).unwrap();
    assert_eq!(dexs[0], Value::Null);
    assert_eq!(dexs[1]["name"], json!("xyz"));
}

#[test]
fn synthetic_market_fills_makers_with_the_law_of_depth() {
    // Orders resting deeper fill less often; the run is reproducible from its seed.
    let run = |seed: u64| {
        let cfg = SimConfig {
            market: MarketKind::Synthetic,
            seed,
            assets: vec![AssetConfig {
                mid: 2000.0,
                synthetic: SyntheticParams {
                    sigma_bps: 0.0,
                    jump_rate_per_min: 0.0,
                    trade_rate: 20.0,
                    ..SyntheticParams::default()
                },
                ..AssetConfig::default()
            }],
            ..SimConfig::default()
        };
        let mut e = MatchingEngine::new(cfg).unwrap();
        e.add_account(A, 1e9).unwrap();
        e.end_block(T0);
        let mut trades = 0usize;
        let mut fills = 0usize;
        for i in 1..500u64 {
            let out = e.end_block(T0 + i * 70);
            trades += out.trades.len();
            fills += out.fills.len();
        }
        (trades, fills, e.mid(0).to_bits())
    };
    assert_eq!(run(11), run(11));
    assert!(run(11).0 > 100);
}

#[test]
fn closed_orders_are_kept_up_to_a_bounded_history() {
    use super::engine::ORDER_HISTORY;
    let mut cfg = engine().config().clone();
    cfg.request_buffer = 1_000_000;
    let mut e = MatchingEngine::new(cfg).unwrap();
    e.add_account(A, 100_000.0).unwrap();
    e.end_block(T0);
    let mut r = Run { nonce: 0 };
    // One order that stays open through it all, then ORDER_HISTORY + 50 that close at once
    // (IOC below the touch: "iocCancelRejected"), in batches of 100 per action.
    let keep = r.send(&mut e, A, order(true, "1990", "0.01", "Alo"));
    let b = block(&mut e, T0 + 10);
    assert_eq!(status0(&b, keep), json!({"resting": {"oid": 1}}));
    let n = ORDER_HISTORY + 50;
    let one = json!({"a": 0, "b": true, "p": "1990", "s": "0.01", "r": false,
                     "t": {"limit": {"tif": "Ioc"}}, "c": null});
    let mut last_cloid = String::new();
    for batch in 0..n.div_ceil(100) {
        let orders: Vec<Value> = (0..100)
            .map(|i| {
                let mut o = one.clone();
                last_cloid = format!("0x{:032x}", batch * 100 + i + 1);
                o["c"] = json!(last_cloid);
                o
            })
            .collect();
        let t = r.send(
            &mut e,
            A,
            json!({"type": "order", "grouping": "na", "orders": orders}),
        );
        let b = block(&mut e, T0 + 20 + batch as u64);
        assert!(status0(&b, t)["error"].is_string());
    }
    // Bounded: the open order plus the last ORDER_HISTORY closed ones.
    assert_eq!(e.order_records(), ORDER_HISTORY + 1);
    let status = |e: &MatchingEngine, oid: Value| {
        e.info(&json!({"type": "orderStatus", "user": A, "oid": oid}))
            .unwrap()
    };
    let open = status(&e, json!(1));
    assert_eq!(open["order"]["status"], json!("open"));
    // The oldest closed orders (oids 2..) are forgotten, with their cloids; the newest answer.
    assert_eq!(status(&e, json!(2))["status"], json!("unknownOid"));
    assert_eq!(
        status(&e, json!("0x00000000000000000000000000000001"))["status"],
        json!("unknownOid")
    );
    let newest = status(&e, json!(last_cloid));
    assert_eq!(newest["order"]["status"], json!("iocCancelRejected"));
    let oo = e.info(&json!({"type": "openOrders", "user": A})).unwrap();
    assert_eq!(oo.as_array().unwrap().len(), 1);
}

/// A replayed level change (a Binance depth diff) that reaches our resting order takes it
/// first, as a new book does: our bid at 2000.0 is filled by an ask level appearing there, at
/// its price as maker, and the book is never crossed.
#[test]
fn a_replayed_ask_level_through_our_bid_fills_it_first() {
    let mut e = engine();
    let mut r = Run { nonce: 0 };
    r.send(&mut e, A, order(true, "2000.0", "0.5", "Alo"));
    block(&mut e, T0 + 70);
    let ours = e.book(0).best_bid().unwrap();
    // A removed level takes nothing.
    e.apply_level(0, false, ours, 0, 1);
    assert_eq!(e.book(0).best_bid(), Some(ours));
    e.apply_level(0, false, ours, 10_000, 1);
    let b = block(&mut e, T0 + 140);
    let fills = b["fills"][A].as_array().unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0]["px"], json!("2000"));
    assert_eq!(fills[0]["sz"], json!("0.5"));
    assert_eq!(fills[0]["crossed"], json!(false));
    assert!(e.book(0).best_bid().unwrap() < e.book(0).best_ask().unwrap());
}
