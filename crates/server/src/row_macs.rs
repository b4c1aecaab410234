//! The key behind every row's MAC ([`store::Authenticated`]): 32 random bytes, wrapped by the
//! root of trust and kept in the operator realm (one key for every server on a database), so
//! that whoever can write the database but not use the root of trust cannot make a row the
//! server accepts.
//!
//! Rows that have no MAC (written before MACs existed) are bound once, when the key is made;
//! each account whose rows were bound gets an event in its own log saying how many, so that a
//! binding the tenant did not expect (an operator who deleted the key to have edited rows bound)
//! is visible to the tenant. Once bound, a row without a valid MAC is refused, never re-bound.
//!
//! Audit logs written before audit events and heads carried MACs are bound once, the same way
//! (`store::Authenticated::bind_audit_log`), each account told in its log.
//!
//! Each account's manifest (`store::Authenticated::build_manifests`) names the current version
//! of each of its rows, so that a row put back as it was, or deleted, is refused too. It is
//! built once from the rows as they stand, on a database that has none (one written before
//! manifests existed): each account is told in its log, as for a binding.

use std::sync::Arc;

use base64::Engine as _;
use serde_json::json;
use zeroize::Zeroizing;

use crate::pipeline::identity::OPERATOR_ACCOUNT;

/// How many rows of each account a start bound.
pub type Bound = std::collections::BTreeMap<String, u64>;

/// Where the wrapped key is stored: a record of the operator realm.
const KEY_KIND: &str = "row_mac_key";
const KEY_NAME: &str = "v1";
/// The key's record (kind, key) in the operator realm: a database that has it was opened by a
/// root of trust.
pub(crate) const KEY_RECORD: (&str, &str) = (KEY_KIND, KEY_NAME);
/// The root of trust's wrapping context for the key.
const KEY_CONTEXT: &[u8] = b"hermetic:row-mac-key/v1";

/// Record kinds the manifests leave out (their rows' MACs are still checked): objects and
/// their versions, uploads, parts and completed uploads (written at data rates; what they grant
/// is decided by the bucket's and the account's indexed records), sessions (written once, never
/// changed, and carrying their own expiry), and the row key itself (authenticated by the root's
/// wrapping).
const UNINDEXED: &[&str] = &[
    "s3_object",
    "s3_version",
    "s3_upload",
    "s3_part",
    "s3_completed_upload",
    "session",
    KEY_KIND,
];

/// HMAC-SHA-256 under the unwrapped key.
struct RowMacKey(Zeroizing<[u8; 32]>);

impl store::RowKey for RowMacKey {
    fn tag(&self, message: &[u8]) -> [u8; 32] {
        sigv4::key::hmac(self.0.as_slice(), message)
    }
}

/// Why the row key cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum RowKeyError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The root of trust would not wrap or open the key.
    #[error("the root of trust cannot open the row MAC key: {0}")]
    Root(String),
    /// The key's record is gone or unreadable while rows carry MACs made with it.
    #[error("the row MAC key is missing or malformed while rows carry MACs: the database was edited; refusing to start")]
    Missing,
}

/// Puts MACs in front of `inner`: loads the row key (making it, and binding every row that has
/// none, on a database that has no key and no MAC yet), and returns the authenticated store
/// with how many rows of each account this start bound.
///
/// # Errors
/// [`RowKeyError::Missing`] if rows carry MACs but the key is gone (fail closed: nothing is
/// served); the root of trust's or the store's failures.
pub fn authenticate(
    inner: Arc<dyn store::Store>,
    root: &dyn crypto::RootOfTrust,
    now_ms: i64,
) -> Result<(Arc<dyn store::Store>, Bound), RowKeyError> {
    let (key, pending) = load_or_make(inner.as_ref(), root, now_ms)?;
    let authenticated =
        Arc::new(store::Authenticated::new(inner.clone(), Arc::new(key)).unindexed(UNINDEXED));
    let mut bound = Bound::new();
    if pending.audit {
        // Before anything else appends (the bindings below tell tenants in their logs).
        let logs = bind_audit_logs(&authenticated, inner.as_ref())?;
        record_binding(authenticated.as_ref(), &logs, AUDIT_REASON, now_ms)?;
        for (account, events) in logs {
            *bound.entry(account).or_default() += events;
        }
    }
    if pending.binding {
        // Access keys wrapped before they were bound to their account and owner are re-wrapped
        // first, then every row gets its MAC as it stands.
        crate::bootstrap::bind_access_keys(inner.as_ref(), root)?;
        bound = authenticated.bind_unauthenticated()?;
        record_binding(authenticated.as_ref(), &bound, BINDING_REASON, now_ms)?;
    }
    if pending.binding || pending.manifests {
        let named = authenticated.build_manifests()?;
        record_binding(authenticated.as_ref(), &named, MANIFEST_REASON, now_ms)?;
        for (account, rows) in named {
            *bound.entry(account).or_default() += rows;
        }
    }
    if pending.binding || pending.manifests || pending.audit {
        let mut tx = inner.begin()?;
        if let Some(mut record) = tx.get_record_for_update(OPERATOR_ACCOUNT, KEY_KIND, KEY_NAME)? {
            record.body = json!({
                "Wrapped": record.body.get("Wrapped"),
                "Binding": false,
                "Manifests": true,
                "AuditLogs": true,
            });
            record.updated_at_ms = now_ms;
            // The key's record is outside the rows it authenticates: the root's wrapping
            // authenticates the key, and nothing it says grants anything. (An operator who
            // edits `Manifests` or `AuditLogs` away has the manifests rebuilt, or the audit logs
            // bound, as they stand: every tenant is told in its log, as here.)
            record.mac = Vec::new();
            tx.put_record(&record, store::PutMode::Update)?;
        }
        tx.commit()?;
    }
    Ok((authenticated, bound))
}

