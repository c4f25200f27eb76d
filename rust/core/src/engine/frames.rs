//! Parsers for the frames about our own account (PROTOCOL 1.4.5-1.4.7) and for the exchange's
//! answers to our actions (PROTOCOL 1.5, 3.3). These are rare next to market data, so they use
//! serde_json; every frame is parsed completely before the engine applies any of it, so a
//! malformed frame leaves the engine unchanged.

use serde::Deserialize;

use super::orders::parse_cloid;
use super::EngineError;
use crate::types::Side;

/// The status of one order update, reduced to what the engine acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    Open,
    Filled,
    /// Cancelled or rejected for any reason (`canceled`, `marginCanceled`, `badAloPxRejected`,
    /// ...): the order is gone.
    Gone,
    /// `triggered` and anything unknown: no change.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderUpdate {
    pub oid: u64,
    pub cloid: Option<u128>,
    pub side: Side,
    pub px: f64,
    /// Remaining size.
    pub sz: f64,
    pub status: UpdateStatus,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    pub px: f64,
    pub sz: f64,
    pub side: Side,
    pub oid: u64,
    pub tid: u64,
    pub time: u64,
    /// Signed position before this fill.
    pub start_position: Option<f64>,
    pub fee: f64,
    pub cloid: Option<u128>,
}

/// A user frame of our coin, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum UserFrame {
    Orders(Vec<OrderUpdate>),
    /// `snapshot` fills are history replayed at subscription: already in the position.
    Fills {
        snapshot: bool,
        fills: Vec<Fill>,
    },
    /// Orders cancelled by the exchange, not by us (`nonUserCancel`).
    NonUserCancel(Vec<u64>),
    /// Anything else (funding, liquidation, subscription acks, pong, other coins' data).
    Ignored,
}

/// One entry of `data.statuses`.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionStatus {
    Resting {
        oid: u64,
        /// The order's cloid, when it had one (the answer echoes it).
        cloid: Option<u128>,
    },
    Filled {
        oid: u64,
        total_sz: f64,
        avg_px: f64,
        cloid: Option<u128>,
    },
    Success,
    Error(String),
    Waiting,
}

/// The exchange's answer to one action.
#[derive(Debug, Clone, PartialEq)]
pub enum ExchangeReply {
    Statuses(Vec<ActionStatus>),
    /// `{"status":"ok","response":{"type":"default"}}`: a single modify or other action.
    Ok,
    /// The whole action failed (top-level `err`, a WS `error` payload, or a pre-validation error).
    Err(String),
}

fn malformed(what: &'static str, e: impl std::fmt::Display) -> EngineError {
    EngineError::Frame {
        what,
        reason: e.to_string(),
    }
}

fn num(field: &'static str, s: &str) -> Result<f64, EngineError> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| EngineError::Frame {
            what: field,
            reason: format!("{s:?} is not a decimal number"),
        })
}

/// Sizes and positions beyond this many coins, and prices beyond this many USD, are not values
/// any venue sends: a fill with `startPosition` 1.8e19 is corruption, and applying it would make
/// it the engine's position (issue 13 item 7). Far above any real market (BTC at 1e7 USD, a
/// kPEPE position of 1e11), far below where f64 loses whole coins.
pub const MAX_ABS_SIZE: f64 = 1e12;
pub const MAX_PRICE: f64 = 1e12;

fn out_of_range(field: &'static str, s: &str, range: &str) -> EngineError {
    EngineError::Frame {
        what: field,
        reason: format!("{s:?} is outside {range}"),
    }
}

/// A price: finite, above zero, at most `MAX_PRICE`.
fn price(field: &'static str, s: &str) -> Result<f64, EngineError> {
    let v = num(field, s)?;
    if v > 0.0 && v <= MAX_PRICE {
        Ok(v)
    } else {
        Err(out_of_range(field, s, "(0, 1e12]"))
    }
}

/// A size: finite, at most `MAX_ABS_SIZE`, above zero unless `zero_ok` (a remaining size).
fn size(field: &'static str, s: &str, zero_ok: bool) -> Result<f64, EngineError> {
    let v = num(field, s)?;
    if (v > 0.0 || (zero_ok && v == 0.0)) && v <= MAX_ABS_SIZE {
        Ok(v)
    } else {
        Err(out_of_range(
            field,
            s,
            if zero_ok { "[0, 1e12]" } else { "(0, 1e12]" },
        ))
    }
}

