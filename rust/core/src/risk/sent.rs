//! What the guard checks and the ledger records of one exchange action, read from the
//! [`Action`] itself (the one that is signed), not from the engine's view of it: its orders
//! (places and the new half of modifies) and, per item, the order it adds and the one it
//! replaces or cancels.

use super::{GuardOrder, NewOrder, SentItem, Target};
use crate::protocol::{Action, Decimal, Oid, OrderKind, OrderWire, Tif};

/// Fills `orders` and `items` (cleared first) from `action`, for the traded asset `asset`.
///
/// # Errors
/// An order or cancel for another asset, or a price or size that is not a number: the action
/// is refused whole.
pub fn read_action(
    action: &Action<'_>,
    asset: u32,
    orders: &mut Vec<GuardOrder>,
    items: &mut Vec<SentItem>,
) -> Result<(), String> {
    orders.clear();
    items.clear();
    let same = |a: u32| {
        if a == asset {
            Ok(())
        } else {
            Err(format!("asset {a} is not the traded asset {asset}"))
        }
    };
    let new = |o: &OrderWire, orders: &mut Vec<GuardOrder>| -> Result<NewOrder, String> {
        same(o.asset)?;
        let n = NewOrder {
            is_buy: o.is_buy,
            px: number("p", &o.px)?,
            sz: number("s", &o.sz)?,
            cloid: o.cloid.map(|c| c.as_u128()),
            reduce_only: o.reduce_only,
        };
        orders.push(GuardOrder {
            is_buy: n.is_buy,
            px: n.px,
            sz: n.sz,
            reduce_only: n.reduce_only,
            post_only: matches!(o.kind, OrderKind::Limit(Tif::Alo)),
        });
        Ok(n)
    };
    let target = |o: &Oid| match o {
        Oid::Oid(o) => Target::Oid(*o),
        Oid::Cloid(c) => Target::Cloid(c.as_u128()),
    };
    match action {
        Action::Order { orders: os, .. } => {
            for o in os.iter() {
                let n = new(o, orders)?;
                items.push(SentItem {
                    new: Some(n),
                    old: None,
                });
            }
        }
        Action::Modify { oid, order, .. } => {
            let n = new(order, orders)?;
            items.push(SentItem {
                new: Some(n),
                old: Some(target(oid)),
            });
        }
        Action::BatchModify { modifies, .. } => {
            for m in modifies.iter() {
                let n = new(&m.order, orders)?;
                items.push(SentItem {
                    new: Some(n),
                    old: Some(target(&m.oid)),
                });
            }
        }
        Action::Cancel { cancels, .. } => {
            for c in cancels.iter() {
                same(c.asset)?;
                items.push(SentItem {
                    new: None,
                    old: Some(Target::Oid(c.oid)),
                });
            }
        }
        Action::CancelByCloid { cancels, .. } => {
            for c in cancels.iter() {
                same(c.asset)?;
                items.push(SentItem {
                    new: None,
                    old: Some(Target::Cloid(c.cloid.as_u128())),
                });
            }
        }
        Action::ScheduleCancel { .. } | Action::Noop | Action::UpdateLeverage { .. } => {}
    }
    Ok(())
}

fn number(field: &str, d: &Decimal) -> Result<f64, String> {
    d.as_str()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| format!("{field} = {:?} is not a number", d.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_orders_and_targets_of_each_kind() {
        let (mut orders, mut items) = (Vec::new(), Vec::new());
        let modify = Action::from_json(
            br#"{"type":"batchModify","modifies":[{"oid":7,"order":{"a":4,"b":false,"p":"3001.5","s":"0.25","r":true,"t":{"limit":{"tif":"Gtc"}},"c":"0x00000000000000000000000000000009"}}]}"#,
        )
        .unwrap();
        read_action(&modify, 4, &mut orders, &mut items).unwrap();
        assert_eq!(
            orders,
            vec![GuardOrder {
                is_buy: false,
                px: 3001.5,
                sz: 0.25,
                reduce_only: true,
                post_only: false,
            }]
        );
        assert_eq!(items[0].old, Some(Target::Oid(7)));
        assert_eq!(items[0].new.unwrap().cloid, Some(9));
        let cancel = Action::from_json(
            br#"{"type":"cancelByCloid","cancels":[{"asset":4,"cloid":"0x00000000000000000000000000000002"}]}"#,
        )
        .unwrap();
        read_action(&cancel, 4, &mut orders, &mut items).unwrap();
        assert!(orders.is_empty());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].old, Some(Target::Cloid(2)));
        let err = read_action(&cancel, 5, &mut orders, &mut items).unwrap_err();
        assert_eq!(err, "asset 4 is not the traded asset 5");
        let bad = Action::from_json(
            br#"{"type":"order","orders":[{"a":4,"b":true,"p":"x","s":"1","r":false,"t":{"limit":{"tif":"Alo"}}}]}"#,
        )
        .unwrap();
        let err = read_action(&bad, 4, &mut orders, &mut items).unwrap_err();
        assert!(err.contains("p = \"x\""), "{err}");
    }
}
