#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! CloudTrail event records: canonical leaf encodings from `tests/data/events.json`, redaction of
//! secret-bearing keys at any depth, and CloudTrail's field spellings.

use audit::event::{
    is_secret_key, redact, EventCategory, EventError, EventRecord, EventTime, EventType,
    IdentityType, Redacted, SessionAttributes, SessionContext, SessionIssuer, TlsDetails,
    UserIdentity, EVENT_VERSION,
};
use audit::merkle::leaf_hash;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    input: Value,
    canonical: String,
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/events.json");
    serde_json::from_str::<Cases>(&std::fs::read_to_string(path).unwrap()).unwrap().cases
}

#[test]
fn records_encode_canonically() {
    for c in cases() {
        let record: EventRecord = serde_json::from_value(c.input.clone()).unwrap();
        let bytes = record.canonical_bytes().unwrap();
        assert_eq!(String::from_utf8(bytes.clone()).unwrap(), c.canonical, "{}", c.name);
        assert_eq!(record.leaf_hash().unwrap(), leaf_hash(c.canonical.as_bytes()), "{}", c.name);
        // The canonical form decodes back to the same record; any other form is refused.
        assert_eq!(EventRecord::from_canonical_bytes(&bytes).unwrap(), record, "{}", c.name);
        let pretty = serde_json::to_vec_pretty(&c.input).unwrap();
        assert_eq!(
            EventRecord::from_canonical_bytes(&pretty),
            Err(EventError::NotCanonical),
            "{}",
            c.name
        );
    }
}

#[test]
fn a_record_built_in_code_matches_its_vector() {
    let record = EventRecord {
        event_version: EVENT_VERSION.to_owned(),
        user_identity: UserIdentity {
            identity_type: IdentityType::AssumedRole,
            principal_id: Some("AROAEXAMPLEID:alice".into()),
            arn: Some("arn:aws:sts::111122223333:assumed-role/Admin/alice".into()),
            account_id: Some("111122223333".into()),
            access_key_id: Some("ASIAEXAMPLEKEY".into()),
            user_name: None,
            session_context: Some(SessionContext {
                session_issuer: Some(SessionIssuer {
                    issuer_type: Some("Role".into()),
                    principal_id: Some("AROAEXAMPLEID".into()),
                    arn: Some("arn:aws:iam::111122223333:role/Admin".into()),
                    account_id: Some("111122223333".into()),
                    user_name: Some("Admin".into()),
                }),
                web_id_federation_data: None,
                attributes: Some(SessionAttributes {
                    creation_date: EventTime::parse("2024-05-01T09:00:00Z").unwrap(),
                    mfa_authenticated: true,
                }),
                source_identity: None,
            }),
            invoked_by: None,
        },
        event_time: EventTime::from_unix_millis(1_714_554_942_999).unwrap(),
        event_source: "iam.amazonaws.com".into(),
        event_name: "CreateUser".into(),
        aws_region: "us-east-1".into(),
        source_ip_address: "203.0.113.7".into(),
        user_agent: Some("aws-cli/2.15.0".into()),
        error_code: None,
        error_message: None,
        request_parameters: Some(Redacted::new(
            json!({"userName": "bob", "path": "/", "tags": [{"key": "team", "value": "eng"}]}),
        )),
        response_elements: Some(Redacted::new(json!({"user": {
            "path": "/", "userName": "bob", "userId": "AIDAEXAMPLEBOB",
            "arn": "arn:aws:iam::111122223333:user/bob", "createDate": "May 1, 2024, 9:15:42 AM"
        }}))),
        additional_event_data: None,
        request_id: Some("0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b".into()),
        event_id: "6f9f3f1e-9d1c-4a55-8a0f-3e2c1b0a9d01".into(),
        read_only: Some(false),
        resources: None,
        event_type: EventType::AwsApiCall,
        api_version: None,
        management_event: true,
        recipient_account_id: "111122223333".into(),
        shared_event_id: None,
        vpc_endpoint_id: None,
        event_category: EventCategory::Management,
        tls_details: Some(TlsDetails {
            tls_version: "TLSv1.3".into(),
            cipher_suite: "TLS_AES_128_GCM_SHA256".into(),
            client_provided_host_header: "iam.amazonaws.com".into(),
        }),
    };
    let want = &cases()[0].canonical;
    assert_eq!(String::from_utf8(record.canonical_bytes().unwrap()).unwrap(), *want);
}