/// A signed position or amount: finite, magnitude at most `MAX_ABS_SIZE`.
fn signed(field: &'static str, s: &str) -> Result<f64, EngineError> {
    let v = num(field, s)?;
    if v.abs() <= MAX_ABS_SIZE {
        Ok(v)
    } else {
        Err(out_of_range(field, s, "[-1e12, 1e12]"))
    }
}

fn side(field: &'static str, s: &str) -> Result<Side, EngineError> {
    match s {
        "B" => Ok(Side::Bid),
        "A" => Ok(Side::Ask),
        _ => Err(EngineError::Frame {
            what: field,
            reason: format!("side {s:?} is neither \"B\" nor \"A\""),
        }),
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    channel: Option<&'a str>,
    #[serde(borrow)]
    data: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct WsOrder<'a> {
    #[serde(borrow)]
    order: WsBasicOrder<'a>,
    #[serde(borrow)]
    status: &'a str,
}

#[derive(Deserialize)]
struct WsBasicOrder<'a> {
    #[serde(borrow)]
    coin: &'a str,
    #[serde(borrow)]
    side: &'a str,
    #[serde(rename = "limitPx", borrow)]
    limit_px: &'a str,
    #[serde(borrow)]
    sz: &'a str,
    oid: u64,
    #[serde(default, borrow)]
    cloid: Option<&'a str>,
}

#[derive(Deserialize)]
struct WsFill<'a> {
    #[serde(borrow)]
    coin: &'a str,
    #[serde(borrow)]
    px: &'a str,
    #[serde(borrow)]
    sz: &'a str,
    #[serde(borrow)]
    side: &'a str,
    #[serde(default)]
    time: u64,
    #[serde(rename = "startPosition", default, borrow)]
    start_position: Option<&'a str>,
    oid: u64,
    #[serde(default)]
    tid: u64,
    #[serde(default, borrow)]
    fee: Option<&'a str>,
    #[serde(default, borrow)]
    cloid: Option<&'a str>,
}

#[derive(Deserialize)]
struct WsUserFills<'a> {
    #[serde(rename = "isSnapshot", default)]
    is_snapshot: bool,
    #[serde(borrow)]
    fills: Vec<WsFill<'a>>,
}

#[derive(Deserialize)]
struct WsUserEvent<'a> {
    #[serde(default, borrow)]
    fills: Option<Vec<WsFill<'a>>>,
    #[serde(rename = "nonUserCancel", default, borrow)]
    non_user_cancel: Option<Vec<WsCoinOid<'a>>>,
}

#[derive(Deserialize)]
struct WsCoinOid<'a> {
    #[serde(borrow)]
    coin: &'a str,
    oid: u64,
}

fn convert_fills(coin: &str, raw: Vec<WsFill<'_>>) -> Result<Vec<Fill>, EngineError> {
    let mut out = Vec::with_capacity(raw.len());
    for f in raw {
        if f.coin != coin {
            continue;
        }
        out.push(Fill {
            px: price("fill.px", f.px)?,
            sz: size("fill.sz", f.sz, false)?,
            side: side("fill.side", f.side)?,
            oid: f.oid,
            tid: f.tid,
            time: f.time,
            start_position: f
                .start_position
                .map(|s| signed("fill.startPosition", s))
                .transpose()?,
            fee: f
                .fee
                .map(|s| signed("fill.fee", s))
                .transpose()?
                .unwrap_or(0.0),
            cloid: f.cloid.and_then(parse_cloid),
        });
    }
    Ok(out)
}

