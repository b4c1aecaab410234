//! [`Authenticated`]: a [`Store`] in front of another that gives every account, access-key and
//! record row a MAC on write and refuses, on read, every row whose MAC does not match: a row
//! edited, moved to another account, name or kind, or copied from elsewhere in the database.
//!
//! The MAC covers everything about a row that decides what it grants: an account's id, name,
//! status and creation time; an access key's id, account, owner, status, wrapped secret and
//! creation time (not when it was last used); a record's account, kind, key, format version,
//! write time and body. The key is the caller's ([`RowKey`]); the store never holds it.
//!
//! What a MAC per row does not show: a row deleted, or a whole row put back as it was at an
//! earlier write (its MAC was valid then). `docs/SECURITY.md` says what covers those.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use subtle::ConstantTimeEq;

use crate::{
    AccessKey, AccessKeyStatus, Account, AccountStatus, AuditEvent, AuditHead, Checkpoint, Hash,
    Page, PutMode, ReadTx, Record, RecordQuery, RowId, Store, StoreError, Tx,
};

/// The version byte that starts every stored MAC.
const MAC_VERSION: u8 = 1;
/// Rows bound per transaction by [`Authenticated::bind_unauthenticated`].
const BIND_BATCH: usize = 500;

/// A keyed MAC (HMAC-SHA-256 in the server): the key never leaves the implementation.
pub trait RowKey: Send + Sync {
    /// The 32-byte tag of `message`.
    fn tag(&self, message: &[u8]) -> [u8; 32];
}

/// A store whose rows carry MACs under a [`RowKey`].
pub struct Authenticated {
    inner: Arc<dyn Store>,
    key: Arc<dyn RowKey>,
}

impl std::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated").field("backend", &self.inner.backend()).finish()
    }
}

impl Authenticated {
    /// Puts `key`'s MACs in front of `inner`.
    #[must_use]
    pub fn new(inner: Arc<dyn Store>, key: Arc<dyn RowKey>) -> Authenticated {
        Authenticated { inner, key }
    }

    /// Gives every row that has no MAC one, as it stands now, and returns how many rows of
    /// each account it bound (the operator realm included). For a database written before
    /// rows had MACs; whoever calls it vouches for the rows it binds.
    ///
    /// # Errors
    /// Any store error; rows bound by batches already committed stay bound.
    pub fn bind_unauthenticated(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut bound: BTreeMap<String, u64> = BTreeMap::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.inner.read()?.list_accounts(after.as_deref(), BIND_BATCH)?;
            let mut tx = self.inner.begin()?;
            for a in page.items.iter().filter(|a| a.mac.is_empty()) {
                tx.set_mac(RowId::Account(&a.id), &seal(&*self.key, &account_message(a)))?;
                *bound.entry(a.id.clone()).or_default() += 1;
            }
            tx.commit()?;
            after = page.items.last().map(|a| a.id.clone());
            if !page.truncated {
                break;
            }
        }
        let mut after: Option<String> = None;
        loop {
            let keys = self.inner.read()?.list_all_access_keys(after.as_deref(), BIND_BATCH)?;
            let mut tx = self.inner.begin()?;
            for k in keys.iter().filter(|k| k.mac.is_empty()) {
                let mac = seal(&*self.key, &access_key_message(k));
                tx.set_mac(RowId::AccessKey(&k.access_key_id), &mac)?;
                *bound.entry(k.account.clone()).or_default() += 1;
            }
            tx.commit()?;
            after = keys.last().map(|k| k.access_key_id.clone());
            if keys.len() < BIND_BATCH {
                break;
            }
        }
        loop {
            let mut tx = self.inner.begin()?;
            let records = tx.unauthenticated_records(BIND_BATCH)?;
            for r in &records {
                let row = RowId::Record { account: &r.account, kind: &r.kind, key: &r.key };
                tx.set_mac(row, &seal(&*self.key, &record_message(r)?))?;
                *bound.entry(r.account.clone()).or_default() += 1;
            }
            tx.commit()?;
            if records.len() < BIND_BATCH {
                break;
            }
        }
        Ok(bound)
    }
}