#[test]
fn cloudtrail_spellings_and_strict_values() {
    let c = &cases()[0];
    let mut v = c.input.clone();
    v["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"] = json!(true);
    assert!(serde_json::from_value::<EventRecord>(v).is_err(), "mfaAuthenticated is a string");
    let mut v = c.input.clone();
    v["eventTime"] = json!("2024-05-01T09:15:42.123Z");
    assert!(serde_json::from_value::<EventRecord>(v).is_err(), "second precision");
    let mut v = c.input.clone();
    v["eventCategory"] = json!("Everything");
    assert!(serde_json::from_value::<EventRecord>(v).is_err());
    for (t, spelled) in [
        (IdentityType::IamUser, "IAMUser"),
        (IdentityType::AwsService, "AWSService"),
        (IdentityType::AwsAccount, "AWSAccount"),
        (IdentityType::AssumedRole, "AssumedRole"),
        (IdentityType::Root, "Root"),
    ] {
        assert_eq!(serde_json::to_value(t).unwrap(), json!(spelled));
    }
}

#[test]
fn deserializing_redacts_too() {
    let mut v = cases()[1].input.clone();
    v["responseElements"]["credentials"]["SessionToken"] = json!("leak");
    let record: EventRecord = serde_json::from_value(v).unwrap();
    let text = String::from_utf8(record.canonical_bytes().unwrap()).unwrap();
    for secret in ["wJalr", "FwoG", "leak", "123456", "ecretAccessKey", "essionToken", "tokenCode"]
    {
        assert!(!text.contains(secret), "{secret} survived");
    }
}

/// Keys drawn to hit the secret list often: exact names in any case, secret suffixes on
/// innocent stems, and innocent keys.
fn key() -> impl Strategy<Value = String> {
    let stems =
        prop::sample::select(vec!["", "session", "client", "new", "user", "bucket", "next"]);
    let tails = prop::sample::select(vec![
        "SecretAccessKey",
        "Token",
        "Secret",
        "Password",
        "Plaintext",
        "Name",
        "Id",
        "Key",
        "Arn",
        "tokens",
        "SecretString",
        "TokenCode",
        "PrivateKey",
        "secretId",
    ]);
    (stems, tails, any::<bool>()).prop_map(|(s, t, upper)| {
        let k = format!("{s}{t}");
        if upper {
            k.to_uppercase()
        } else {
            k
        }
    })
}

fn json_tree() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn keys_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                keys_of(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| keys_of(i, out)),
        _ => {}
    }
}

proptest! {
    /// No secret-bearing key survives redaction at any depth; redaction is idempotent; and the
    /// innocent keys at the top level all survive.
    #[test]
    fn redaction_leaves_no_secret_key(tree in json_tree()) {
        let red = redact(tree.clone());
        let mut keys = Vec::new();
        keys_of(&red, &mut keys);
        prop_assert!(keys.iter().all(|k| !is_secret_key(k)), "{:?}", keys);
        prop_assert_eq!(redact(red.clone()), red.clone());
        if let (Value::Object(before), Value::Object(after)) = (&tree, &red) {
            for k in before.keys().filter(|k| !is_secret_key(k)) {
                prop_assert!(after.contains_key(k));
            }
        }
        // Serialized keys come out sorted at every level.
        let text = serde_json::to_string(&Redacted::new(tree)).unwrap();
        let reparsed: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(serde_json::to_string(&redact(reparsed)).unwrap(), text);
    }
}
