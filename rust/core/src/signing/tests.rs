//! The signing pipeline against the official SDK's vectors (shared/data/hl_signing_vectors.json,
//! PROTOCOL 7), step by step: msgpack bytes, connection id, struct hash, digest, signature,
//! recovery; plus the typed actions rebuilt from the same JSON.

use std::borrow::Cow;
use std::path::PathBuf;

use serde_json::Value;

use super::{eip712::*, msgpack::pack_json, *};

fn shared_dir() -> PathBuf {
    if let Ok(p) = std::env::var("MMFAST_SHARED") {
        return PathBuf::from(p);
    }
    // The repository's sibling `shared/` (CI clones the repo beside it; a worktree sits one
    // level deeper).
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared"))
        .find(|p| p.join("data").is_dir())
        .unwrap_or_else(|| here.join("../../../shared"))
}

fn vectors() -> Value {
    let path = shared_dir().join("data/hl_signing_vectors.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set MMFAST_SHARED)", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// 32 bytes from hex; left-padded, since the SDK prints r and s without leading zeros.
fn h32(s: &str) -> [u8; 32] {
    let digits = s.trim_start_matches("0x");
    let padded = format!("{digits:0>64}");
    let mut out = [0u8; 32];
    hex::decode_to_slice(padded, &mut out).unwrap();
    out
}

fn envelope(v: &Value) -> Envelope {
    Envelope {
        nonce: v["nonce"].as_u64().unwrap(),
        vault: v["vault"]
            .as_str()
            .map(|s| Address::parse("vault", s).unwrap()),
        expires_after: v["expiresAfter"].as_u64(),
    }
}

/// Rebuilds a vector's action through the typed action (read by `Action::from_json_value`);
/// None for the action types the bot does not send.
fn typed_msgpack(action: &Value) -> Option<(Vec<u8>, Vec<u8>)> {
    let a = Action::from_json_value(action).ok()?;
    let mut mp = Vec::new();
    a.write_msgpack(&mut mp);
    let mut js = Vec::new();
    a.write_json(&mut js);
    Some((mp, js))
}

#[test]
fn constants_match_their_definitions() {
    let domain_type = keccak256(
        b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)",
    );
    let mut enc = Vec::new();
    enc.extend_from_slice(&domain_type);
    enc.extend_from_slice(&keccak256(b"Exchange"));
    enc.extend_from_slice(&keccak256(b"1"));
    let mut chain = [0u8; 32];
    chain[30..].copy_from_slice(&1337u16.to_be_bytes());
    enc.extend_from_slice(&chain);
    enc.extend_from_slice(&[0u8; 32]);
    assert_eq!(keccak256(&enc), DOMAIN_SEPARATOR);
    assert_eq!(
        keccak256(b"Agent(string source,bytes32 connectionId)"),
        AGENT_TYPEHASH
    );
    assert_eq!(keccak256(b"a"), SOURCE_MAINNET);
    assert_eq!(keccak256(b"b"), SOURCE_TESTNET);
}

#[test]
fn vectors_step_by_step() {
    let all = vectors();
    let key = PrivateKey::from_hex(all["private_key"].as_str().unwrap()).unwrap();
    assert_eq!(
        key.address().to_checksum(),
        all["address"].as_str().unwrap()
    );
    let vs = all["vectors"].as_array().unwrap();
    assert!(vs.len() >= 12);
    for v in vs {
        let name = v["name"].as_str().unwrap();
        let mut packed = Vec::new();
        pack_json(&mut packed, &v["action_json"]).unwrap();
        assert_eq!(
            hex::encode(&packed),
            v["msgpack_hex"].as_str().unwrap(),
            "{name}"
        );
        if let Some((typed, json)) = typed_msgpack(&v["action_json"]) {
            assert_eq!(typed, packed, "{name}: typed msgpack");
            let reparsed: Value = serde_json::from_slice(&json).unwrap();
            assert_eq!(reparsed, v["action_json"], "{name}: typed JSON");
            // Same keys in the same order as the hashed form.
            let mut again = Vec::new();
            pack_json(&mut again, &reparsed).unwrap();
            assert_eq!(again, packed, "{name}: typed JSON key order");
        }
        let env = envelope(v);
        let cid = connection_id(&packed, env.nonce, env.vault.as_ref(), env.expires_after);
        assert_eq!(cid, h32(v["connectionId"].as_str().unwrap()), "{name}");
        for (chain, mainnet) in [("mainnet", true), ("testnet", false)] {
            let c = &v[chain];
            assert_eq!(
                DOMAIN_SEPARATOR,
                h32(c["domainSeparator"].as_str().unwrap())
            );
            assert_eq!(
                agent_struct_hash(&cid, mainnet),
                h32(c["agentStructHash"].as_str().unwrap()),
                "{name} {chain}"
            );
            let digest = agent_digest(&cid, mainnet);
            assert_eq!(
                digest,
                h32(c["eip712_digest"].as_str().unwrap()),
                "{name} {chain}"
            );
            let sig = key.sign_digest(&digest);
            let secret = SecretScalar::from_hex(all["private_key"].as_str().unwrap()).unwrap();
            assert_eq!(
                secret.sign_digest(&digest),
                sig,
                "{name} {chain}: hazmat path"
            );
            let want = &c["signature"];
            assert_eq!(sig.r, h32(want["r"].as_str().unwrap()), "{name} {chain} r");
            assert_eq!(sig.s, h32(want["s"].as_str().unwrap()), "{name} {chain} s");
            assert_eq!(
                u64::from(sig.v),
                want["v"].as_u64().unwrap(),
                "{name} {chain} v"
            );
            assert_eq!(recover_address(&digest, &sig).unwrap(), key.address());
            let from_hex = Signature::from_hex(
                want["r"].as_str().unwrap(),
                want["s"].as_str().unwrap(),
                want["v"].as_u64().unwrap(),
            )
            .unwrap();
            assert_eq!(from_hex, sig);
        }
    }
}

#[test]
fn signed_body_parses_and_recovers_to_the_signer() {
    let all = vectors();
    let key = PrivateKey::from_hex(all["private_key"].as_str().unwrap()).unwrap();
    let address = key.address();
    let signer = Signer::new(key, true, None);
    for v in all["vectors"].as_array().unwrap() {
        let env = envelope(v);
        let json = serde_json::to_vec(&v["action_json"]).unwrap();
        let mut body = Vec::new();
        let sig = signer.write_json_body(&mut body, &json, &env).unwrap();
        assert_eq!(sig.r, h32(v["mainnet"]["signature"]["r"].as_str().unwrap()));
        let req = parse_request(&body).unwrap();
        assert_eq!(req.envelope, env);
        assert_eq!(req.action, v["action_json"]);
        assert_eq!(req.recover_signer(true).unwrap(), address);
        // Signed for mainnet, checked as testnet: somebody else, not an error.
        assert_ne!(req.recover_signer(false).unwrap(), address);
        if let Some((typed_mp, _)) = typed_msgpack(&v["action_json"]) {
            assert_eq!(req.action_msgpack, typed_mp);
        }
    }
}

#[test]
fn pysdk_test_suite_cases() {
    // hyperliquid-python-sdk tests/signing_test.py (PROTOCOL 7), same key as the vectors.
    let key =
        PrivateKey::from_hex("0x0123456789012345678901234567890123456789012345678901234567890123")
            .unwrap();
    // test_phantom_agent_creation_matches_production
    let o = OrderWire {
        asset: 4,
        is_buy: true,
        px: Decimal::from_f64(1670.1).unwrap(),
        sz: Decimal::from_f64(0.0147).unwrap(),
        reduce_only: false,
        kind: OrderKind::Limit(Tif::Ioc),
        cloid: None,
    };
    let mut mp = Vec::new();
    Action::Order {
        orders: Cow::Borrowed(&[o]),
        grouping: Grouping::Na,
        builder: None,
    }
    .write_msgpack(&mut mp);
    assert_eq!(
        connection_id(&mp, 1677777606040, None, None),
        h32("0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908")
    );
    // test_l1_action_signing_matches: {"type": "dummy", "num": 100000000000}, nonce 0; the SDK
    // prints r without zero padding (63 digits).
    let action: Value = serde_json::from_str(r#"{"type":"dummy","num":100000000000}"#).unwrap();
    let mut mp = Vec::new();
    pack_json(&mut mp, &action).unwrap();
    let cid = connection_id(&mp, 0, None, None);
    let sig = key.sign_digest(&agent_digest(&cid, true));
    let want = Signature::from_hex(
        "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
        &hex::encode(sig.s),
        27,
    )
    .unwrap();
    assert_eq!(sig, want);
    assert_eq!(sig.r_hex().len(), 66);
    assert_eq!(&sig.r_hex()[..4], b"0x05");
    assert_eq!(key.sign_digest(&agent_digest(&cid, false)).v, 28);
}

#[test]
fn rust_sdk_key_and_cancel_vector() {
    // hyperliquid-rust-sdk exchange_client.rs: cancel {a:1, o:82382}, nonce 1583838, mainnet.
    let key =
        PrivateKey::from_hex("e908f86dbb4d55ac876378565aafeabc187f6690f046459397b17d9b9a19688e")
            .unwrap();
    let mut mp = Vec::new();
    Action::Cancel {
        cancels: Cow::Borrowed(&[CancelWire {
            asset: 1,
            oid: 82382,
        }]),
        fast: false,
    }
    .write_msgpack(&mut mp);
    let sig = key.sign_digest(&agent_digest(
        &connection_id(&mp, 1583838, None, None),
        true,
    ));
    assert_eq!(&hex::encode(sig.r)[..8], "02f76cc5");
    assert_eq!(sig.v, 27);
}

#[test]
fn key_material_never_appears_in_errors_or_debug() {
    let secret = "0123456789012345678901234567890123456789012345678901234567890123";
    let key = PrivateKey::from_hex(secret).unwrap();
    let shown = format!("{key:?}");
    let shown = format!("{shown} {:?}", Signer::new(key, true, None));
    assert!(
        !shown.contains(secret) && !shown.contains(&secret[..16]),
        "{shown}"
    );
    assert!(shown.contains("0x14791697260E4c9A71f18484C9f997B308e59325"));
    let scalar = format!("{:?}", SecretScalar::from_hex(secret).unwrap());
    assert_eq!(scalar, "SecretScalar { .. }");
    // Bad keys: the error is fixed text, not even a fragment of the input.
    let bad = [
        format!("{}zz", &secret[..62]),
        secret[..63].to_string(),
        format!("{secret}00"),
        "0".repeat(64),
        "f".repeat(64), // above the curve order
    ];
    for b in bad {
        let e = PrivateKey::from_hex(&b).unwrap_err().to_string();
        assert!(e.starts_with("invalid private key: "), "{e}");
        assert!(!e.contains(&b[..10]), "{e}");
        let e2 = SecretScalar::from_hex(&b).unwrap_err().to_string();
        assert_eq!(e2, e);
    }
}

#[test]
fn request_errors_name_the_field() {
    let cases: [(&str, &str); 6] = [
        ("[]", "invalid request body JSON"),
        (r#"{"nonce":1}"#, "invalid action = missing"),
        (r#"{"action":{"type":"noop"}}"#, "invalid nonce = missing"),
        (
            r#"{"action":{"type":"noop"},"nonce":-1}"#,
            "invalid nonce = -1",
        ),
        (
            r#"{"action":{"type":"noop"},"nonce":1,"signature":{"r":"0x1","s":"0x2","v":29}}"#,
            "invalid v = 29",
        ),
        (
            r#"{"action":{"type":"noop"},"nonce":1,"vaultAddress":"0x12","signature":{}}"#,
            "invalid vaultAddress = 0x12",
        ),
    ];
    for (body, want) in cases {
        let e = parse_request(body.as_bytes()).unwrap_err().to_string();
        assert!(e.starts_with(want), "{body}: {e}");
    }
    // r = 0 cannot be a signature.
    let body = r#"{"action":{"type":"noop"},"nonce":1,"signature":{"r":"0x0","s":"0x2","v":27}}"#;
    let req = parse_request(body.as_bytes()).unwrap();
    assert!(matches!(
        req.recover_signer(true),
        Err(SigningError::Recover { .. })
    ));
}

#[test]
fn typed_actions_not_in_the_vectors() {
    // Hand-built bytes: fast cancel, priority grouping, trigger order, builder fee.
    let mut mp = Vec::new();
    Action::Cancel {
        cancels: Cow::Borrowed(&[CancelWire { asset: 0, oid: 300 }]),
        fast: true,
    }
    .write_msgpack(&mut mp);
    // {type: cancel, cancels: [{a: 0, o: 300}], f: true}
    assert_eq!(
        hex::encode(&mp),
        "83a474797065a663616e63656ca763616e63656c739182a16100a16fcd012ca166c3"
    );
    let mut js = Vec::new();
    Action::CancelByCloid {
        cancels: Cow::Borrowed(&[CancelByCloidWire {
            asset: 110_000,
            cloid: Cloid::from_u128(1),
        }]),
        fast: true,
    }
    .write_json(&mut js);
    assert_eq!(
        std::str::from_utf8(&js).unwrap(),
        r#"{"type":"cancelByCloid","cancels":[{"asset":110000,"cloid":"0x00000000000000000000000000000001"}],"f":true}"#
    );
    let trigger = OrderWire {
        asset: 3,
        is_buy: false,
        px: Decimal::parse("p", "99").unwrap(),
        sz: Decimal::parse("s", "0.5").unwrap(),
        reduce_only: true,
        kind: OrderKind::Trigger {
            is_market: true,
            trigger_px: Decimal::parse("triggerPx", "103").unwrap(),
            tpsl: Tpsl::Sl,
        },
        cloid: None,
    };
    let action = Action::Order {
        orders: Cow::Borrowed(&[trigger]),
        grouping: Grouping::Priority(25),
        builder: Some(BuilderFee {
            builder: Address([0xab; 20]),
            fee: 10,
        }),
    };
    let mut js = Vec::new();
    action.write_json(&mut js);
    let v: Value = serde_json::from_slice(&js).unwrap();
    let mut from_json = Vec::new();
    pack_json(&mut from_json, &v).unwrap();
    let mut typed = Vec::new();
    action.write_msgpack(&mut typed);
    assert_eq!(typed, from_json);
    assert_eq!(
        v["orders"][0]["t"]["trigger"]["triggerPx"],
        Value::from("103")
    );
    assert_eq!(v["grouping"]["p"], Value::from(25));
    assert_eq!(
        v["builder"]["b"],
        Value::from(format!("0x{}", "ab".repeat(20)))
    );
}

/// The malleable twin of a signature, (r, n - s, v flipped), recovers the same address by the
/// textbook formula; the exchange's libraries only produce low-s, so the venue must refuse it
/// (issue 13 item 8).
#[test]
fn high_s_twin_of_a_valid_signature_is_refused() {
    use k256::elliptic_curve::PrimeField;
    let all = vectors();
    let key = PrivateKey::from_hex(all["private_key"].as_str().unwrap()).unwrap();
    for v in all["vectors"].as_array().unwrap() {
        let digest = h32(v["mainnet"]["eip712_digest"].as_str().unwrap());
        let sig = key.sign_digest(&digest);
        assert_eq!(recover_address(&digest, &sig).unwrap(), key.address());
        let s = k256::Scalar::from_repr(sig.s.into()).unwrap();
        let twin = Signature {
            r: sig.r,
            s: (-s).to_repr().into(),
            v: 55 - sig.v,
        };
        let err = recover_address(&digest, &twin).unwrap_err();
        assert!(err.to_string().contains("high-s"), "{err}");
    }
}

proptest::proptest! {
    /// libsecp256k1 signs what k256 (the RustCrypto implementation the SDK vectors were first
    /// matched with) signs, byte for byte, for any key and digest: the same RFC 6979 nonce, the
    /// same low s, the same parity; and the per-call scalar signs as the key does.
    #[test]
    fn libsecp256k1_signs_as_k256_does(
        secret in proptest::array::uniform32(proptest::prelude::any::<u8>()),
        digest in proptest::array::uniform32(proptest::prelude::any::<u8>()),
    ) {
        let Ok(key) = PrivateKey::from_bytes(&secret) else {
            return Ok(()); // zero or above the curve order: no key
        };
        let sig = key.sign_digest(&digest);
        let k = k256::ecdsa::SigningKey::from_slice(&secret).unwrap();
        let (want, recid) = k.sign_prehash_recoverable(&digest);
        let (r, s) = want.split_bytes();
        proptest::prop_assert_eq!(sig.r, <[u8; 32]>::from(r));
        proptest::prop_assert_eq!(sig.s, <[u8; 32]>::from(s));
        proptest::prop_assert_eq!(sig.v, 27 + (recid.to_byte() & 1));
        proptest::prop_assert_eq!(SecretScalar::from_bytes(&secret).unwrap().sign_digest(&digest), sig);
        proptest::prop_assert_eq!(recover_address(&digest, &sig).unwrap(), key.address());
    }
}