impl Store for Authenticated {
    fn begin(&self) -> Result<Box<dyn Tx + '_>, StoreError> {
        Ok(Box::new(Checked { inner: self.inner.begin()?, key: &*self.key }))
    }

    fn read(&self) -> Result<Box<dyn ReadTx + '_>, StoreError> {
        Ok(Box::new(Checked { inner: self.inner.read()?, key: &*self.key }))
    }

    fn schema_version(&self) -> Result<u32, StoreError> {
        self.inner.schema_version()
    }

    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
}

/// A transaction of [`Authenticated`]: `B` is the backend's `Box<dyn Tx>` or `Box<dyn ReadTx>`.
struct Checked<'a, B> {
    inner: B,
    key: &'a dyn RowKey,
}

/// Appends a length-prefixed field.
fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn message(row: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + fields.iter().map(|f| f.len() + 8).sum::<usize>());
    out.extend_from_slice(b"hermetic-row-mac/v1\0");
    field(&mut out, row.as_bytes());
    for f in fields {
        field(&mut out, f);
    }
    out
}

fn account_message(a: &Account) -> Vec<u8> {
    message(
        "account",
        &[
            a.id.as_bytes(),
            a.name.as_bytes(),
            a.status.as_str().as_bytes(),
            &a.created_at_ms.to_be_bytes(),
        ],
    )
}

fn access_key_message(k: &AccessKey) -> Vec<u8> {
    message(
        "access_key",
        &[
            k.access_key_id.as_bytes(),
            k.account.as_bytes(),
            k.owner_kind.as_bytes(),
            k.owner_key.as_bytes(),
            k.status.as_str().as_bytes(),
            &k.secret_wrapped,
            &k.created_at_ms.to_be_bytes(),
        ],
    )
}

fn record_message(r: &Record) -> Result<Vec<u8>, StoreError> {
    // serde_json's maps are ordered by key, so a body serializes to the same bytes each time.
    let body = serde_json::to_vec(&r.body)
        .map_err(|e| StoreError::InvalidInput(format!("record body: {e}")))?;
    Ok(message(
        "record",
        &[
            r.account.as_bytes(),
            r.kind.as_bytes(),
            r.key.as_bytes(),
            &r.format_version.to_be_bytes(),
            &r.updated_at_ms.to_be_bytes(),
            &body,
        ],
    ))
}

fn seal(key: &dyn RowKey, message: &[u8]) -> Vec<u8> {
    let mut mac = Vec::with_capacity(33);
    mac.push(MAC_VERSION);
    mac.extend_from_slice(&key.tag(message));
    mac
}

fn verify(key: &dyn RowKey, message: &[u8], mac: &[u8]) -> bool {
    match mac.split_first() {
        Some((&MAC_VERSION, tag)) => bool::from(key.tag(message).as_slice().ct_eq(tag)),
        _ => false,
    }
}

fn forged(account: &str, row: String) -> StoreError {
    StoreError::Forged { account: account.to_owned(), row }
}

impl<B> Checked<'_, B> {
    fn account(&self, a: Account) -> Result<Account, StoreError> {
        if verify(self.key, &account_message(&a), &a.mac) {
            Ok(a)
        } else {
            Err(forged(&a.id, format!("account {}", a.id)))
        }
    }

    fn access_key(&self, k: AccessKey) -> Result<AccessKey, StoreError> {
        if verify(self.key, &access_key_message(&k), &k.mac) {
            Ok(k)
        } else {
            Err(forged(&k.account, format!("access key {}", k.access_key_id)))
        }
    }

    fn record(&self, r: Record) -> Result<Record, StoreError> {
        if verify(self.key, &record_message(&r)?, &r.mac) {
            Ok(r)
        } else {
            Err(forged(&r.account, format!("record {} {}", r.kind, r.key)))
        }
    }

    fn records(&self, rs: Vec<Record>) -> Result<Vec<Record>, StoreError> {
        rs.into_iter().map(|r| self.record(r)).collect()
    }
}

