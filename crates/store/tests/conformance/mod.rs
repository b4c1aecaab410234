//! One body per behaviour, run against every backend through [`Harness`]: the SQLite and the
//! PostgreSQL test files each expand [`conformance_tests!`] with their own harness.

pub mod audit;
pub mod authenticated;
pub mod bookkeeping;
pub mod concurrency;
pub mod data;
pub mod snapshots;

use store::{Account, AccountStatus, Record, Store};

/// A database that tests can open stores on. Every store opened from one harness sees the same
/// data (one SQLite file, or one PostgreSQL schema); several stores model several processes.
pub trait Harness {
    /// Opens a new store on the harness's database.
    fn open(&self) -> Box<dyn Store>;

    /// Drops a table behind the stores' backs, so that statements on it fail.
    fn drop_table(&self, table: &str);

    /// Runs SQL on the database behind the stores' backs (an operator editing rows).
    fn sql(&self, statements: &str);
}

/// Expands to one `#[test]` per conformance body, each with a fresh harness from `$harness`.
macro_rules! conformance_tests {
    ($harness:expr) => {
        conformance_tests!(@tests $harness;
            data::accounts_crud,
            data::accounts_listing,
            data::access_keys_crud,
            data::records_modes,
            data::pairs_read_together,
            data::records_swapped_only_when_unchanged,
            data::records_listing,
            data::expected_errors_leave_the_transaction_usable,
            data::rollback_on_drop,
            data::reads_see_one_snapshot,
            data::schema_is_current,
            data::nul_characters_are_refused,
            audit::effect_and_event_are_atomic,
            audit::roots_match_recomputation,
            audit::batched_appends_match_single_ones,
            audit::logs_are_per_account,
            audit::checkpoints,
            bookkeeping::blob_deletions_are_queued_once_and_listed_oldest_first,
            bookkeeping::leases_are_taken_when_free_expired_or_held,
            bookkeeping::node_settings_are_written_as_asked,
        );
        conformance_tests!(@harness_tests $harness;
            concurrency::concurrent_appends_are_linear,
            concurrency::read_modify_write_loses_no_update,
            concurrency::read_modify_write_of_an_absent_record_loses_no_update,
            concurrency::a_shared_read_holds_the_record_against_updates,
            data::a_failed_statement_fails_the_commit,
            authenticated::rows_written_through_it_read_back,
            authenticated::edited_rows_are_refused,
            authenticated::rows_without_macs_are_bound_once,
            authenticated::rows_put_back_as_they_were_are_refused,
            authenticated::rows_deleted_or_manifests_edited_are_refused,
            authenticated::concurrent_writers_see_no_false_rollback,
            authenticated::audit_rows_are_sealed,
            authenticated::audit_logs_without_macs_are_bound_once,
            bookkeeping::one_node_of_many_takes_a_lease,
            bookkeeping::bookkeeping_passes_through_authenticated_stores,
            snapshots::a_dropped_read_leaves_no_snapshot_behind,
            snapshots::maintain_leaves_the_store_usable,
            snapshots::transactions_that_run_nothing_change_nothing,
            snapshots::rereads_see_the_transactions_own_state,
        );
    };
    (@tests $harness:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let harness = $harness;
                let store = $crate::conformance::Harness::open(&harness);
                $crate::conformance::$module::$name(&*store);
            }
        )*
    };
    (@harness_tests $harness:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let harness = $harness;
                $crate::conformance::$module::$name(&harness);
            }
        )*
    };
}

/// Account `n` as a 12-digit id.
pub fn account_id(n: u32) -> String {
    format!("{:012}", 100_000_000_000u64 + u64::from(n))
}

/// An active account named `name-<n>`.
pub fn account(n: u32) -> Account {
    Account {
        mac: Vec::new(),
        id: account_id(n),
        name: format!("name-{n}"),
        status: AccountStatus::Active,
        created_at_ms: 1_700_000_000_000 + i64::from(n),
    }
}

/// A record of `kind` and `key` in `account` with a small body naming it.
pub fn record(account: &str, kind: &str, key: &str) -> Record {
    Record {
        mac: Vec::new(),
        account: account.to_owned(),
        kind: kind.to_owned(),
        key: key.to_owned(),
        format_version: 1,
        body: serde_json::json!({ "name": key, "tags": [1, 2, 3], "nested": { "ok": true } }),
        updated_at_ms: 1_700_000_000_000,
    }
}
