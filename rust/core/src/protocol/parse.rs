//! An action's JSON (the `action` of an `/exchange` body) read into [`Action`]: the venue's
//! HTTP entry and `OrderPath::accept_body`. The serde shapes here are private: they only say
//! how the wire spells each field; everything after the read works on [`Action`].
//!
//! Prices and sizes are kept as received ([`Decimal::from_text`]): whether they are on the
//! grid is the receiver's per-order decision, as on the exchange. A malformed cloid, address
//! or action shape refuses the whole action.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

use super::{
    Action, Address, BuilderFee, CancelByCloidWire, CancelWire, Cloid, Decimal, Grouping,
    ModifyWire, Oid, OrderKind, OrderWire, Tif, Tpsl,
};

#[derive(Deserialize)]
struct LimitJson {
    tif: Tif,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TriggerJson {
    is_market: bool,
    trigger_px: String,
    tpsl: Tpsl,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
enum KindJson {
    Limit(LimitJson),
    Trigger(TriggerJson),
}

#[derive(Deserialize)]
struct OrderJson {
    a: u32,
    b: bool,
    p: String,
    s: String,
    r: bool,
    t: KindJson,
    #[serde(default)]
    c: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OidJson {
    Oid(u64),
    Cloid(String),
}

#[derive(Deserialize)]
struct ModifyJson {
    oid: OidJson,
    order: OrderJson,
}

#[derive(Deserialize)]
struct CancelJson {
    a: u32,
    o: u64,
}

#[derive(Deserialize)]
struct CancelByCloidJson {
    asset: u32,
    cloid: String,
}

#[derive(Deserialize)]
struct BuilderJson {
    b: String,
    f: u64,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum ActionJson {
    Order {
        orders: Vec<OrderJson>,
        #[serde(default)]
        grouping: Value,
        #[serde(default)]
        builder: Option<BuilderJson>,
    },
    Cancel {
        cancels: Vec<CancelJson>,
        #[serde(default)]
        f: bool,
    },
    CancelByCloid {
        cancels: Vec<CancelByCloidJson>,
        #[serde(default)]
        f: bool,
    },
    Modify {
        oid: OidJson,
        order: OrderJson,
        #[serde(default)]
        a: bool,
    },
    BatchModify {
        modifies: Vec<ModifyJson>,
        #[serde(default)]
        a: bool,
    },
    ScheduleCancel {
        #[serde(default)]
        time: Option<u64>,
    },
    #[serde(rename_all = "camelCase")]
    UpdateLeverage {
        asset: u32,
        is_cross: bool,
        leverage: u32,
    },
    Noop,
}

impl<'de> Deserialize<'de> for Tif {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        Tif::parse(&s).ok_or_else(|| serde::de::Error::unknown_variant(&s, &["Alo", "Ioc", "Gtc"]))
    }
}

impl<'de> Deserialize<'de> for Tpsl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match <Cow<'de, str>>::deserialize(d)?.as_ref() {
            "tp" => Ok(Tpsl::Tp),
            "sl" => Ok(Tpsl::Sl),
            other => Err(serde::de::Error::unknown_variant(other, &["tp", "sl"])),
        }
    }
}

fn cloid(s: &str) -> Result<Cloid, String> {
    Cloid::parse("cloid", s).map_err(|e| e.to_string())
}

fn oid(o: OidJson) -> Result<Oid, String> {
    Ok(match o {
        OidJson::Oid(o) => Oid::Oid(o),
        OidJson::Cloid(c) => Oid::Cloid(cloid(&c)?),
    })
}

fn order(o: OrderJson) -> Result<OrderWire, String> {
    Ok(OrderWire {
        asset: o.a,
        is_buy: o.b,
        px: Decimal::from_text(&o.p),
        sz: Decimal::from_text(&o.s),
        reduce_only: o.r,
        kind: match o.t {
            KindJson::Limit(l) => OrderKind::Limit(l.tif),
            KindJson::Trigger(t) => OrderKind::Trigger {
                is_market: t.is_market,
                trigger_px: Decimal::from_text(&t.trigger_px),
                tpsl: t.tpsl,
            },
        },
        cloid: o.c.as_deref().map(cloid).transpose()?,
    })
}