/// Parses an `orderUpdates`, `userFills` or `user` (userEvents) frame, keeping only `coin`'s
/// entries.
///
/// # Errors
/// `EngineError::Frame` naming the field when the frame is not valid JSON or a known channel's
/// payload is malformed.
pub fn parse_user_frame(frame: &[u8], coin: &str) -> Result<UserFrame, EngineError> {
    let env: Envelope = serde_json::from_slice(frame).map_err(|e| malformed("user frame", e))?;
    let (Some(channel), Some(data)) = (env.channel, env.data) else {
        return Ok(UserFrame::Ignored);
    };
    let data = data.get();
    match channel {
        "orderUpdates" => {
            let raw: Vec<WsOrder> =
                serde_json::from_str(data).map_err(|e| malformed("orderUpdates", e))?;
            let mut out = Vec::with_capacity(raw.len());
            for u in raw {
                if u.order.coin != coin {
                    continue;
                }
                let status = match u.status {
                    "open" => UpdateStatus::Open,
                    "filled" => UpdateStatus::Filled,
                    "triggered" => UpdateStatus::Other,
                    s if s.ends_with("anceled") || s.ends_with("Rejected") || s == "rejected" => {
                        UpdateStatus::Gone
                    }
                    "scheduledCancel" => UpdateStatus::Gone,
                    _ => UpdateStatus::Other,
                };
                out.push(OrderUpdate {
                    oid: u.order.oid,
                    cloid: u.order.cloid.and_then(parse_cloid),
                    side: side("order.side", u.order.side)?,
                    px: price("order.limitPx", u.order.limit_px)?,
                    sz: size("order.sz", u.order.sz, true)?,
                    status,
                });
            }
            Ok(UserFrame::Orders(out))
        }
        "userFills" => {
            let raw: WsUserFills =
                serde_json::from_str(data).map_err(|e| malformed("userFills", e))?;
            Ok(UserFrame::Fills {
                snapshot: raw.is_snapshot,
                fills: convert_fills(coin, raw.fills)?,
            })
        }
        "user" => {
            let raw: WsUserEvent =
                serde_json::from_str(data).map_err(|e| malformed("userEvents", e))?;
            if let Some(f) = raw.fills {
                return Ok(UserFrame::Fills {
                    snapshot: false,
                    fills: convert_fills(coin, f)?,
                });
            }
            if let Some(c) = raw.non_user_cancel {
                return Ok(UserFrame::NonUserCancel(
                    c.into_iter()
                        .filter(|x| x.coin == coin)
                        .map(|x| x.oid)
                        .collect(),
                ));
            }
            Ok(UserFrame::Ignored)
        }
        _ => Ok(UserFrame::Ignored),
    }
}

/// A status's echoed cloid; one that does not read as a cloid is left out (the oid is what
/// matters, and the engine and the ledger match our orders by batch position, not by it).
fn status_cloid(v: &serde_json::Value) -> Option<u128> {
    v.get("cloid")
        .and_then(serde_json::Value::as_str)
        .and_then(parse_cloid)
}

fn parse_status(v: &serde_json::Value) -> Result<ActionStatus, EngineError> {
    use serde_json::Value;
    let bad = || EngineError::Frame {
        what: "statuses",
        reason: format!("unrecognised status {v}"),
    };
    match v {
        Value::String(s) if s == "success" => Ok(ActionStatus::Success),
        Value::String(s) if s.starts_with("waiting") => Ok(ActionStatus::Waiting),
        Value::Object(m) => {
            if let Some(r) = m.get("resting") {
                let oid = r.get("oid").and_then(Value::as_u64).ok_or_else(bad)?;
                return Ok(ActionStatus::Resting {
                    oid,
                    cloid: status_cloid(r),
                });
            }
            if let Some(f) = m.get("filled") {
                let oid = f.get("oid").and_then(Value::as_u64).ok_or_else(bad)?;
                let total_sz = f
                    .get("totalSz")
                    .and_then(Value::as_str)
                    .map(|s| size("filled.totalSz", s, true))
                    .transpose()?
                    .unwrap_or(0.0);
                let avg_px = f
                    .get("avgPx")
                    .and_then(Value::as_str)
                    .map(|s| price("filled.avgPx", s))
                    .transpose()?
                    .unwrap_or(0.0);
                return Ok(ActionStatus::Filled {
                    oid,
                    total_sz,
                    avg_px,
                    cloid: status_cloid(f),
                });
            }
            if let Some(e) = m.get("error") {
                return Ok(ActionStatus::Error(
                    e.as_str().map_or_else(|| e.to_string(), str::to_string),
                ));
            }
            Err(bad())
        }
        _ => Err(bad()),
    }
}