/// What a start still has to do with the key.
struct Pending {
    /// Bind rows that have no MAC.
    binding: bool,
    /// Build the accounts' manifests.
    manifests: bool,
    /// Bind audit logs whose heads have no MAC.
    audit: bool,
}

const BINDING_REASON: &str = "rows written before rows carried MACs were bound as they stood";
const MANIFEST_REASON: &str =
    "the account's manifest (which version of each row is current) was built from its rows as they stood";

const AUDIT_REASON: &str =
    "the account's audit log, written before audit events carried MACs, was bound as it stood";

/// Binds every account's audit log that has no MAC yet ([`store::Authenticated::bind_audit_log`]),
/// and returns how many events of each it bound. A log that does not hold together is left
/// unbound, so refused: its account can do nothing that must be recorded (fail closed).
fn bind_audit_logs(
    authenticated: &store::Authenticated,
    inner: &dyn store::Store,
) -> Result<Bound, store::StoreError> {
    let mut bound = Bound::new();
    // The accounts first, their reader ended: a temporary in the `for` would hold its
    // connection through the loop, and each binding takes one (with one connection, the start
    // waited for itself).
    let accounts = crate::checkpoints::accounts(inner.read()?.as_mut())?;
    for account in accounts {
        match authenticated.bind_audit_log(&account) {
            Ok(Some(events)) => {
                bound.insert(account, events);
            }
            Ok(None) => {}
            // What was found is for `hermetic trail verify`: a decoding error may quote a
            // stored value.
            Err(store::StoreError::Corrupt(_)) => tracing::error!(
                account = %account,
                "ALARM: the audit log of account {account} failed its integrity check: the log was not bound, and the account's requests are refused"
            ),
            Err(e) => return Err(e),
        }
    }
    Ok(bound)
}

