//! Book and parser tests on the real recordings of shared/data/real, a differential check of the
//! hand scanner against serde_json, and fuzzing with random and truncated bytes.

use std::{collections::BTreeMap, path::PathBuf};

use proptest::prelude::*;
use serde::{de, Deserialize};
use serde_json::{json, value::RawValue, Value};

use super::{decimal::is_decimal, parse_hl::GREETING, *};
use crate::{replay::ReplayReader, types::Side};

// ---------------------------------------------------------------------------------------------
// Real recordings

/// shared/data/real: `MMFAST_SHARED`, else the first `shared/` beside an ancestor of the crate.
pub(crate) fn real(name: &str) -> PathBuf {
    if let Ok(s) = std::env::var("MMFAST_SHARED") {
        return PathBuf::from(s).join("data/real").join(name);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in here.ancestors() {
        let p = dir.join("shared/data/real").join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} not found in any shared/data/real above {here:?}: set MMFAST_SHARED");
}

fn frames(name: &str) -> Vec<(u64, Vec<u8>)> {
    ReplayReader::open(real(name)).unwrap().read_all().unwrap()
}

#[test]
fn hyperliquid_recording() {
    let frames = frames("hyperliquid_btcusd_20250126.gz");
    assert_eq!(frames.len(), 55);
    // BTC: szDecimals 5, so prices have 1 decimal.
    let mut book = HlBook::new(5).unwrap().for_coin("BTC");
    let (mut snapshots, mut trades) = (0, 0);
    let px = Scale::new(1).unwrap();
    let sz = Scale::new(5).unwrap();
    for (_, f) in &frames {
        let v: Value = serde_json::from_slice(f).unwrap();
        match v["channel"].as_str().unwrap() {
            "l2Book" => {
                let applied = book.apply(f).unwrap();
                assert_eq!(applied, HlApplied::Snapshot);
                snapshots += 1;
                let first = |i: usize| {
                    let l = &v["data"]["levels"][i][0];
                    let p: f64 = l["px"].as_str().unwrap().parse().unwrap();
                    let s: f64 = l["sz"].as_str().unwrap().parse().unwrap();
                    (p, s)
                };
                assert_eq!(book.best_bid_f64(), Some(first(0)));
                assert_eq!(book.best_ask_f64(), Some(first(1)));
                assert_eq!(book.time_ms(), v["data"]["time"].as_u64());
                // Every level, not only the top, in ticks and lots.
                for (i, side) in [(0, Side::Bid), (1, Side::Ask)] {
                    let want: Vec<Level> = v["data"]["levels"][i]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|l| Level {
                            px: px
                                .parse("px", l["px"].as_str().unwrap().as_bytes())
                                .unwrap(),
                            qty: sz
                                .parse("sz", l["sz"].as_str().unwrap().as_bytes())
                                .unwrap(),
                        })
                        .collect();
                    assert_eq!(want.len(), 20);
                    assert_eq!(book.book().side(side).iter().collect::<Vec<_>>(), want);
                }
            }
            "trades" => {
                assert_eq!(book.apply(f).unwrap(), HlApplied::Ignored);
                let HlMessage::Trades(t) = parse_hl_frame(f).unwrap() else {
                    panic!("trades frame")
                };
                let want = v["data"].as_array().unwrap();
                assert_eq!(t.len(), want.len());
                for (got, w) in t.iter().zip(want) {
                    assert_eq!(got.coin, "BTC");
                    assert_eq!(got.px, w["px"].as_str().unwrap());
                    assert_eq!(got.tid, w["tid"].as_u64().unwrap());
                    assert_eq!(got.side.is_buy(), w["side"] == "B");
                    px.parse("px", got.px.as_bytes()).unwrap();
                    sz.parse("sz", got.sz.as_bytes()).unwrap();
                    trades += 1;
                }
            }
            other => panic!("unexpected channel {other}"),
        }
    }
    assert_eq!((snapshots, trades), (46, 64));
}

/// What one recording's replay through `BinanceBook` saw.
#[derive(Debug, Default)]
struct BinanceRun {
    applied: usize,
    buffered_before_snapshot: usize,
    ticker_checks: usize,
    qty_mismatches: usize,
}

/// (side index, px, qty) of one diff level.
type ModelLevel = (usize, i64, i64);

fn apply_model(m: &mut BTreeMap<i64, i64>, px: i64, qty: i64) {
    if qty == 0 {
        m.remove(&px);
    } else {
        m.insert(px, qty);
    }
}