/// `"na"`, `"normalTpsl"`, `"positionTpsl"` or `{"p": rate}`; anything else is `na`, which is
/// what the exchange does with a grouping it does not act on for a plain order.
fn grouping(g: &Value) -> Grouping {
    match g {
        Value::String(s) if s == "normalTpsl" => Grouping::NormalTpsl,
        Value::String(s) if s == "positionTpsl" => Grouping::PositionTpsl,
        Value::Object(m) => m
            .get("p")
            .and_then(Value::as_u64)
            .map_or(Grouping::Na, Grouping::Priority),
        _ => Grouping::Na,
    }
}

impl Action<'static> {
    /// Reads an action's JSON.
    ///
    /// # Errors
    /// serde's message for a shape that does not parse, or the field and value of a malformed
    /// cloid or builder address.
    pub fn from_json(json: &[u8]) -> Result<Self, String> {
        let a: ActionJson = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        Self::from_value(a)
    }

    /// Reads an action already parsed as a JSON value (inside a request body).
    ///
    /// # Errors
    /// As [`Action::from_json`].
    pub fn from_json_value(v: &Value) -> Result<Self, String> {
        let a = ActionJson::deserialize(v).map_err(|e| e.to_string())?;
        Self::from_value(a)
    }

    fn from_value(a: ActionJson) -> Result<Self, String> {
        Ok(match a {
            ActionJson::Order {
                orders,
                grouping: g,
                builder,
            } => Action::Order {
                orders: Cow::Owned(orders.into_iter().map(order).collect::<Result<_, _>>()?),
                grouping: grouping(&g),
                builder: builder
                    .map(|b| {
                        Ok::<_, String>(BuilderFee {
                            builder: Address::parse("builder", &b.b).map_err(|e| e.to_string())?,
                            fee: b.f,
                        })
                    })
                    .transpose()?,
            },
            ActionJson::Cancel { cancels, f } => Action::Cancel {
                cancels: Cow::Owned(
                    cancels
                        .into_iter()
                        .map(|c| CancelWire {
                            asset: c.a,
                            oid: c.o,
                        })
                        .collect(),
                ),
                fast: f,
            },
            ActionJson::CancelByCloid { cancels, f } => Action::CancelByCloid {
                cancels: Cow::Owned(
                    cancels
                        .into_iter()
                        .map(|c| {
                            Ok(CancelByCloidWire {
                                asset: c.asset,
                                cloid: cloid(&c.cloid)?,
                            })
                        })
                        .collect::<Result<_, String>>()?,
                ),
                fast: f,
            },
            ActionJson::Modify {
                oid: o,
                order: w,
                a,
            } => Action::Modify {
                oid: oid(o)?,
                order: order(w)?,
                always_place: a,
            },
            ActionJson::BatchModify { modifies, a } => Action::BatchModify {
                modifies: Cow::Owned(
                    modifies
                        .into_iter()
                        .map(|m| {
                            Ok(ModifyWire {
                                oid: oid(m.oid)?,
                                order: order(m.order)?,
                            })
                        })
                        .collect::<Result<_, String>>()?,
                ),
                always_place: a,
            },
            ActionJson::ScheduleCancel { time } => Action::ScheduleCancel { time },
            ActionJson::UpdateLeverage {
                asset,
                is_cross,
                leverage,
            } => Action::UpdateLeverage {
                asset,
                is_cross,
                leverage,
            },
            ActionJson::Noop => Action::Noop,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Action<'static> {
        Action::from_json(s.as_bytes()).unwrap()
    }

    fn json(a: &Action<'_>) -> String {
        let mut out = Vec::new();
        a.write_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parses_sdk_shapes_classifies_and_writes_them_back() {
        let alo = r#"{"type":"order","orders":[{"a":4,"b":true,"p":"1670.1","s":"0.0147","r":false,"t":{"limit":{"tif":"Alo"}},"c":"0x00000000000000000000000000000001"}],"grouping":"na"}"#;
        assert_eq!(parse(alo).block_class(), 0);
        assert_eq!(json(&parse(alo)), alo);
        let gtc = parse(
            r#"{"type":"order","orders":[{"a":4,"b":true,"p":"1","s":"1","r":false,"t":{"limit":{"tif":"Alo"}}},{"a":4,"b":true,"p":"1","s":"1","r":false,"t":{"limit":{"tif":"Gtc"}}}],"grouping":"na"}"#,
        );
        assert_eq!(gtc.block_class(), 2);
        assert_eq!(gtc.request_count(), 2);
        let cancel = r#"{"type":"cancel","cancels":[{"a":1,"o":82382}],"f":true}"#;
        assert_eq!(parse(cancel).block_class(), 1);
        assert!(parse(cancel).is_cancel());
        assert_eq!(json(&parse(cancel)), cancel);
        let by_cloid = r#"{"type":"cancelByCloid","cancels":[{"asset":1,"cloid":"0x00000000000000000000000000000002"}]}"#;
        assert_eq!(parse(by_cloid).block_class(), 1);
        assert_eq!(json(&parse(by_cloid)), by_cloid);
        let modify = parse(
            r#"{"type":"batchModify","modifies":[{"oid":5,"order":{"a":1,"b":false,"p":"2","s":"3","r":false,"t":{"limit":{"tif":"Gtc"}}}},{"oid":"0x00000000000000000000000000000003","order":{"a":1,"b":false,"p":"2","s":"3","r":false,"t":{"limit":{"tif":"Alo"}}}}]}"#,
        );
        // Without `a`, a GTC modify becomes ALO: nothing of class 2.
        assert_eq!(modify.block_class(), 0);
        let Action::BatchModify { modifies, .. } = &modify else {
            panic!("{modify:?}")
        };
        assert_eq!(modifies[0].oid, Oid::Oid(5));
        assert_eq!(modifies[1].oid, Oid::Cloid(Cloid::from_u128(3)));
        let always = r#"{"type":"modify","oid":5,"order":{"a":1,"b":false,"p":"2","s":"3","r":false,"t":{"limit":{"tif":"Gtc"}}},"a":true}"#;
        assert_eq!(parse(always).block_class(), 2);
        assert_eq!(json(&parse(always)), always);
        assert_eq!(parse(r#"{"type":"noop"}"#), Action::Noop);
        assert_eq!(
            parse(r#"{"type":"updateLeverage","asset":0,"isCross":true,"leverage":5}"#),
            Action::UpdateLeverage {
                asset: 0,
                is_cross: true,
                leverage: 5
            }
        );
        assert_eq!(
            parse(r#"{"type":"scheduleCancel"}"#),
            Action::ScheduleCancel { time: None }
        );
    }

    #[test]
    fn prices_are_kept_as_sent_and_bad_cloids_refuse_the_action() {
        let a = parse(
            r#"{"type":"order","orders":[{"a":0,"b":true,"p":"1670.10","s":"abc","r":false,"t":{"limit":{"tif":"Alo"}}}]}"#,
        );
        let Action::Order { orders, .. } = a else {
            panic!()
        };
        assert_eq!(orders[0].px.as_str(), "1670.10");
        assert_eq!(orders[0].sz.as_str(), "abc");
        let err = Action::from_json(
            br#"{"type":"cancelByCloid","cancels":[{"asset":1,"cloid":"0x12"}]}"#,
        )
        .unwrap_err();
        assert!(err.contains("cloid") && err.contains("0x12"), "{err}");
        assert!(Action::from_json(br#"{"type":"bogus"}"#).is_err());
    }
}