/// The reads of [`Checked`], the same for a read-only and a read-write transaction.
macro_rules! checked_reads {
    () => {
        fn get_account(&mut self, id: &str) -> Result<Option<Account>, StoreError> {
            self.inner.get_account(id)?.map(|a| self.account(a)).transpose()
        }

        fn get_account_by_name(&mut self, name: &str) -> Result<Option<Account>, StoreError> {
            self.inner.get_account_by_name(name)?.map(|a| self.account(a)).transpose()
        }

        fn list_accounts(
            &mut self,
            after: Option<&str>,
            limit: usize,
        ) -> Result<Page<Account>, StoreError> {
            let page = self.inner.list_accounts(after, limit)?;
            let items =
                page.items.into_iter().map(|a| self.account(a)).collect::<Result<_, _>>()?;
            Ok(Page { items, truncated: page.truncated })
        }

        fn get_access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
            self.inner.get_access_key(access_key_id)?.map(|k| self.access_key(k)).transpose()
        }

        fn list_access_keys(
            &mut self,
            account: &str,
            owner_kind: &str,
            owner_key: &str,
        ) -> Result<Vec<AccessKey>, StoreError> {
            let keys = self.inner.list_access_keys(account, owner_kind, owner_key)?;
            keys.into_iter().map(|k| self.access_key(k)).collect()
        }

        fn list_all_access_keys(
            &mut self,
            after: Option<&str>,
            limit: usize,
        ) -> Result<Vec<AccessKey>, StoreError> {
            let keys = self.inner.list_all_access_keys(after, limit)?;
            keys.into_iter().map(|k| self.access_key(k)).collect()
        }

        fn get_record(
            &mut self,
            account: &str,
            kind: &str,
            key: &str,
        ) -> Result<Option<Record>, StoreError> {
            self.inner.get_record(account, kind, key)?.map(|r| self.record(r)).transpose()
        }

        fn list_records(&mut self, query: &RecordQuery<'_>) -> Result<Page<Record>, StoreError> {
            let page = self.inner.list_records(query)?;
            Ok(Page { items: self.records(page.items)?, truncated: page.truncated })
        }

        fn unauthenticated_records(&mut self, limit: usize) -> Result<Vec<Record>, StoreError> {
            // Unchecked by definition: they are the rows that have no MAC.
            self.inner.unauthenticated_records(limit)
        }

        fn has_authenticated_rows(&mut self) -> Result<bool, StoreError> {
            self.inner.has_authenticated_rows()
        }

        fn audit_head(&mut self, account: &str) -> Result<AuditHead, StoreError> {
            self.inner.audit_head(account)
        }

        fn audit_events(
            &mut self,
            account: &str,
            seqs: Range<u64>,
        ) -> Result<Vec<AuditEvent>, StoreError> {
            self.inner.audit_events(account, seqs)
        }

        fn audit_subtree(
            &mut self,
            account: &str,
            level: u8,
            index: u64,
        ) -> Result<Option<Hash>, StoreError> {
            self.inner.audit_subtree(account, level, index)
        }

        fn list_checkpoints(
            &mut self,
            account: &str,
            from_size: u64,
            limit: usize,
        ) -> Result<Page<Checkpoint>, StoreError> {
            self.inner.list_checkpoints(account, from_size, limit)
        }

        fn latest_checkpoint(&mut self, account: &str) -> Result<Option<Checkpoint>, StoreError> {
            self.inner.latest_checkpoint(account)
        }
    };
}

impl<'a> ReadTx for Checked<'_, Box<dyn ReadTx + 'a>> {
    checked_reads!();
}

impl<'a> ReadTx for Checked<'_, Box<dyn Tx + 'a>> {
    checked_reads!();
}