fn binance_recording(name: &str) -> BinanceRun {
    let mut run = BinanceRun::default();
    let mut book = BinanceBook::new();
    let s = book.px_scale();
    // After each applied diff: (u, best bid, best ask); the next diff's U closes the window.
    let mut windows: Vec<(u64, Level, Level, u64)> = vec![];
    let mut open: Option<(u64, Level, Level)> = None;
    let mut tickers: Vec<(u64, i64, i64, i64, i64)> = vec![];
    // An independent model of the whole book: every level ever reported, in a map.
    let mut model: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
    let mut snapshot_seen = false;
    let mut pending: Vec<(u64, Vec<ModelLevel>)> = vec![];
    let mut r = ReplayReader::open(real(name)).unwrap();
    while let Some((_, f)) = r.next_frame().unwrap() {
        match parse_binance_frame(f).unwrap() {
            BinanceMessage::DepthSnapshot(snap) => {
                assert!(
                    book.apply_snapshot(f).unwrap(),
                    "synced from the buffered diffs"
                );
                snapshot_seen = true;
                model = [BTreeMap::new(), BTreeMap::new()];
                for (i, levels) in [snap.bids, snap.asks].into_iter().enumerate() {
                    for (p, q) in levels.iter() {
                        let q = s.parse("q", q.as_bytes()).unwrap();
                        model[i].insert(s.parse("p", p.as_bytes()).unwrap(), q);
                    }
                }
                // Replay what the book replayed: buffered diffs from the bridging one on.
                for (u, levels) in pending.drain(..) {
                    if u >= snap.last_update_id {
                        for (i, p, q) in levels {
                            apply_model(&mut model[i], p, q);
                        }
                    }
                }
                let (b, a) = (
                    book.best_bid().unwrap().unwrap(),
                    book.best_ask().unwrap().unwrap(),
                );
                open = Some((book.last_update_id().unwrap(), b, a));
            }
            BinanceMessage::DepthUpdate(d) => {
                if let Some((u, b, a)) = open.take() {
                    windows.push((u, b, a, d.first_id));
                }
                let res = book.apply(f).unwrap();
                if !snapshot_seen {
                    let mut levels = vec![];
                    for (i, side) in [d.bids, d.asks].into_iter().enumerate() {
                        for (p, q) in side.iter() {
                            levels.push((
                                i,
                                s.parse("p", p.as_bytes()).unwrap(),
                                s.parse("q", q.as_bytes()).unwrap(),
                            ));
                        }
                    }
                    pending.push((d.final_id, levels));
                    assert_eq!(res, BinanceApplied::Buffered);
                    run.buffered_before_snapshot += 1;
                    continue;
                }
                assert_ne!(res, BinanceApplied::Gap, "sequence gap at U={}", d.first_id);
                assert!(!book.needs_resync());
                if res == BinanceApplied::Applied {
                    run.applied += 1;
                    let (b, a) = (
                        book.best_bid().unwrap().unwrap(),
                        book.best_ask().unwrap().unwrap(),
                    );
                    assert!(b.px < a.px, "crossed book after u={}", d.final_id);
                    open = Some((d.final_id, b, a));
                    for (i, levels) in [d.bids, d.asks].into_iter().enumerate() {
                        for (p, q) in levels.iter() {
                            let (p, q) = (
                                s.parse("p", p.as_bytes()).unwrap(),
                                s.parse("q", q.as_bytes()).unwrap(),
                            );
                            apply_model(&mut model[i], p, q);
                        }
                    }
                }
            }
            BinanceMessage::BookTicker(t) => {
                let p = |x: &str| s.parse("x", x.as_bytes()).unwrap();
                tickers.push((
                    t.update_id,
                    p(t.bid_px),
                    p(t.bid_qty),
                    p(t.ask_px),
                    p(t.ask_qty),
                ));
            }
            BinanceMessage::Trade(_) | BinanceMessage::AggTrade(_) => {
                assert_eq!(book.apply(f).unwrap(), BinanceApplied::Ignored);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(book.synced());
    // The book's top levels equal those of a map holding every level ever reported.
    for (side, m) in [(Side::Bid, &model[0]), (Side::Ask, &model[1])] {
        let top: Vec<Level> = book.book().side(side).iter().take(50).collect();
        let want: Vec<Level> = match side {
            Side::Bid => m
                .iter()
                .rev()
                .take(50)
                .map(|(&px, &qty)| Level { px, qty })
                .collect(),
            Side::Ask => m
                .iter()
                .take(50)
                .map(|(&px, &qty)| Level { px, qty })
                .collect(),
        };
        assert_eq!(top, want, "{side:?} top 50 differ from the map model");
    }
    // Every bookTicker inside a window [u, next U) agrees with the book after that diff.
    windows.sort_by_key(|w| w.0);
    for (id, bp, bq, ap, aq) in tickers {
        let i = windows.partition_point(|w| w.0 <= id);
        if i == 0 {
            continue;
        }
        let (u, b, a, next_first) = windows[i - 1];
        if id >= u && id < next_first {
            run.ticker_checks += 1;
            assert_eq!(
                (b.px, a.px),
                (bp, ap),
                "bookTicker u={id} disagrees with the book after u={u}"
            );
            if (b.qty, a.qty) != (bq, aq) {
                run.qty_mismatches += 1;
            }
        }
    }
    run
}

#[test]
fn binance_btcusdt_recording() {
    let run = binance_recording("usdm_btcusdt_20240808.gz");
    assert!(run.buffered_before_snapshot > 0);
    assert!(run.applied > 6000, "{run:?}");
    assert!(run.ticker_checks >= 100, "{run:?}");
    assert_eq!(run.qty_mismatches, 0, "{run:?}");
}

#[test]
fn binance_ethusdt_recording() {
    let run = binance_recording("usdm_ethusdt_20240808.gz");
    assert!(run.buffered_before_snapshot > 0);
    assert!(run.applied > 6000, "{run:?}");
    assert!(run.ticker_checks >= 50, "{run:?}");
    assert_eq!(run.qty_mismatches, 0, "{run:?}");
}

// ---------------------------------------------------------------------------------------------
// The differential reference: serde_json into borrowed structs, plus the classification rules
// of parse_binance.rs written out plainly. Both sides are normalised to a serde_json::Value.

/// A present JSON value kept raw (`null` included), absent by default.
#[derive(Default)]
struct Raw<'a>(Option<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&RawValue>::deserialize(d).map(|r| Raw(Some(r)))
    }
}

#[derive(Deserialize)]
struct RefEnv<'a> {
    #[serde(borrow)]
    channel: &'a str,
    #[serde(default, borrow)]
    data: Raw<'a>,
}

