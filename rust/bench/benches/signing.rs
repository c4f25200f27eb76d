//! Signing costs (SPEC 12, PROTOCOL 4) without Python: each stage of the pipeline, a full
//! signed request body for 1 and 10 ALO orders, and the venue's recovery of the signer.

use std::borrow::Cow;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use mmfast_core::signing::{
    agent_digest, connection_id, float_to_wire, parse_request, Action, Cloid, Decimal, Envelope,
    Grouping, OrderWire, PrivateKey, Signer,
};

const KEY: &str = "0x0123456789012345678901234567890123456789012345678901234567890123";

fn quotes(n: usize) -> Vec<OrderWire> {
    (0..n)
        .map(|i| {
            let is_buy = i % 2 == 0;
            let offset = (i / 2 + 1) as f64;
            let px = if is_buy {
                60000.0 - offset
            } else {
                60000.0 + offset
            };
            OrderWire::alo(
                0,
                is_buy,
                Decimal::from_f64(px).unwrap(),
                Decimal::from_f64(0.001).unwrap(),
                Some(Cloid::from_u128(i as u128 + 1)),
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let signer = Signer::new(PrivateKey::from_hex(KEY).unwrap(), true, None);
    let env = Envelope {
        nonce: 1_700_000_000_000,
        vault: None,
        expires_after: None,
    };
    for n in [1usize, 10] {
        let orders = quotes(n);
        let action = Action::Order {
            orders: Cow::Borrowed(&orders),
            grouping: Grouping::Na,
            builder: None,
        };
        let mut packed = Vec::new();
        action.write_msgpack(&mut packed);
        c.bench_function(&format!("msgpack_{n}"), |b| {
            let mut out = Vec::with_capacity(1024);
            b.iter(|| {
                out.clear();
                black_box(&action).write_msgpack(&mut out);
                black_box(out.len())
            })
        });
        c.bench_function(&format!("connection_id_{n}"), |b| {
            b.iter(|| connection_id(black_box(&packed), 1, None, None))
        });
        c.bench_function(&format!("sign_body_{n}"), |b| {
            let mut out = Vec::with_capacity(2048);
            b.iter(|| {
                out.clear();
                signer.write_body(&mut out, black_box(&action), &env)
            })
        });
        let mut body = Vec::new();
        signer.write_body(&mut body, &action, &env);
        c.bench_function(&format!("recover_body_{n}"), |b| {
            b.iter(|| {
                parse_request(black_box(&body))
                    .unwrap()
                    .recover_signer(true)
                    .unwrap()
            })
        });
    }
    let key = PrivateKey::from_hex(KEY).unwrap();
    let digest = agent_digest(&[7u8; 32], true);
    c.bench_function("ecdsa_sign_digest", |b| {
        b.iter(|| key.sign_digest(black_box(&digest)))
    });
    c.bench_function("float_to_wire", |b| {
        b.iter(|| Decimal::from_f64(black_box(60012.5)).unwrap())
    });
    c.bench_function("float_to_wire_string", |b| {
        b.iter(|| float_to_wire(black_box(0.0147)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