/// The key, and what is still to be done with it.
fn load_or_make(
    inner: &dyn store::Store,
    root: &dyn crypto::RootOfTrust,
    now_ms: i64,
) -> Result<(RowMacKey, Pending), RowKeyError> {
    let engine = base64::engine::general_purpose::STANDARD;
    let open = |record: &store::Record| -> Result<(RowMacKey, Pending), RowKeyError> {
        let wrapped = record
            .body
            .get("Wrapped")
            .and_then(serde_json::Value::as_str)
            .and_then(|s| engine.decode(s).ok())
            .ok_or(RowKeyError::Missing)?;
        let bytes =
            root.unwrap(KEY_CONTEXT, &wrapped).map_err(|e| RowKeyError::Root(e.to_string()))?;
        let key: [u8; 32] = bytes.expose().try_into().map_err(|_| RowKeyError::Missing)?;
        let pending = Pending {
            binding: record.body.get("Binding") == Some(&json!(true)),
            manifests: record.body.get("Manifests") != Some(&json!(true)),
            audit: record.body.get("AuditLogs") != Some(&json!(true)),
        };
        Ok((RowMacKey(Zeroizing::new(key)), pending))
    };
    loop {
        let mut tx = inner.begin()?;
        if let Some(record) = tx.get_record_for_update(OPERATOR_ACCOUNT, KEY_KIND, KEY_NAME)? {
            return open(&record);
        }
        if tx.has_authenticated_rows()? {
            return Err(RowKeyError::Missing);
        }
        let mut key = Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, key.as_mut_slice());
        let wrapped =
            root.wrap(KEY_CONTEXT, key.as_slice()).map_err(|e| RowKeyError::Root(e.to_string()))?;
        let record = store::Record {
            account: OPERATOR_ACCOUNT.into(),
            kind: KEY_KIND.into(),
            key: KEY_NAME.into(),
            format_version: 1,
            body: json!({ "Wrapped": engine.encode(wrapped), "Binding": true }),
            updated_at_ms: now_ms,
            mac: Vec::new(),
        };
        match tx.put_record(&record, store::PutMode::Create).and_then(|()| tx.commit()) {
            Ok(()) => {
                return Ok((
                    RowMacKey(key),
                    Pending { binding: true, manifests: true, audit: true },
                ));
            }
            // Another server on the database made it first: use theirs.
            Err(store::StoreError::AlreadyExists) => continue,
            Err(e) if e.is_retryable() => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Tells each tenant account whose rows this start bound, in its own log.
fn record_binding(
    store: &dyn store::Store,
    bound: &Bound,
    reason: &str,
    now_ms: i64,
) -> Result<(), store::StoreError> {
    let facts = crate::pipeline::events::RequestFacts {
        request_id: crate::support::ids::uuid(),
        event_source: "hermetic.internal".into(),
        event_name: "BindStoredRows".into(),
        region: "us-east-1".into(),
        source_ip: "hermetic.internal".into(),
        time_ms: now_ms,
        ..Default::default()
    };
    for (account, rows) in bound {
        if account == OPERATOR_ACCOUNT {
            continue;
        }
        let Ok(mut event) = crate::pipeline::events::event(&facts, None, account, None, None, None)
        else {
            return Err(store::StoreError::InvalidInput("the binding event's time".into()));
        };
        event.event_type = audit::event::EventType::AwsServiceEvent;
        event.user_identity.identity_type = audit::event::IdentityType::AwsService;
        event.user_identity.invoked_by = Some("hermetic.internal".into());
        event.additional_event_data = Some(audit::event::Redacted::new(json!({
            "rowsBound": rows,
            "reason": reason,
        })));
        let mut tx = store.begin()?;
        crate::pipeline::events::append(tx.as_mut(), account, &event)
            .map_err(|e| store::StoreError::Backend(e.message))?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn append(store: &dyn store::Store, account: &str, event: &[u8]) {
        let mut tx = store.begin().unwrap();
        tx.append_event(account, event, &audit::merkle::leaf_hash(event)).unwrap();
        tx.commit().unwrap();
    }

    /// A database whose audit logs predate audit MACs (its key record has no `AuditLogs`): each
    /// log is bound at the next start and its account told; a log that does not hold together
    /// is left refused; the start after that binds nothing.
    #[test]
    fn audit_logs_are_bound_once_at_the_start_after_the_upgrade() {
        let dir = std::env::temp_dir().join(format!("hermetic-auditbind-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = crypto::RootKey::from_bytes(crypto::SecretBytes::new(vec![3; 32])).unwrap();
        let inner: Arc<dyn store::Store> =
            Arc::new(store::SqliteStore::open(dir.join("hermetic.db")).unwrap());
        let (good, bad) = ("111111111111", "222222222222");
        let mut tx = inner.begin().unwrap();
        for id in [good, bad] {
            tx.create_account(&store::Account {
                id: id.into(),
                name: id.into(),
                status: store::AccountStatus::Active,
                created_at_ms: 1,
                mac: Vec::new(),
            })
            .unwrap();
        }
        tx.commit().unwrap();
        // The first start makes the key (and binds the accounts); then, as an older build
        // would, the key record loses `AuditLogs` and events are appended without MACs.
        authenticate(inner.clone(), &root, 5).unwrap();
        let mut tx = inner.begin().unwrap();
        let mut record = tx.get_record_for_update(OPERATOR_ACCOUNT, KEY_KIND, KEY_NAME).unwrap();
        let record = record.as_mut().unwrap();
        record.body.as_object_mut().unwrap().remove("AuditLogs");
        tx.put_record(record, store::PutMode::Update).unwrap();
        tx.commit().unwrap();
        let before_good = inner.read().unwrap().audit_head(good).unwrap().size;
        for account in [good, bad] {
            append(inner.as_ref(), account, b"{\"eventName\":\"old\"}");
            append(inner.as_ref(), account, b"{\"eventName\":\"older\"}");
        }
        // `bad`'s log does not hold together: an event that does not hash to its leaf.
        let mut tx = inner.begin().unwrap();
        tx.append_event(bad, b"{}", &audit::merkle::leaf_hash(b"{\"other\":1}")).unwrap();
        tx.commit().unwrap();

        let (store, bound) = authenticate(inner.clone(), &root, 6).unwrap();
        assert_eq!(bound.get(good), Some(&(before_good + 2)));
        assert_eq!(bound.get(bad), None);
        let mut r = store.read().unwrap();
        // Bound, then told: the binding event follows the old events.
        let head = r.audit_head(good).unwrap();
        assert_eq!(head.size, before_good + 3);
        let told = r.audit_events(good, head.size - 1..head.size).unwrap();
        let told = String::from_utf8(told[0].event.clone()).unwrap();
        assert!(told.contains("BindStoredRows") && told.contains(AUDIT_REASON), "{told}");
        assert!(matches!(r.audit_head(bad), Err(store::StoreError::Forged { .. })));
        drop(r);
        // Nothing is bound again.
        let (_, bound) = authenticate(inner.clone(), &root, 7).unwrap();
        assert!(bound.is_empty(), "{bound:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