#[derive(Deserialize)]
struct RefLevel<'a> {
    #[serde(borrow)]
    px: &'a str,
    #[serde(borrow)]
    sz: &'a str,
    n: u64,
}

#[derive(Deserialize)]
struct RefL2<'a> {
    #[serde(borrow)]
    coin: &'a str,
    time: u64,
    #[serde(borrow)]
    levels: (Vec<RefLevel<'a>>, Vec<RefLevel<'a>>),
}

#[derive(Deserialize)]
struct RefBbo<'a> {
    #[serde(borrow)]
    coin: &'a str,
    time: u64,
    #[serde(borrow)]
    bbo: (Option<RefLevel<'a>>, Option<RefLevel<'a>>),
}

#[derive(Deserialize)]
struct RefTrade<'a> {
    #[serde(borrow)]
    coin: &'a str,
    #[serde(borrow)]
    side: &'a str,
    #[serde(borrow)]
    px: &'a str,
    #[serde(borrow)]
    sz: &'a str,
    time: u64,
    tid: u64,
    #[serde(borrow)]
    hash: Option<&'a str>,
}

type R = Result<Value, String>;

fn e<E: std::fmt::Display>(x: E) -> String {
    x.to_string()
}

fn dec(s: &str) -> Result<&str, String> {
    if is_decimal(s.as_bytes()) {
        Ok(s)
    } else {
        Err(format!("not a decimal: {s}"))
    }
}

fn ref_level(l: &RefLevel<'_>) -> R {
    Ok(json!([dec(l.px)?, dec(l.sz)?, l.n]))
}

fn is_json_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t')
}

fn ref_hl(frame: &[u8]) -> R {
    let text = std::str::from_utf8(frame).map_err(e)?;
    if frame.iter().find(|c| !is_json_ws(**c)) != Some(&b'{') {
        return if frame.trim_ascii() == GREETING {
            Ok(json!({"kind": "greeting"}))
        } else {
            Err("not an object".into())
        };
    }
    let env: RefEnv<'_> = serde_json::from_str(text).map_err(e)?;
    let data = env.data.0;
    let raw = || data.map(|d| d.get());
    Ok(match env.channel {
        "pong" => json!({"kind": "pong"}),
        "subscriptionResponse" => json!({"kind": "sub", "data": raw()}),
        "error" => json!({"kind": "error", "data": raw()}),
        "l2Book" => {
            let d: RefL2<'_> = serde_json::from_str(data.ok_or("no data")?.get()).map_err(e)?;
            let side = |v: &[RefLevel<'_>]| v.iter().map(ref_level).collect::<Result<Vec<_>, _>>();
            json!({"kind": "l2", "coin": d.coin, "time": d.time,
                   "bids": side(&d.levels.0)?, "asks": side(&d.levels.1)?})
        }
        "bbo" => {
            let d: RefBbo<'_> = serde_json::from_str(data.ok_or("no data")?.get()).map_err(e)?;
            let opt = |l: &Option<RefLevel<'_>>| l.as_ref().map(ref_level).transpose();
            json!({"kind": "bbo", "coin": d.coin, "time": d.time,
                   "bid": opt(&d.bbo.0)?, "ask": opt(&d.bbo.1)?})
        }
        "trades" => {
            let d: Vec<RefTrade<'_>> =
                serde_json::from_str(data.ok_or("no data")?.get()).map_err(e)?;
            let mut out = vec![];
            for t in d {
                if t.side != "A" && t.side != "B" {
                    return Err("bad side".into());
                }
                out.push(json!([
                    t.coin,
                    t.side,
                    dec(t.px)?,
                    dec(t.sz)?,
                    t.time,
                    t.tid,
                    t.hash
                ]));
            }
            json!({"kind": "trades", "trades": out})
        }
        other => json!({"kind": "other", "channel": other}),
    })
}

fn norm_hl_level(l: &HlLevel<'_>) -> Value {
    json!([l.px, l.sz, l.n])
}

fn norm_hl(m: &HlMessage<'_>) -> Value {
    match m {
        HlMessage::Greeting => json!({"kind": "greeting"}),
        HlMessage::Pong => json!({"kind": "pong"}),
        HlMessage::SubscriptionResponse { data } => json!({"kind": "sub", "data": data}),
        HlMessage::Error { data } => json!({"kind": "error", "data": data}),
        HlMessage::L2Book(b) => {
            let side = |l: &HlLevels<'_>| {
                assert_eq!(l.iter().count(), l.len());
                l.iter().map(|x| norm_hl_level(&x)).collect::<Vec<_>>()
            };
            json!({"kind": "l2", "coin": b.coin, "time": b.time,
                   "bids": side(&b.bids), "asks": side(&b.asks)})
        }
        HlMessage::Bbo(b) => json!({"kind": "bbo", "coin": b.coin, "time": b.time,
            "bid": b.bid.as_ref().map(norm_hl_level), "ask": b.ask.as_ref().map(norm_hl_level)}),
        HlMessage::Trades(t) => {
            assert_eq!(t.iter().count(), t.len());
            let out: Vec<Value> = t
                .iter()
                .map(|t| {
                    let side = if t.side == Side::Bid { "B" } else { "A" };
                    json!([t.coin, side, t.px, t.sz, t.time, t.tid, t.hash])
                })
                .collect();
            json!({"kind": "trades", "trades": out})
        }
        HlMessage::Other { channel } => json!({"kind": "other", "channel": channel}),
    }
}