fn parse_exchange_body(v: &serde_json::Value) -> Result<ExchangeAnswer, EngineError> {
    use serde_json::Value;
    let answer = |response_type: Option<&str>, reply| ExchangeAnswer {
        post_id: None,
        response_type: response_type.map(str::to_string),
        reply,
    };
    match v.get("status").and_then(Value::as_str) {
        Some("ok") => {
            let resp = v.get("response");
            let rtype = resp.and_then(|r| r.get("type")).and_then(Value::as_str);
            match resp
                .and_then(|r| r.get("data"))
                .and_then(|d| d.get("statuses"))
            {
                Some(Value::Array(items)) => Ok(answer(
                    rtype,
                    ExchangeReply::Statuses(
                        items.iter().map(parse_status).collect::<Result<_, _>>()?,
                    ),
                )),
                Some(_) => Err(EngineError::Frame {
                    what: "response.data.statuses",
                    reason: "not an array".to_string(),
                }),
                None => Ok(answer(rtype, ExchangeReply::Ok)),
            }
        }
        Some("err") => Ok(answer(
            None,
            ExchangeReply::Err(
                v.get("response")
                    .map(|r| r.as_str().map_or_else(|| r.to_string(), str::to_string))
                    .unwrap_or_default(),
            ),
        )),
        _ => Err(EngineError::Frame {
            what: "status",
            reason: "expected \"ok\" or \"err\"".to_string(),
        }),
    }
}

/// The exchange's answer to one action, with what frames it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeAnswer {
    /// The websocket post id the answer carries (None for an `/exchange` body).
    pub post_id: Option<u64>,
    /// `response.type` of a successful answer (`order`, `cancel`, `default`, ...).
    pub response_type: Option<String>,
    pub reply: ExchangeReply,
}

/// Parses the exchange's answer to one action: the HTTP `/exchange` body, or the websocket
/// `post` response that wraps it (`{"channel":"post","data":{"id","response":{"type","payload"}}}`).
///
/// # Errors
/// `EngineError::Frame` when the bytes are neither.
pub fn parse_exchange_response(frame: &[u8]) -> Result<ExchangeReply, EngineError> {
    parse_exchange_answer(frame).map(|a| a.reply)
}

/// [`parse_exchange_response`] with the post id and the response type.
///
/// # Errors
/// `EngineError::Frame` when the bytes are neither.
pub fn parse_exchange_answer(frame: &[u8]) -> Result<ExchangeAnswer, EngineError> {
    use serde_json::Value;
    let v: Value = serde_json::from_slice(frame).map_err(|e| malformed("exchange response", e))?;
    if v.get("channel").and_then(Value::as_str) == Some("post") {
        let data = v.get("data");
        let post_id = data.and_then(|d| d.get("id")).and_then(Value::as_u64);
        let resp = data
            .and_then(|d| d.get("response"))
            .ok_or_else(|| EngineError::Frame {
                what: "post.data.response",
                reason: "missing".to_string(),
            })?;
        let payload = resp.get("payload").unwrap_or(&Value::Null);
        let mut answer = match resp.get("type").and_then(Value::as_str) {
            Some("action") => parse_exchange_body(payload)?,
            Some("error") => ExchangeAnswer {
                post_id: None,
                response_type: None,
                reply: ExchangeReply::Err(
                    payload
                        .as_str()
                        .map_or_else(|| payload.to_string(), str::to_string),
                ),
            },
            _ => {
                return Err(EngineError::Frame {
                    what: "post.data.response.type",
                    reason: "expected \"action\" or \"error\"".to_string(),
                })
            }
        };
        answer.post_id = post_id;
        return Ok(answer);
    }
    parse_exchange_body(&v)
}

