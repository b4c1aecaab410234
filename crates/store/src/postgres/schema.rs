//! The PostgreSQL schema, as forward migrations: `MIGRATIONS[i]` takes the database from version
//! `i` to version `i + 1`. A migration, once released, never changes; a change is a new one.
//!
//! Every text key is `COLLATE "C"`, so listings sort by UTF-8 bytes as SQLite's do, whatever the
//! database's default collation. Tables are created in the first schema of the connection's
//! `search_path`.

/// The table that records the schema version: one row, `id = 1`.
pub(super) const VERSION_TABLE: &str = "
CREATE TABLE IF NOT EXISTS schema_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
";

/// Version 1: accounts, access keys, records, the audit log and its checkpoints (ADR 004).
const V1: &str = r#"
CREATE TABLE accounts (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    status     TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at BIGINT NOT NULL
);

CREATE TABLE access_keys (
    access_key_id  TEXT COLLATE "C" PRIMARY KEY,
    account        TEXT COLLATE "C" NOT NULL,
    owner_kind     TEXT COLLATE "C" NOT NULL,
    owner_key      TEXT COLLATE "C" NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    secret_wrapped BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT
);
CREATE INDEX access_keys_by_owner ON access_keys (account, owner_kind, owner_key, created_at);

CREATE TABLE records (
    account        TEXT COLLATE "C" NOT NULL,
    kind           TEXT COLLATE "C" NOT NULL,
    key            TEXT COLLATE "C" NOT NULL,
    format_version BIGINT NOT NULL,
    body           TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (account, kind, key)
);

CREATE TABLE audit_events (
    account   TEXT COLLATE "C" NOT NULL,
    seq       BIGINT NOT NULL CHECK (seq >= 0),
    leaf_hash BYTEA NOT NULL CHECK (length(leaf_hash) = 32),
    event     BYTEA NOT NULL,
    PRIMARY KEY (account, seq)
);

CREATE TABLE audit_nodes (
    account TEXT COLLATE "C" NOT NULL,
    level   SMALLINT NOT NULL CHECK (level BETWEEN 1 AND 63),
    idx     BIGINT NOT NULL CHECK (idx >= 0),
    hash    BYTEA NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (account, level, idx)
);

CREATE TABLE audit_heads (
    account  TEXT COLLATE "C" PRIMARY KEY,
    size     BIGINT NOT NULL CHECK (size >= 0),
    root     BYTEA NOT NULL CHECK (length(root) = 32),
    frontier BYTEA NOT NULL
);

CREATE TABLE audit_checkpoints (
    account TEXT COLLATE "C" NOT NULL,
    size    BIGINT NOT NULL CHECK (size >= 0),
    time_ms BIGINT NOT NULL,
    root    BYTEA NOT NULL CHECK (length(root) = 32),
    note    TEXT NOT NULL,
    PRIMARY KEY (account, size, time_ms)
);
"#;

/// Every migration, in order.
/// Version 2: where an access key was last used (IAM's `GetAccessKeyLastUsed`).
const V2: &str = "
ALTER TABLE access_keys ADD COLUMN last_used_service TEXT;
ALTER TABLE access_keys ADD COLUMN last_used_region TEXT;
";

/// Every migration, in order.
/// Version 3: an account may be `invited` (made by the operator, its invitation not yet
/// redeemed by the tenant).
const V3: &str = "
ALTER TABLE accounts DROP CONSTRAINT accounts_status_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_status_check
    CHECK (status IN ('active', 'suspended', 'invited'));
";

/// Version 4: every account, access key and record row carries a MAC (written and checked by
/// `store::Authenticated` under a key the root of trust holds; NULL in rows older than it).
const V4: &str = "
ALTER TABLE accounts ADD COLUMN mac BYTEA;
ALTER TABLE access_keys ADD COLUMN mac BYTEA;
ALTER TABLE records ADD COLUMN mac BYTEA;
";

/// Version 5: every audit event and head carries a MAC, as SQLite's version 5.
const V5: &str = "
ALTER TABLE audit_events ADD COLUMN mac BYTEA;
ALTER TABLE audit_heads ADD COLUMN mac BYTEA;
";

/// Version 6: the operator's bookkeeping tables, as SQLite's version 6.
const V6: &str = r#"
CREATE TABLE blob_garbage (
    account       TEXT COLLATE "C" NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
    dropped_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account, name)
);
CREATE INDEX blob_garbage_by_time ON blob_garbage (dropped_at_ms);

CREATE TABLE leases (
    name       TEXT COLLATE "C" PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);

CREATE TABLE node_settings (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

pub(super) const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];