/// An object's members in order, keys unescaped, values raw.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut v = vec![];
                while let Some(k) = m.next_key::<String>()? {
                    v.push((k, m.next_value::<&RawValue>()?));
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(V)
    }
}

fn ref_binance(frame: &[u8]) -> R {
    let text = std::str::from_utf8(frame).map_err(e)?;
    let entries: Entries<'_> = serde_json::from_str(text).map_err(e)?;
    ref_bn_object(&entries, true)
}

fn ref_bn_object<'a>(en: &Entries<'a>, top: bool) -> R {
    let has = |k: &str| en.0.iter().any(|(kk, _)| kk == k);
    let one = |k: &str| -> Result<Option<&'a str>, String> {
        let mut it = en.0.iter().filter(|(kk, _)| kk == k);
        let first = it.next().map(|(_, v)| v.get());
        if it.next().is_some() {
            return Err(format!("duplicate {k}"));
        }
        Ok(first)
    };
    fn s(raw: &str) -> Result<&str, String> {
        serde_json::from_str::<&str>(raw).map_err(e)
    }
    let (kind, event) = if has("e") {
        let ev = s(one("e")?.unwrap())?;
        let kind = match ev {
            "depthUpdate" => "depth",
            "bookTicker" => "ticker",
            "aggTrade" => "agg",
            "trade" => "trade",
            _ => "other",
        };
        (kind, Some(ev))
    } else if has("lastUpdateId") {
        ("snapshot", None)
    } else if top && has("data") {
        let stream = one("stream")?.map(s).transpose()?;
        let data = one("data")?.unwrap();
        let inner: Entries<'_> = serde_json::from_str(data).map_err(e)?;
        let mut v = ref_bn_object(&inner, false)?;
        if v["kind"] == "depth" || v["kind"] == "other" {
            v["stream"] = json!(stream);
        }
        return Ok(v);
    } else if has("u") && has("b") && has("a") {
        ("ticker", None)
    } else if has("result") || has("id") {
        return Ok(json!({"kind": "response"}));
    } else {
        ("other", None)
    };
    let u = |k: &str| -> Result<Option<u64>, String> {
        one(k)?
            .map(|r| serde_json::from_str::<u64>(r).map_err(e))
            .transpose()
    };
    let st = |k: &str| -> Result<Option<&str>, String> { one(k)?.map(s).transpose() };
    let d = |k: &str| -> Result<Option<&str>, String> {
        one(k)?.map(|r| s(r).and_then(dec)).transpose()
    };
    let m = |k: &str| -> Result<Option<bool>, String> {
        one(k)?
            .map(|r| serde_json::from_str::<bool>(r).map_err(e))
            .transpose()
    };
    let lv = |k: &str| -> Result<Option<Value>, String> {
        one(k)?
            .map(|r| {
                let v: Vec<(&str, &str)> = serde_json::from_str(r).map_err(e)?;
                v.iter()
                    .map(|(p, q)| Ok(json!([dec(p)?, dec(q)?])))
                    .collect::<Result<Vec<_>, String>>()
                    .map(Value::from)
            })
            .transpose()
    };
    let need = |v: Option<Value>, f: &str| v.ok_or(format!("missing {f}"));
    let j = |x: Option<&str>| json!(x);
    Ok(match kind {
        "depth" => {
            json!({"kind": "depth", "stream": null, "s": j(st("s")?), "E": u("E")?, "T": u("T")?,
                   "U": need(u("U")?.map(Value::from), "U")?, "u": need(u("u")?.map(Value::from), "u")?,
                   "pu": u("pu")?, "b": need(lv("b")?, "b")?, "a": need(lv("a")?, "a")?})
        }
        "ticker" => {
            json!({"kind": "ticker", "s": need(st("s")?.map(Value::from), "s")?,
                   "u": need(u("u")?.map(Value::from), "u")?, "E": u("E")?, "T": u("T")?,
                   "b": need(d("b")?.map(Value::from), "b")?, "B": need(d("B")?.map(Value::from), "B")?,
                   "a": need(d("a")?.map(Value::from), "a")?, "A": need(d("A")?.map(Value::from), "A")?})
        }
        "agg" => json!({"kind": "agg", "s": j(st("s")?), "a": need(u("a")?.map(Value::from), "a")?,
            "p": need(d("p")?.map(Value::from), "p")?, "q": need(d("q")?.map(Value::from), "q")?,
            "f": need(u("f")?.map(Value::from), "f")?, "l": need(u("l")?.map(Value::from), "l")?,
            "T": need(u("T")?.map(Value::from), "T")?, "E": u("E")?,
            "m": need(m("m")?.map(Value::from), "m")?}),
        "trade" => {
            json!({"kind": "trade", "s": j(st("s")?), "t": need(u("t")?.map(Value::from), "t")?,
            "p": need(d("p")?.map(Value::from), "p")?, "q": need(d("q")?.map(Value::from), "q")?,
            "T": need(u("T")?.map(Value::from), "T")?, "E": u("E")?,
            "m": need(m("m")?.map(Value::from), "m")?})
        }
        "snapshot" => json!({"kind": "snapshot",
            "L": need(u("lastUpdateId")?.map(Value::from), "lastUpdateId")?,
            "E": u("E")?, "T": u("T")?,
            "bids": need(lv("bids")?, "bids")?, "asks": need(lv("asks")?, "asks")?}),
        _ => json!({"kind": "other", "stream": null, "event": event}),
    })
}

