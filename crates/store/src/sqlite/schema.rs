//! The SQLite schema, as forward migrations: `MIGRATIONS[i]` takes the database from version `i`
//! to version `i + 1`. A migration, once released, never changes; a change is a new one.

/// The table that records the schema version: one row, `id = 1`.
pub(super) const VERSION_TABLE: &str = "
CREATE TABLE IF NOT EXISTS schema_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
) STRICT;
";

/// Version 1: accounts, access keys, records, the audit log and its checkpoints (ADR 004).
const V1: &str = "
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE access_keys (
    access_key_id  TEXT PRIMARY KEY NOT NULL,
    account        TEXT NOT NULL,
    owner_kind     TEXT NOT NULL,
    owner_key      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    secret_wrapped BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER
) STRICT;
CREATE INDEX access_keys_by_owner ON access_keys (account, owner_kind, owner_key, created_at);

CREATE TABLE records (
    account        TEXT NOT NULL,
    kind           TEXT NOT NULL,
    key            TEXT NOT NULL,
    format_version INTEGER NOT NULL,
    body           TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (account, kind, key)
) STRICT;

CREATE TABLE audit_events (
    account   TEXT NOT NULL,
    seq       INTEGER NOT NULL CHECK (seq >= 0),
    leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32),
    event     BLOB NOT NULL,
    PRIMARY KEY (account, seq)
) STRICT;

CREATE TABLE audit_nodes (
    account TEXT NOT NULL,
    level   INTEGER NOT NULL CHECK (level BETWEEN 1 AND 63),
    idx     INTEGER NOT NULL CHECK (idx >= 0),
    hash    BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (account, level, idx)
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_heads (
    account  TEXT PRIMARY KEY NOT NULL,
    size     INTEGER NOT NULL CHECK (size >= 0),
    root     BLOB NOT NULL CHECK (length(root) = 32),
    frontier BLOB NOT NULL
) STRICT;

CREATE TABLE audit_checkpoints (
    account TEXT NOT NULL,
    size    INTEGER NOT NULL CHECK (size >= 0),
    time_ms INTEGER NOT NULL,
    root    BLOB NOT NULL CHECK (length(root) = 32),
    note    TEXT NOT NULL,
    PRIMARY KEY (account, size, time_ms)
) STRICT;
";

/// Every migration, in order.
/// Version 2: where an access key was last used (IAM's `GetAccessKeyLastUsed`).
const V2: &str = "
ALTER TABLE access_keys ADD COLUMN last_used_service TEXT;
ALTER TABLE access_keys ADD COLUMN last_used_region TEXT;
";

/// Every migration, in order.
/// Version 3: an account may be `invited` (made by the operator, its invitation not yet
/// redeemed by the tenant). SQLite cannot change a CHECK constraint: the table is rebuilt.
const V3: &str = "
CREATE TABLE accounts_v3 (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'invited')),
    created_at INTEGER NOT NULL
) STRICT;
INSERT INTO accounts_v3 (id, name, status, created_at)
    SELECT id, name, status, created_at FROM accounts;
DROP TABLE accounts;
ALTER TABLE accounts_v3 RENAME TO accounts;
";

/// Version 4: every account, access key and record row carries a MAC (written and checked by
/// `store::Authenticated` under a key the root of trust holds; NULL in rows older than it).
const V4: &str = "
ALTER TABLE accounts ADD COLUMN mac BLOB;
ALTER TABLE access_keys ADD COLUMN mac BLOB;
ALTER TABLE records ADD COLUMN mac BLOB;
";

/// Version 5: every audit event and head carries a MAC (over the account, sequence number and
/// leaf hash; over the account, size, root and frontier), written and checked by
/// `store::Authenticated`; NULL in rows older than it.
const V5: &str = "
ALTER TABLE audit_events ADD COLUMN mac BLOB;
ALTER TABLE audit_heads ADD COLUMN mac BLOB;
";

/// Version 6: the operator's bookkeeping for several nodes on one database, none of it
/// authenticated (it grants nothing): blobs queued for deletion (deleted once no record names
/// them), leases that keep background work to one node at a time, and settings every node
/// reads before it can open anything else (the Shamir setup).
const V6: &str = "
CREATE TABLE blob_garbage (
    account       TEXT NOT NULL,
    name          TEXT NOT NULL,
    dropped_at_ms INTEGER NOT NULL,
    PRIMARY KEY (account, name)
) STRICT;
CREATE INDEX blob_garbage_by_time ON blob_garbage (dropped_at_ms);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE node_settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
";

pub(super) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];