impl<'a> Tx for Checked<'_, Box<dyn Tx + 'a>> {
    fn get_record_for_update(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        self.inner.get_record_for_update(account, kind, key)?.map(|r| self.record(r)).transpose()
    }

    fn get_record_for_share(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        self.inner.get_record_for_share(account, kind, key)?.map(|r| self.record(r)).transpose()
    }

    fn create_account(&mut self, account: &Account) -> Result<(), StoreError> {
        let mac = seal(self.key, &account_message(account));
        self.inner.create_account(&Account { mac, ..account.clone() })
    }

    fn set_account_status(&mut self, id: &str, status: AccountStatus) -> Result<(), StoreError> {
        // The row is checked before it changes: a status change never vouches for an edit.
        let current = self.get_account(id)?.ok_or(StoreError::NotFound)?;
        self.inner.set_account_status(id, status)?;
        let mac = seal(self.key, &account_message(&Account { status, ..current }));
        self.inner.set_mac(RowId::Account(id), &mac)
    }

    fn insert_access_key(&mut self, key: &AccessKey) -> Result<(), StoreError> {
        let mac = seal(self.key, &access_key_message(key));
        self.inner.insert_access_key(&AccessKey { mac, ..key.clone() })
    }

    fn set_access_key_status(
        &mut self,
        access_key_id: &str,
        status: AccessKeyStatus,
    ) -> Result<(), StoreError> {
        let current = self.get_access_key(access_key_id)?.ok_or(StoreError::NotFound)?;
        self.inner.set_access_key_status(access_key_id, status)?;
        let mac = seal(self.key, &access_key_message(&AccessKey { status, ..current }));
        self.inner.set_mac(RowId::AccessKey(access_key_id), &mac)
    }

    fn set_access_key_secret(
        &mut self,
        access_key_id: &str,
        secret_wrapped: &[u8],
    ) -> Result<(), StoreError> {
        let current = self.get_access_key(access_key_id)?.ok_or(StoreError::NotFound)?;
        self.inner.set_access_key_secret(access_key_id, secret_wrapped)?;
        let changed = AccessKey { secret_wrapped: secret_wrapped.to_vec(), ..current };
        let mac = seal(self.key, &access_key_message(&changed));
        self.inner.set_mac(RowId::AccessKey(access_key_id), &mac)
    }

    fn set_access_key_last_used(
        &mut self,
        access_key_id: &str,
        at_ms: i64,
        service: &str,
        region: &str,
    ) -> Result<(), StoreError> {
        // Not covered by the MAC: it grants nothing.
        self.inner.set_access_key_last_used(access_key_id, at_ms, service, region)
    }

    fn delete_access_key(&mut self, access_key_id: &str) -> Result<(), StoreError> {
        self.inner.delete_access_key(access_key_id)
    }

    fn put_record(&mut self, record: &Record, mode: PutMode) -> Result<(), StoreError> {
        let mac = seal(self.key, &record_message(record)?);
        self.inner.put_record(&Record { mac, ..record.clone() }, mode)
    }

    fn set_mac(&mut self, _row: RowId<'_>, _mac: &[u8]) -> Result<(), StoreError> {
        Err(StoreError::InvalidInput("MACs are written by the authenticating store only".into()))
    }

    fn delete_record(&mut self, account: &str, kind: &str, key: &str) -> Result<(), StoreError> {
        self.inner.delete_record(account, kind, key)
    }

    fn append_event(
        &mut self,
        account: &str,
        event: &[u8],
        leaf_hash: &Hash,
    ) -> Result<u64, StoreError> {
        self.inner.append_event(account, event, leaf_hash)
    }

    fn append_events(
        &mut self,
        account: &str,
        events: &[(&[u8], Hash)],
    ) -> Result<u64, StoreError> {
        self.inner.append_events(account, events)
    }

    fn insert_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        self.inner.insert_checkpoint(checkpoint)
    }

    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.inner.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Xor;
    impl RowKey for Xor {
        fn tag(&self, message: &[u8]) -> [u8; 32] {
            let mut out = [0u8; 32];
            for (i, b) in message.iter().enumerate() {
                out[i % 32] ^= b.wrapping_add(i as u8);
            }
            out
        }
    }

    #[test]
    fn fields_are_length_prefixed() {
        assert_ne!(message("r", &[b"ab", b"c"]), message("r", &[b"a", b"bc"]));
        assert_ne!(message("account", &[b"x"]), message("record", &[b"x"]));
    }

    #[test]
    fn a_mac_checks_only_its_own_message() {
        let mac = seal(&Xor, b"one");
        assert!(verify(&Xor, b"one", &mac));
        assert!(!verify(&Xor, b"two", &mac));
        assert!(!verify(&Xor, b"one", &mac[1..]));
        assert!(!verify(&Xor, b"one", &[]));
    }
}