fn norm_levels(l: &DepthLevels<'_>) -> Value {
    assert_eq!(l.iter().count(), l.len());
    Value::from(l.iter().map(|(p, q)| json!([p, q])).collect::<Vec<_>>())
}

fn norm_binance(m: &BinanceMessage<'_>) -> Value {
    match m {
        BinanceMessage::DepthUpdate(d) => json!({"kind": "depth", "stream": d.stream,
            "s": d.symbol, "E": d.event_time, "T": d.txn_time, "U": d.first_id, "u": d.final_id,
            "pu": d.prev_final_id, "b": norm_levels(&d.bids), "a": norm_levels(&d.asks)}),
        BinanceMessage::BookTicker(t) => json!({"kind": "ticker", "s": t.symbol, "u": t.update_id,
            "E": t.event_time, "T": t.txn_time, "b": t.bid_px, "B": t.bid_qty, "a": t.ask_px,
            "A": t.ask_qty}),
        BinanceMessage::AggTrade(t) => json!({"kind": "agg", "s": t.symbol, "a": t.agg_id,
            "p": t.px, "q": t.qty, "f": t.first_id, "l": t.last_id, "T": t.trade_time,
            "E": t.event_time, "m": t.buyer_is_maker}),
        BinanceMessage::Trade(t) => json!({"kind": "trade", "s": t.symbol, "t": t.id, "p": t.px,
            "q": t.qty, "T": t.trade_time, "E": t.event_time, "m": t.buyer_is_maker}),
        BinanceMessage::DepthSnapshot(s) => json!({"kind": "snapshot", "L": s.last_update_id,
            "E": s.event_time, "T": s.txn_time, "bids": norm_levels(&s.bids),
            "asks": norm_levels(&s.asks)}),
        BinanceMessage::Response => json!({"kind": "response"}),
        BinanceMessage::Other { stream, event } => {
            json!({"kind": "other", "stream": stream, "event": event})
        }
    }
}

/// Both parsers agree: the same value, or both refuse.
fn same_hl(frame: &[u8]) -> Result<(), String> {
    let mine = parse_hl_frame(frame).map(|m| norm_hl(&m));
    let reference = ref_hl(frame);
    match (&mine, &reference) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(_), Err(_)) => Ok(()),
        _ => Err(format!(
            "HL disagreement on {:?}\n mine: {mine:?}\n  ref: {reference:?}",
            String::from_utf8_lossy(frame)
        )),
    }
}

fn same_binance(frame: &[u8]) -> Result<(), String> {
    let mine = parse_binance_frame(frame).map(|m| norm_binance(&m));
    let reference = ref_binance(frame);
    match (&mine, &reference) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        (Err(_), Err(_)) => Ok(()),
        _ => Err(format!(
            "Binance disagreement on {:?}\n mine: {mine:?}\n  ref: {reference:?}",
            String::from_utf8_lossy(frame)
        )),
    }
}

#[test]
fn differential_on_real_frames() {
    for (_, f) in frames("hyperliquid_btcusd_20250126.gz") {
        same_hl(&f).unwrap();
        assert!(parse_hl_frame(&f).is_ok());
    }
    for name in ["usdm_btcusdt_20240808.gz", "usdm_ethusdt_20240808.gz"] {
        let mut r = ReplayReader::open(real(name)).unwrap();
        let mut i = 0u64;
        while let Some((_, f)) = r.next_frame().unwrap() {
            // Every depth frame and snapshot, a sample of the rest (debug builds are slow).
            if i % 10 == 0 || f.len() > 400 {
                same_binance(f).unwrap();
                assert!(parse_binance_frame(f).is_ok());
            }
            i += 1;
        }
    }
}