/// The post id of a websocket `post` answer, without reading the rest (None for anything else).
pub fn post_answer_id(frame: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Data {
        id: u64,
    }
    #[derive(Deserialize)]
    struct Post<'a> {
        #[serde(borrow)]
        channel: &'a str,
        data: Data,
    }
    serde_json::from_slice::<Post<'_>>(frame)
        .ok()
        .filter(|p| p.channel == "post")
        .map(|p| p.data.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_updates_keep_our_coin_and_map_statuses() {
        let f = br#"{"channel":"orderUpdates","data":[
          {"order":{"coin":"ETH","side":"B","limitPx":"1830.1","sz":"0.5","oid":11,"timestamp":1,
            "origSz":"0.5","cloid":"0x0000000000000000000000000000000a"},"status":"open","statusTimestamp":2},
          {"order":{"coin":"BTC","side":"A","limitPx":"90000","sz":"0.1","oid":12,"timestamp":1,
            "origSz":"0.1"},"status":"open","statusTimestamp":2},
          {"order":{"coin":"ETH","side":"A","limitPx":"1840","sz":"0.0","oid":13,"timestamp":1,
            "origSz":"0.2"},"status":"badAloPxRejected","statusTimestamp":2}]}"#;
        let UserFrame::Orders(u) = parse_user_frame(f, "ETH").unwrap() else {
            panic!()
        };
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].cloid, Some(10));
        assert_eq!(
            (u[0].side, u[0].px, u[0].status),
            (Side::Bid, 1830.1, UpdateStatus::Open)
        );
        assert_eq!(u[1].status, UpdateStatus::Gone);
    }

    #[test]
    fn fills_and_user_events() {
        let f = br#"{"channel":"userFills","data":{"isSnapshot":true,"user":"0x1","fills":[
          {"coin":"ETH","px":"1830","sz":"0.1","side":"B","time":5,"startPosition":"-0.2",
           "dir":"Close Short","closedPnl":"0","hash":"0x","oid":11,"crossed":false,"fee":"-0.01",
           "tid":99,"feeToken":"USDC"}]}}"#;
        let UserFrame::Fills { snapshot, fills } = parse_user_frame(f, "ETH").unwrap() else {
            panic!()
        };
        assert!(snapshot);
        assert_eq!(fills[0].start_position, Some(-0.2));
        assert_eq!((fills[0].tid, fills[0].fee), (99, -0.01));
        let f = br#"{"channel":"user","data":{"nonUserCancel":[{"coin":"ETH","oid":4}]}}"#;
        assert_eq!(
            parse_user_frame(f, "ETH").unwrap(),
            UserFrame::NonUserCancel(vec![4])
        );
        let f = br#"{"channel":"user","data":{"funding":{"time":1,"coin":"ETH","usdc":"1","szi":"1","fundingRate":"0"}}}"#;
        assert_eq!(parse_user_frame(f, "ETH").unwrap(), UserFrame::Ignored);
        assert_eq!(
            parse_user_frame(br#"{"channel":"pong"}"#, "ETH").unwrap(),
            UserFrame::Ignored
        );
        let err = parse_user_frame(br#"{"channel":"userFills","data":{"fills":[{"coin":"ETH","px":"x","sz":"1","side":"B","oid":1}]}}"#, "ETH")
            .unwrap_err()
            .to_string();
        assert!(err.contains("fill.px") && err.contains("\"x\""), "{err}");
        assert!(parse_user_frame(b"{not json", "ETH").is_err());
    }

    #[test]
    fn exchange_responses_http_and_ws() {
        let r = br#"{"status":"ok","response":{"type":"order","data":{"statuses":[
          {"resting":{"oid":77}},{"error":"Order must have minimum value of $10. asset=4"},
          {"filled":{"totalSz":"0.02","avgPx":"1891.4","oid":78}}]}}}"#;
        assert_eq!(
            parse_exchange_response(r).unwrap(),
            ExchangeReply::Statuses(vec![
                ActionStatus::Resting {
                    oid: 77,
                    cloid: None
                },
                ActionStatus::Error("Order must have minimum value of $10. asset=4".into()),
                ActionStatus::Filled {
                    oid: 78,
                    total_sz: 0.02,
                    avg_px: 1891.4,
                    cloid: None
                },
            ])
        );
        let r = br#"{"channel":"post","data":{"id":3,"response":{"type":"action","payload":
          {"status":"ok","response":{"type":"cancel","data":{"statuses":["success"]}}}}}}"#;
        assert_eq!(
            parse_exchange_response(r).unwrap(),
            ExchangeReply::Statuses(vec![ActionStatus::Success])
        );
        let r = br#"{"status":"err","response":"Invalid nonce: duplicate nonce 5"}"#;
        assert_eq!(
            parse_exchange_response(r).unwrap(),
            ExchangeReply::Err("Invalid nonce: duplicate nonce 5".into())
        );
        let r =
            br#"{"channel":"post","data":{"id":3,"response":{"type":"error","payload":"429"}}}"#;
        assert_eq!(
            parse_exchange_response(r).unwrap(),
            ExchangeReply::Err("429".into())
        );
        assert_eq!(
            parse_exchange_response(br#"{"status":"ok","response":{"type":"default"}}"#).unwrap(),
            ExchangeReply::Ok
        );
        assert!(parse_exchange_response(br#"{"status":"maybe"}"#).is_err());
    }

    mod fuzz {
        //! Bounded fuzzing kept in CI (issue 13): random bytes and mutations of real frames
        //! never panic, and whatever parses carries only bounded values. Longer runs: `fuzz/`.
        use super::*;
        use proptest::prelude::*;

        const SEEDS: [&str; 4] = [
            r#"{"channel":"userFills","data":{"isSnapshot":false,"user":"0x1","fills":[{"coin":"ETH","px":"1830","sz":"0.1","side":"B","time":5,"startPosition":"-0.2","oid":11,"fee":"-0.01","tid":99}]}}"#,
            r#"{"channel":"orderUpdates","data":[{"order":{"coin":"ETH","side":"A","limitPx":"1840","sz":"0.2","oid":13,"timestamp":1,"origSz":"0.2"},"status":"open","statusTimestamp":2}]}"#,
            r#"{"channel":"user","data":{"fills":[{"coin":"ETH","px":"1","sz":"1","side":"A","oid":1,"startPosition":"3"}]}}"#,
            r#"{"status":"ok","response":{"type":"order","data":{"statuses":[{"resting":{"oid":77}},{"filled":{"totalSz":"0.02","avgPx":"1891.4","oid":78}},{"error":"x"}]}}}"#,
        ];

        fn mutate(seed: &[u8], edits: &[(usize, u8)]) -> Vec<u8> {
            let mut v = seed.to_vec();
            for &(i, b) in edits {
                let n = v.len();
                match b % 3 {
                    0 => v[i % n] = b,
                    1 => v.insert(i % (n + 1), b),
                    _ => {
                        if n > 1 {
                            v.remove(i % n);
                        }
                    }
                }
            }
            v
        }

        fn bounded(f: &UserFrame) -> bool {
            match f {
                UserFrame::Fills { fills, .. } => fills.iter().all(|x| {
                    x.px > 0.0
                        && x.px <= MAX_PRICE
                        && x.sz > 0.0
                        && x.sz <= MAX_ABS_SIZE
                        && x.start_position.is_none_or(|p| p.abs() <= MAX_ABS_SIZE)
                        && x.fee.abs() <= MAX_ABS_SIZE
                }),
                UserFrame::Orders(u) => u.iter().all(|x| {
                    x.px > 0.0 && x.px <= MAX_PRICE && (0.0..=MAX_ABS_SIZE).contains(&x.sz)
                }),
                _ => true,
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 4_000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
                if let Ok(f) = parse_user_frame(&bytes, "ETH") {
                    prop_assert!(bounded(&f));
                }
                let _ = parse_exchange_response(&bytes);
            }

            #[test]
            fn mutated_frames_parse_to_bounded_values_or_fail(
                which in 0usize..SEEDS.len(),
                edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
            ) {
                let frame = mutate(SEEDS[which].as_bytes(), &edits);
                if let Ok(f) = parse_user_frame(&frame, "ETH") {
                    prop_assert!(bounded(&f), "{}", String::from_utf8_lossy(&frame));
                }
                let _ = parse_exchange_response(&frame);
            }

            #[test]
            fn any_number_text_in_a_fill_is_bounded_or_refused(
                px in "[-+0-9.eEinfINFaN]{1,24}",
                start in "[-+0-9.eEinfINFaN]{1,24}",
            ) {
                let frame = format!(
                    r#"{{"channel":"userFills","data":{{"fills":[{{"coin":"ETH","px":"{px}","sz":"1","side":"B","oid":1,"startPosition":"{start}"}}]}}}}"#
                );
                if let Ok(f) = parse_user_frame(frame.as_bytes(), "ETH") {
                    prop_assert!(bounded(&f));
                }
            }
        }
    }
}
