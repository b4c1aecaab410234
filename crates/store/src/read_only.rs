//! [`ReadOnly`]: a read-only transaction that can stand where a [`Tx`] is expected, so that code
//! written against `Tx` can serve reads from a snapshot without taking the write lock. Every
//! write fails with [`StoreError::InvalidInput`] (a read path that tries to write is refused,
//! never silently dropped) and `commit` only ends the snapshot.

use std::ops::Range;

use crate::{
    AccessKey, AccessKeyStatus, Account, AccountStatus, AuditEvent, AuditHeadRow, AuditSeal,
    BlobGarbage, Checkpoint, Hash, Page, PutMode, ReadTx, Record, RecordQuery, RowId, StoreError,
    Tx,
};

/// A read-only transaction usable as a [`Tx`].
pub struct ReadOnly<'a>(pub Box<dyn ReadTx + 'a>);

impl std::fmt::Debug for ReadOnly<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadOnly")
    }
}

fn refused() -> StoreError {
    StoreError::InvalidInput("a read-only transaction cannot write".into())
}

impl ReadTx for ReadOnly<'_> {
    fn get_account(&mut self, id: &str) -> Result<Option<Account>, StoreError> {
        self.0.get_account(id)
    }
    fn get_account_by_name(&mut self, name: &str) -> Result<Option<Account>, StoreError> {
        self.0.get_account_by_name(name)
    }
    fn list_accounts(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Account>, StoreError> {
        self.0.list_accounts(after, limit)
    }
    fn get_access_key(&mut self, access_key_id: &str) -> Result<Option<AccessKey>, StoreError> {
        self.0.get_access_key(access_key_id)
    }
    fn list_all_access_keys(
        &mut self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AccessKey>, StoreError> {
        self.0.list_all_access_keys(after, limit)
    }
    fn list_access_keys(
        &mut self,
        account: &str,
        owner_kind: &str,
        owner_key: &str,
    ) -> Result<Vec<AccessKey>, StoreError> {
        self.0.list_access_keys(account, owner_kind, owner_key)
    }
    fn unauthenticated_records(&mut self, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.0.unauthenticated_records(limit)
    }
    fn has_authenticated_rows(&mut self) -> Result<bool, StoreError> {
        self.0.has_authenticated_rows()
    }
    fn record_kinds(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        self.0.record_kinds()
    }
    fn get_record_pair(
        &mut self,
        account: &str,
        first: (&str, &str),
        second: (&str, &str),
    ) -> Result<(Option<Record>, Option<Record>), StoreError> {
        self.0.get_record_pair(account, first, second)
    }
    fn get_access_key_and_record(
        &mut self,
        access_key_id: &str,
        record: (&str, &str),
    ) -> Result<crate::KeyAndRecord, StoreError> {
        self.0.get_access_key_and_record(access_key_id, record)
    }
    fn get_record(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        self.0.get_record(account, kind, key)
    }
    fn list_records(&mut self, query: &RecordQuery<'_>) -> Result<Page<Record>, StoreError> {
        self.0.list_records(query)
    }
    fn audit_head_row(&mut self, account: &str) -> Result<Option<AuditHeadRow>, StoreError> {
        self.0.audit_head_row(account)
    }
    fn audit_events(
        &mut self,
        account: &str,
        seqs: Range<u64>,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.0.audit_events(account, seqs)
    }
    fn audit_subtree(
        &mut self,
        account: &str,
        level: u8,
        index: u64,
    ) -> Result<Option<Hash>, StoreError> {
        self.0.audit_subtree(account, level, index)
    }
    fn list_checkpoints(
        &mut self,
        account: &str,
        from_size: u64,
        limit: usize,
    ) -> Result<Page<Checkpoint>, StoreError> {
        self.0.list_checkpoints(account, from_size, limit)
    }
    fn latest_checkpoint(&mut self, account: &str) -> Result<Option<Checkpoint>, StoreError> {
        self.0.latest_checkpoint(account)
    }
    fn due_blob_deletions(
        &mut self,
        before_ms: i64,
        limit: usize,
    ) -> Result<Vec<BlobGarbage>, StoreError> {
        self.0.due_blob_deletions(before_ms, limit)
    }
    fn queued_blob_deletions(&mut self, account: &str) -> Result<Vec<String>, StoreError> {
        self.0.queued_blob_deletions(account)
    }
    fn node_setting(&mut self, name: &str) -> Result<Option<String>, StoreError> {
        self.0.node_setting(name)
    }
}

impl Tx for ReadOnly<'_> {
    fn get_record_for_update(
        &mut self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<Record>, StoreError> {
        // Nothing will be written, so a plain read is enough.
        self.0.get_record(account, kind, key)
    }
    fn create_account(&mut self, _: &Account) -> Result<(), StoreError> {
        Err(refused())
    }
    fn set_account_status(&mut self, _: &str, _: AccountStatus) -> Result<(), StoreError> {
        Err(refused())
    }
    fn insert_access_key(&mut self, _: &AccessKey) -> Result<(), StoreError> {
        Err(refused())
    }
    fn set_access_key_secret(&mut self, _: &str, _: &[u8]) -> Result<(), StoreError> {
        Err(refused())
    }
    fn set_access_key_status(&mut self, _: &str, _: AccessKeyStatus) -> Result<(), StoreError> {
        Err(refused())
    }
    fn set_access_key_last_used(
        &mut self,
        _: &str,
        _: i64,
        _: &str,
        _: &str,
    ) -> Result<(), StoreError> {
        Err(refused())
    }
    fn delete_access_key(&mut self, _: &str) -> Result<(), StoreError> {
        Err(refused())
    }
    fn put_record(&mut self, _: &Record, _: PutMode) -> Result<(), StoreError> {
        Err(refused())
    }
    fn set_mac(&mut self, _: RowId<'_>, _: &[u8]) -> Result<(), StoreError> {
        Err(refused())
    }
    fn delete_record(&mut self, _: &str, _: &str, _: &str) -> Result<(), StoreError> {
        Err(refused())
    }
    fn append_events_sealed(
        &mut self,
        _: &str,
        _: &[(&[u8], Hash)],
        _: &dyn AuditSeal,
    ) -> Result<u64, StoreError> {
        Err(refused())
    }
    fn insert_checkpoint(&mut self, _: &Checkpoint) -> Result<(), StoreError> {
        Err(refused())
    }
    fn queue_blob_deletions(&mut self, _: &[(String, String)], _: i64) -> Result<(), StoreError> {
        Err(refused())
    }
    fn forget_blob_deletion(&mut self, _: &str, _: &str) -> Result<(), StoreError> {
        Err(refused())
    }
    fn try_lease(&mut self, _: &str, _: &str, _: i64, _: i64) -> Result<bool, StoreError> {
        Err(refused())
    }
    fn release_lease(&mut self, _: &str, _: &str) -> Result<(), StoreError> {
        Err(refused())
    }
    fn put_node_setting(&mut self, _: &str, _: &str, _: PutMode) -> Result<(), StoreError> {
        Err(refused())
    }
    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SqliteStore, Store};

    #[test]
    fn reads_pass_through_and_writes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("r.db")).unwrap();
        let record = Record {
            mac: Vec::new(),
            account: "123456789012".into(),
            kind: "user".into(),
            key: "alice".into(),
            format_version: 1,
            body: serde_json::json!({ "UserName": "alice" }),
            updated_at_ms: 1,
        };
        let mut tx = store.begin().unwrap();
        tx.create_account(&Account {
            mac: Vec::new(),
            id: "123456789012".into(),
            name: "acme".into(),
            status: AccountStatus::Active,
            created_at_ms: 1,
        })
        .unwrap();
        tx.put_record(&record, PutMode::Create).unwrap();
        tx.commit().unwrap();

        let mut ro: Box<dyn Tx + '_> = Box::new(ReadOnly(store.read().unwrap()));
        assert_eq!(ro.get_record("123456789012", "user", "alice").unwrap(), Some(record.clone()));
        assert_eq!(
            ro.get_record_for_update("123456789012", "user", "alice").unwrap(),
            Some(record.clone())
        );
        assert!(matches!(
            ro.put_record(&record, PutMode::Update),
            Err(StoreError::InvalidInput(_))
        ));
        assert!(matches!(
            ro.delete_record("123456789012", "user", "alice"),
            Err(StoreError::InvalidInput(_))
        ));
        assert!(matches!(
            ro.append_event("123456789012", b"e", &[0; 32]),
            Err(StoreError::InvalidInput(_))
        ));
        ro.commit().unwrap();
        assert!(store
            .read()
            .unwrap()
            .get_record("123456789012", "user", "alice")
            .unwrap()
            .is_some());
    }
}