#[test]
fn differential_on_hand_written_frames() {
    let hl = [
        &b"  Websocket connection established.\n"[..],
        b"Websocket connection established",
        br#"{"channel":"pong"}"#,
        br#"{"channel":"pong","data":null}"#,
        br#"{"data":{"coin":"ETH","time":5,"levels":[[],[{"n":1,"px":"1.5","sz":"2"}]]},"channel":"l2Book"}"#,
        br#"{"channel":"l2Book","data":{"coin":"ETH","time":5,"levels":[[],[]],"extra":[1,{"a":null}]}}"#,
        br#"{"channel":"l2Book","data":{"coin":"ETH","time":5,"levels":[[]]}}"#,
        br#"{"channel":"l2Book","data":{"coin":"ETH","time":5,"levels":[[],[],[]]}}"#,
        br#"{"channel":"l2Book","data":{"coin":"ETH","time":-5,"levels":[[],[]]}}"#,
        br#"{"channel":"l2Book","data":{"coin":"ETH","time":5.0,"levels":[[],[]]}}"#,
        br#"{"channel":"l2Book","data":{"coin":"E\u0054H","time":5,"levels":[[],[]]}}"#,
        br#"{"channel":"l2Book","data":{"c\u006fin":"ETH","time":5,"levels":[[],[]]}}"#,
        br#"{"channel":"l2Book","data":{"coin":"ETH","coin":"BTC","time":5,"levels":[[],[]]}}"#,
        br#"{"channel":"bbo","data":{"coin":"ETH","time":1746364055109,"bbo":[{"px":"1831.8","sz":"32.2471","n":4},{"px":"1831.9","sz":"229.0857","n":24}]}}"#,
        br#"{"channel":"bbo","data":{"coin":"ETH","time":1,"bbo":[null,null]}}"#,
        br#"{"channel":"bbo","data":{"coin":"ETH","time":1,"bbo":[null]}}"#,
        br#"{"channel":"trades","data":[]}"#,
        br#"{"channel":"trades","data":[{"coin":"BTC","side":"C","px":"1","sz":"1","time":1,"tid":2}]}"#,
        br#"{"channel":"trades","data":[{"coin":"BTC","side":"A","px":"1","sz":"1","time":1,"tid":2,"hash":null,"users":["a","b"]}]}"#,
        br#"{"channel":"subscriptionResponse","data":{"method":"subscribe","subscription":{"type":"bbo","coin":"ETH"}}}"#,
        br#"{"channel":"error","data":"Invalid subscription {\"type\":\"l2Book\"}"}"#,
        br#"{"channel":"error"}"#,
        br#"{"channel":"allMids","data":{"mids":{"BTC":"1","@1":"2"}}}"#,
        br#"{"channel":"l2Book","data":{"coin":"ETH","time":5,"levels":[[],[]]}} x"#,
        br#"{"channel":"l2Book","data":{"coin":"ETH","time":01,"levels":[[],[]]}}"#,
        br#"{"channel":"l2Book","data":{"coin":"ETH","time":18446744073709551616,"levels":[[],[]]}}"#,
        br#"{"channel":"x","data":"\ud800"}"#,
        br#"{"channel":"x","data":[1e5,-0.5e-3,true,false,null,"\"\\\/\b\f\n\r\t\u00e9"]}"#,
        br#"{"channel":"x","data":[1e,-,.5]}"#,
        b"[1]",
        b"",
        b"{}",
    ];
    for f in hl {
        same_hl(f).unwrap();
    }
    let bn = [
        &br#"{"e":"bookTicker","u":1,"s":"X","b":"1.0","B":"2","a":"3","A":"4","T":5,"E":6}"#[..],
        br#"{"u":1,"s":"X","b":"1.0","B":"2","a":"3","A":"4"}"#,
        br#"{"s":"X","e":"bookTicker","u":1,"b":"1.0","B":"2","a":"3","A":"4"}"#,
        br#"{"e":"bookTicker","u":1,"s":"X","b":"1.0","B":"2","a":"3"}"#,
        br#"{"e":"bookTicker","u":1,"s":"X","b":"1.0","B":"2","a":"3","A":"4","b":"1"}"#,
        br#"{"e":"aggTrade","E":1,"s":"X","a":5,"p":"1.5","q":"2","nq":"2","f":1,"l":2,"T":3,"m":true}"#,
        br#"{"e":"aggTrade","E":1,"s":"X","a":"5","p":"1.5","q":"2","f":1,"l":2,"T":3,"m":true}"#,
        br#"{"e":"trade","E":1,"T":1,"s":"X","t":5,"p":"1.5","q":"2","X":"MARKET","m":false}"#,
        br#"{"e":"depthUpdate","E":1,"T":2,"s":"X","U":3,"u":4,"pu":2,"b":[["1.0","0.000"]],"a":[]}"#,
        br#"{"e":"depthUpdate","U":3,"u":4,"b":[["1.0","0","x"]],"a":[]}"#,
        br#"{"e":"depthUpdate","U":3,"u":4,"b":[["1.0"]],"a":[]}"#,
        br#"{"e":"depthUpdate","U":3,"u":4,"b":[],"a":[],"p":"-1"}"#,
        br#"{"stream":"x@depth5@100ms","data":{"e":"depthUpdate","U":3,"u":4,"pu":1,"b":[],"a":[]}}"#,
        br#"{"data":{"e":"depthUpdate","U":3,"u":4,"b":[],"a":[]},"stream":"x@depth"}"#,
        br#"{"stream":"x@markPrice","data":{"e":"markPriceUpdate","p":"-1","r":"-0.0001"}}"#,
        br#"{"stream":"x","data":{"data":{"e":"trade"}}}"#,
        br#"{"stream":"x","data":[1]}"#,
        br#"{"stream":1,"data":{}}"#,
        br#"{"lastUpdateId":7,"E":1,"T":2,"bids":[["2","1"]],"asks":[]}"#,
        br#"{"lastUpdateId":7,"bids":[["2","1"]]}"#,
        br#"{"result":null,"id":1}"#,
        br#"{"x":1}"#,
        br#"{"e":"depthUpdate","e":"x"}"#,
        br#"{"E":1,"e":"kline","k":{"t":1}}"#,
        br#"{"e":1}"#,
        b"[]",
        b"{",
        b"",
    ];
    for f in bn {
        same_binance(f).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Fuzzing: random bytes, truncations and mutations of real frames.

fn hl_samples() -> Vec<Vec<u8>> {
    let f = frames("hyperliquid_btcusd_20250126.gz");
    // The first snapshot, a 30-trade frame, a 1-trade frame, and a 5-level "fast" snapshot.
    let mut v = vec![f[0].1.clone(), f[2].1.clone(), f[9].1.clone()];
    let snap: Value = serde_json::from_slice(&f[0].1).unwrap();
    let mut fast = snap.clone();
    for i in 0..2 {
        let lv = fast["data"]["levels"][i].as_array_mut().unwrap();
        lv.truncate(5);
    }
    v.push(serde_json::to_vec(&fast).unwrap());
    v.push(br#"{"channel":"bbo","data":{"coin":"BTC","time":1737918843542,"bbo":[{"px":"105055.0","sz":"3.03622","n":5},null]}}"#.to_vec());
    v
}

fn binance_samples() -> Vec<Vec<u8>> {
    let mut r = ReplayReader::open(real("usdm_btcusdt_20240808.gz")).unwrap();
    let mut out = vec![];
    let mut kinds = std::collections::HashSet::new();
    while let Some((_, f)) = r.next_frame().unwrap() {
        let k = match parse_binance_frame(f).unwrap() {
            BinanceMessage::DepthUpdate(d) if d.bids.len() + d.asks.len() < 12 => "depth",
            BinanceMessage::BookTicker(_) => "ticker",
            BinanceMessage::Trade(_) => "trade",
            _ => continue,
        };
        if kinds.insert(k) {
            out.push(f.to_vec());
        }
        if kinds.len() == 3 {
            break;
        }
    }
    out.push(
        br#"{"lastUpdateId":7,"E":1,"T":2,"bids":[["2.5","1"],["2.4","3"]],"asks":[["2.6","1"]]}"#
            .to_vec(),
    );
    out.push(
        br#"{"e":"aggTrade","E":1,"s":"X","a":5,"p":"1.5","q":"2","f":1,"l":2,"T":3,"m":true}"#
            .to_vec(),
    );
    out
}

/// A JSON-flavoured alphabet, so that mutations often stay close to valid frames.
const ALPHABET: &[u8] = b"{}[]:,\"\\ 0123456789.-eEtrufalsn pxzcoiTbAB\nu";

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, u8),
    Replace(usize, u8),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), 1usize..4).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), prop::sample::select(ALPHABET)).prop_map(|(i, c)| Edit::Insert(i, c)),
        (any::<usize>(), prop::sample::select(ALPHABET)).prop_map(|(i, c)| Edit::Replace(i, c)),
    ];
    prop::collection::vec(edit, 1..4)
}

