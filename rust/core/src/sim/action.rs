//! L1 actions as the exchange receives them (PROTOCOL 3.2) and their in-block priority
//! (PROTOCOL 5.4).

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Tif {
    Alo,
    Ioc,
    Gtc,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LimitType {
    pub tif: Tif,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerType {
    pub is_market: bool,
    pub trigger_px: String,
    pub tpsl: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderType {
    Limit(LimitType),
    Trigger(TriggerType),
}

/// One order as posted: `{a, b, p, s, r, t, c?}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct OrderWire {
    pub a: u32,
    pub b: bool,
    pub p: String,
    pub s: String,
    pub r: bool,
    pub t: OrderType,
    #[serde(default)]
    pub c: Option<String>,
}

impl OrderWire {
    pub fn tif(&self) -> Option<Tif> {
        match &self.t {
            OrderType::Limit(l) => Some(l.tif),
            OrderType::Trigger(_) => None,
        }
    }

    /// GTC or IOC: the orders the exchange runs after cancels within a block.
    pub fn is_gtc_or_ioc(&self) -> bool {
        matches!(self.tif(), Some(Tif::Gtc | Tif::Ioc))
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CancelWire {
    pub a: u32,
    pub o: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CancelByCloidWire {
    pub asset: u32,
    pub cloid: String,
}

/// A modify target: an oid or a cloid string.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum OidOrCloid {
    Oid(u64),
    Cloid(String),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModifyWire {
    pub oid: OidOrCloid,
    pub order: OrderWire,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    Order {
        orders: Vec<OrderWire>,
        #[serde(default)]
        grouping: serde_json::Value,
    },
    Cancel {
        cancels: Vec<CancelWire>,
    },
    CancelByCloid {
        cancels: Vec<CancelByCloidWire>,
    },
    Modify {
        oid: OidOrCloid,
        order: OrderWire,
        #[serde(default)]
        a: bool,
    },
    BatchModify {
        modifies: Vec<ModifyWire>,
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

impl Action {
    /// In-block priority: 0 for actions without GTC/IOC orders (ALO, modifies to ALO, leverage,
    /// noop, ...), 1 for cancels, 2 for actions with at least one GTC or IOC order.
    pub fn block_class(&self) -> u8 {
        match self {
            Action::Cancel { .. } | Action::CancelByCloid { .. } => 1,
            Action::Order { orders, .. } if orders.iter().any(OrderWire::is_gtc_or_ioc) => 2,
            // A modify without `a` turns a GTC into ALO; only an always-place modify keeps it.
            Action::Modify { order, a: true, .. } if order.is_gtc_or_ioc() => 2,
            Action::BatchModify { modifies, a: true }
                if modifies.iter().any(|m| m.order.is_gtc_or_ioc()) =>
            {
                2
            }
            _ => 0,
        }
    }

    /// Address-budget cost: one per order, cancel or modify in the batch, else one.
    pub fn request_count(&self) -> usize {
        match self {
            Action::Order { orders, .. } => orders.len().max(1),
            Action::Cancel { cancels } => cancels.len().max(1),
            Action::CancelByCloid { cancels } => cancels.len().max(1),
            Action::BatchModify { modifies, .. } => modifies.len().max(1),
            _ => 1,
        }
    }

    pub fn is_cancel(&self) -> bool {
        self.block_class() == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Action {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn parses_sdk_shapes_and_classifies() {
        let alo = parse(
            r#"{"type":"order","orders":[{"a":4,"b":true,"p":"1670.1","s":"0.0147","r":false,"t":{"limit":{"tif":"Alo"}},"c":"0x00000000000000000000000000000001"}],"grouping":"na"}"#,
        );
        assert_eq!(alo.block_class(), 0);
        let gtc = parse(
            r#"{"type":"order","orders":[{"a":4,"b":true,"p":"1","s":"1","r":false,"t":{"limit":{"tif":"Alo"}}},{"a":4,"b":true,"p":"1","s":"1","r":false,"t":{"limit":{"tif":"Gtc"}}}],"grouping":"na"}"#,
        );
        assert_eq!(gtc.block_class(), 2);
        assert_eq!(gtc.request_count(), 2);
        let cancel = parse(r#"{"type":"cancel","cancels":[{"a":1,"o":82382}]}"#);
        assert_eq!(cancel.block_class(), 1);
        let by_cloid = parse(
            r#"{"type":"cancelByCloid","cancels":[{"asset":1,"cloid":"0x00000000000000000000000000000002"}]}"#,
        );
        assert_eq!(by_cloid.block_class(), 1);
        let modify = parse(
            r#"{"type":"batchModify","modifies":[{"oid":5,"order":{"a":1,"b":false,"p":"2","s":"3","r":false,"t":{"limit":{"tif":"Gtc"}}}},{"oid":"0x00000000000000000000000000000003","order":{"a":1,"b":false,"p":"2","s":"3","r":false,"t":{"limit":{"tif":"Alo"}}}}]}"#,
        );
        assert_eq!(modify.block_class(), 0);
        match &modify {
            Action::BatchModify { modifies, .. } => {
                assert_eq!(modifies[0].oid, OidOrCloid::Oid(5));
                assert!(matches!(modifies[1].oid, OidOrCloid::Cloid(_)));
            }
            _ => panic!(),
        }
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
}