fn mutate(mut f: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = f.len().max(1);
        match *e {
            Edit::Delete(i, k) => {
                let i = i % n;
                let j = (i + k).min(f.len());
                if i < j {
                    f.drain(i..j);
                }
            }
            Edit::Insert(i, c) => f.insert(i % (f.len() + 1), c),
            Edit::Replace(i, c) => {
                if !f.is_empty() {
                    let i = i % f.len();
                    f[i] = c;
                }
            }
        }
    }
    f
}

fn hl_book_state(b: &HlBook) -> String {
    b.state_fingerprint()
}

fn primed_hl() -> HlBook {
    let mut b = HlBook::new(5).unwrap();
    b.apply(&hl_samples()[0]).unwrap();
    b
}

fn primed_binance() -> BinanceBook {
    let mut b = BinanceBook::new();
    b.apply_snapshot(br#"{"lastUpdateId":7,"bids":[["61800.1","1"]],"asks":[["61800.3","1"]]}"#)
        .unwrap();
    b.apply(br#"{"e":"depthUpdate","U":6,"u":8,"pu":5,"b":[],"a":[]}"#)
        .unwrap();
    assert!(b.synced());
    b
}

/// Applies `f`; on error the book must be exactly as before.
fn apply_checked(hl: &mut HlBook, bn: &mut BinanceBook, f: &[u8]) {
    let before = hl_book_state(hl);
    if hl.apply(f).is_err() {
        assert_eq!(hl_book_state(hl), before);
    }
    let before = bn.state_fingerprint();
    if bn.apply(f).is_err() {
        assert_eq!(bn.state_fingerprint(), before);
    }
    let before = bn.state_fingerprint();
    if bn.apply_snapshot(f).is_err() {
        assert_eq!(bn.state_fingerprint(), before);
    }
}

#[test]
fn every_truncation_is_refused_and_changes_nothing() {
    let mut hl = primed_hl();
    let mut bn = primed_binance();
    for f in hl_samples().iter().chain(binance_samples().iter()) {
        for cut in 0..f.len() {
            let part = &f[..cut];
            assert!(
                parse_hl_frame(part).is_err(),
                "{:?}",
                String::from_utf8_lossy(part)
            );
            assert!(parse_binance_frame(part).is_err());
            apply_checked(&mut hl, &mut bn, part);
        }
    }
    assert_eq!(hl_book_state(&hl), hl_book_state(&primed_hl()));
    assert_eq!(bn.state_fingerprint(), primed_binance().state_fingerprint());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic_nor_change_the_book(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut hl = primed_hl();
        let mut bn = primed_binance();
        let _ = parse_hl_frame(&bytes);
        let _ = parse_binance_frame(&bytes);
        apply_checked(&mut hl, &mut bn, &bytes);
        prop_assert_eq!(hl_book_state(&hl), hl_book_state(&primed_hl()));
    }

    #[test]
    fn mutated_hl_frames_agree_with_serde(which in 0usize..5, edits in edits()) {
        let f = mutate(hl_samples()[which].clone(), &edits);
        if let Err(msg) = same_hl(&f) {
            prop_assert!(false, "{}", msg);
        }
        let mut hl = primed_hl();
        let mut bn = primed_binance();
        apply_checked(&mut hl, &mut bn, &f);
    }

    #[test]
    fn mutated_binance_frames_agree_with_serde(which in 0usize..5, edits in edits()) {
        let samples = binance_samples();
        let f = mutate(samples[which % samples.len()].clone(), &edits);
        if let Err(msg) = same_binance(&f) {
            prop_assert!(false, "{}", msg);
        }
        let mut hl = primed_hl();
        let mut bn = primed_binance();
        apply_checked(&mut hl, &mut bn, &f);
    }

    // Generated l2Book frames (random levels, key order, whitespace) round-trip through the
    // book: what the book holds is exactly the level set written.
    #[test]
    fn generated_l2book_round_trips(
        bids in prop::collection::btree_map(1i64..100_000, 1i64..10_000_000, 0..25),
        asks in prop::collection::btree_map(100_000i64..200_000, 1i64..10_000_000, 0..25),
        time in 0u64..u64::MAX,
        ws in prop::sample::select(vec!["", " ", "\n  ", "\t"]),
        swap in any::<bool>(),
    ) {
        let lv = |px: i64, sz: i64| {
            let body = [
                format!("\"px\":{ws}\"{}.{}\"", px / 10, px % 10),
                format!("\"sz\"{ws}:\"{}.{:05}\"", sz / 100_000, sz % 100_000),
                format!("\"n\":{}", px % 7),
            ];
            if swap { format!("{{{ws}{}}}", body.iter().rev().cloned().collect::<Vec<_>>().join(",")) }
            else { format!("{{{}{ws}}}", body.join(&format!(",{ws}"))) }
        };
        let b: Vec<String> = bids.iter().rev().map(|(&p, &s)| lv(p, s)).collect();
        let a: Vec<String> = asks.iter().map(|(&p, &s)| lv(p, s)).collect();
        let data = format!("{{\"coin\":\"BTC\",{ws}\"levels\":[[{}],{ws}[{}]],\"time\":{time}}}", b.join(","), a.join(","));
        let frame = if swap {
            format!("{{\"data\":{data},\"channel\":\"l2Book\"}}")
        } else {
            format!("{ws}{{\"channel\":{ws}\"l2Book\",\"data\":{data}}}{ws}")
        };
        if let Err(msg) = same_hl(frame.as_bytes()) {
            prop_assert!(false, "{}", msg);
        }
        let mut book = HlBook::new(5).unwrap();
        prop_assert_eq!(book.apply(frame.as_bytes()).unwrap(), HlApplied::Snapshot);
        let got_b: Vec<(i64, i64)> = book.book().bids().iter().map(|l| (l.px, l.qty)).collect();
        let got_a: Vec<(i64, i64)> = book.book().asks().iter().map(|l| (l.px, l.qty)).collect();
        prop_assert_eq!(got_b, bids.iter().rev().map(|(&p, &s)| (p, s)).collect::<Vec<_>>());
        prop_assert_eq!(got_a, asks.iter().map(|(&p, &s)| (p, s)).collect::<Vec<_>>());
        prop_assert_eq!(book.time_ms(), Some(time));
    }
}
