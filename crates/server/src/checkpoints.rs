//! Signed checkpoints of every account's audit log, and their offline verification
//! (`hermetic trail verify`): recompute every leaf and root from the stored events, open every
//! checkpoint with the public key, and prove each checkpoint consistent with the next and with
//! the current head.

mod key;

use crate::pipeline::identity::OPERATOR_ACCOUNT;
use audit::checkpoint::Checkpoint;
use audit::note::{SigningKey, VerifierKey};

pub use key::{load_or_create_key, stored_verifier, KEY_KIND, KEY_RECORD};

/// Where an earlier version kept the signing key in the data directory: its 32-byte Ed25519
/// seed sealed by the root of trust (mode 0600). The key is kept in the database now
/// ([`load_or_create_key`]): a file found there is imported once, and must agree with the
/// database's key after that.
pub const KEY_FILE: &str = "checkpoint.key.sealed";
/// Where an older version kept the seed in the clear: imported (sealed) into the database and
/// removed at the next start.
pub const LEGACY_KEY_FILE: &str = "checkpoint.key";
/// The verifier key's file (`name+keyid+base64`, public): a convenience copy in each node's
/// data directory.
pub const PUBLIC_FILE: &str = "checkpoint.pub";
/// The key name in signed notes.
pub const KEY_NAME: &str = "hermetic-checkpoint";
/// The label of the key in an HSM: made there, non-extractable, and signing there.
pub const HSM_LABEL: &str = "hermetic-checkpoint-ed25519-v1";
/// What the root of trust seals the seed for.
const SEALING_CONTEXT: &[u8] = b"hermetic:checkpoint-key/v1";

/// The origin line of an account's checkpoints.
pub fn origin(account: &str) -> String {
    format!("hermetic/{account}")
}

/// Every account's id, the operator realm's first (what has an audit log).
pub(crate) fn accounts(tx: &mut dyn store::ReadTx) -> Result<Vec<String>, store::StoreError> {
    let mut out = vec![OPERATOR_ACCOUNT.to_string()];
    let mut after: Option<String> = None;
    loop {
        let page = tx.list_accounts(after.as_deref(), 1000)?;
        out.extend(page.items.iter().map(|a| a.id.clone()));
        if !page.truncated {
            return Ok(out);
        }
        after = page.items.last().map(|a| a.id.clone());
    }
}

/// The witnesses a server sends each new checkpoint to (`--witness URL`), and the size each
/// last cosigned of each log, as far as this server knows.
#[derive(Debug, Default)]
pub struct Witnesses {
    urls: Vec<String>,
    quorum: usize,
    sizes: std::sync::Mutex<std::collections::HashMap<(String, String), u64>>,
}

impl Witnesses {
    /// Witnesses at `urls` (`http://host:port`), `quorum` of them wanted on each checkpoint.
    pub fn new(urls: Vec<String>, quorum: usize) -> Witnesses {
        Witnesses { urls, quorum, sizes: std::sync::Mutex::default() }
    }

    /// The cosignature lines the witnesses give `note` (the checkpoint of `account`'s log at
    /// `size`), each witness sent the consistency proof from the size it last cosigned. A
    /// witness that is down or refuses gives none; fewer than the quorum is reported on
    /// stderr (a tenant requiring the quorum then refuses the checkpoint).
    fn cosign(&self, read: &mut dyn store::ReadTx, account: &str, note: &str, size: u64) -> String {
        let origin = origin(account);
        let mut lines = String::new();
        let mut cosigned = 0;
        for url in &self.urls {
            let known =
                self.sizes.lock().ok().and_then(|s| s.get(&(url.clone(), origin.clone())).copied());
            let mut old = known.unwrap_or(0);
            for _ in 0..2 {
                let proof = if old == 0 || old > size {
                    Vec::new()
                } else {
                    match read.audit_consistency_proof(account, old, size) {
                        Ok(p) => p,
                        Err(_) => break,
                    }
                };
                let body = audit::witness::add_checkpoint_body(old, &proof, note);
                match post(url, &body) {
                    Ok((200, answer)) if valid_cosignatures(&answer) => {
                        lines.push_str(&answer);
                        cosigned += 1;
                        if let Ok(mut sizes) = self.sizes.lock() {
                            sizes.insert((url.clone(), origin.clone()), size);
                        }
                        break;
                    }
                    // The witness last cosigned another size: once more, from that one.
                    Ok((409, answer)) => match answer.trim().parse::<u64>() {
                        Ok(theirs) if theirs != old && theirs <= size => old = theirs,
                        _ => break,
                    },
                    _ => break,
                }
            }
        }
        if cosigned < self.quorum {
            tracing::warn!(
                "the checkpoint of {origin} at {size} has {cosigned} cosignatures, fewer than the quorum of {}",
                self.quorum
            );
        }
        lines
    }
}

/// Whether `answer` is only signed-note signature lines (what is appended to a stored note).
fn valid_cosignatures(answer: &str) -> bool {
    use base64::Engine;
    !answer.is_empty()
        && answer.ends_with('\n')
        && answer.lines().all(|l| {
            l.strip_prefix("\u{2014} ").and_then(|r| r.split_once(' ')).is_some_and(
                |(name, sig)| {
                    !name.is_empty()
                        && !name.contains('+')
                        && base64::engine::general_purpose::STANDARD.decode(sig).is_ok()
                },
            )
        })
}

/// POSTs `body` to `url`/add-checkpoint (plain HTTP, 5 s timeouts): (status, body).
fn post(url: &str, body: &str) -> Result<(u16, String), String> {
    use std::io::{Read, Write};
    let authority = url
        .strip_prefix("http://")
        .map(|r| r.trim_end_matches('/'))
        .filter(|a| !a.is_empty() && !a.contains('/'))
        .ok_or_else(|| format!("witness URL `{url}` must be http://host:port"))?;
    let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let timeout = std::time::Duration::from_secs(5);
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let request = format!(
        "POST /add-checkpoint HTTP/1.1\r\nhost: {authority}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.take(1 << 16).read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, answer) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
    Ok((status, answer.to_string()))
}

/// Signs and stores a checkpoint for every log that grew since its last one, cosigned by the
/// witnesses that agree. Returns how many were written.
pub fn checkpoint_all(
    store: &dyn store::Store,
    key: &SigningKey,
    witnesses: &Witnesses,
    now_ms: i64,
) -> Result<usize, String> {
    let pass = checkpoint_pass(store, key, witnesses, now_ms)?;
    match pass.failure {
        Some(e) => Err(e),
        None => Ok(pass.written),
    }
}

/// What one pass over every account's log did.
#[derive(Debug, Default)]
pub struct Pass {
    /// Checkpoints written.
    pub written: usize,
    /// The first account's failure (the others were still checkpointed).
    pub failure: Option<String>,
    /// When the oldest event no checkpoint covers after the pass was logged (ms since the
    /// epoch), if a log was left uncovered (its account's checkpoint failed). Read in the
    /// pass's snapshot: a log another server checkpointed meanwhile counts until the next pass.
    pub uncovered_since_ms: Option<i64>,
}

/// [`checkpoint_all`], saying what was left uncovered; an error only when the accounts could
/// not be listed (the pass did not happen).
pub fn checkpoint_pass(
    store: &dyn store::Store,
    key: &SigningKey,
    witnesses: &Witnesses,
    now_ms: i64,
) -> Result<Pass, String> {
    let mut read = store.read().map_err(|e| e.to_string())?;
    let mut pass = Pass::default();
    for account in accounts(read.as_mut()).map_err(|e| e.to_string())? {
        // One account's failure (another pass, running at the same time, checkpointed it
        // first) does not keep the others from theirs.
        match checkpoint_one(store, read.as_mut(), key, witnesses, &account, now_ms) {
            Ok(wrote) => pass.written += usize::from(wrote),
            Err(e) => {
                pass.failure = pass.failure.or(Some(e));
                if let Some(since) = uncovered_since(read.as_mut(), &account) {
                    pass.uncovered_since_ms =
                        Some(pass.uncovered_since_ms.map_or(since, |s| s.min(since)));
                }
            }
        }
    }
    Ok(pass)
}

/// When the first event of `account`'s log that its latest checkpoint does not cover was
/// logged (ms since the epoch), if it can be read.
fn uncovered_since(read: &mut dyn store::ReadTx, account: &str) -> Option<i64> {
    let covered = read.latest_checkpoint(account).ok()?.map_or(0, |c| c.size);
    let first = read.audit_events(account, covered..covered.saturating_add(1)).ok()?;
    let event = audit::event::EventRecord::from_canonical_bytes(&first.first()?.event).ok()?;
    i64::try_from(event.event_time.unix_seconds()).ok()?.checked_mul(1000)
}

/// Signs and stores `account`'s checkpoint if its log grew since the last one; whether it did.
fn checkpoint_one(
    store: &dyn store::Store,
    read: &mut dyn store::ReadTx,
    key: &SigningKey,
    witnesses: &Witnesses,
    account: &str,
    now_ms: i64,
) -> Result<bool, String> {
    let head = read.audit_head(account).map_err(|e| e.to_string())?;
    let last = read.latest_checkpoint(account).map_err(|e| e.to_string())?;
    if head.size == 0 || last.as_ref().is_some_and(|c| c.size >= head.size) {
        return Ok(false);
    }
    let cp =
        Checkpoint::new(&origin(account), head.size, head.root, u64::try_from(now_ms).unwrap_or(0))
            .map_err(|e| e.to_string())?;
    let mut note = cp.sign(key).map_err(|e| e.to_string())?;
    if !witnesses.urls.is_empty() {
        note.push_str(&witnesses.cosign(read, account, &note, head.size));
    }
    let mut tx = store.begin().map_err(|e| e.to_string())?;
    tx.insert_checkpoint(&store::Checkpoint {
        account: account.to_string(),
        size: head.size,
        root: head.root,
        time_ms: now_ms,
        note,
    })
    .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    Ok(true)
}

/// What verification found for one account.
#[derive(Debug)]
pub struct AccountReport {
    /// The account.
    pub account: String,
    /// Events in its log.
    pub events: u64,
    /// Checkpoints verified.
    pub checkpoints: usize,
    /// Problems found (empty: the log verifies).
    pub problems: Vec<String>,
}

/// Verifies every account's log against its checkpoints. Each account is reported on its own:
/// what fails to read in one (a corrupt row) is that account's problem, and the others are
/// still verified. A log with events but no checkpoint fails (its checkpoints were deleted, or
/// it was never checkpointed: either way nothing vouches for it).
pub fn verify(
    store: &dyn store::Store,
    verifier: &VerifierKey,
) -> Result<Vec<AccountReport>, String> {
    let mut tx = store.read().map_err(|e| e.to_string())?;
    let mut reports = Vec::new();
    for account in accounts(tx.as_mut()).map_err(|e| e.to_string())? {
        let mut report = AccountReport { account, events: 0, checkpoints: 0, problems: Vec::new() };
        if let Err(e) = verify_account(tx.as_mut(), verifier, &mut report) {
            report.problems.push(format!("the log cannot be read: {e}"));
        }
        reports.push(report);
    }
    Ok(reports)
}

/// Verifies one account's log into `report`; an error is a read that failed.
fn verify_account(
    tx: &mut dyn store::ReadTx,
    verifier: &VerifierKey,
    report: &mut AccountReport,
) -> Result<(), String> {
    let account = report.account.clone();
    let problems = &mut report.problems;
    let head = tx.audit_head(&account).map_err(|e| e.to_string())?;
    report.events = head.size;
    let events = tx.audit_events(&account, 0..head.size).map_err(|e| e.to_string())?;
    let mut leaves = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let leaf = audit::merkle::leaf_hash(&e.event);
        if leaf != e.leaf_hash {
            problems.push(format!("event {i}: stored leaf hash does not match the event"));
        }
        if audit::event::EventRecord::from_canonical_bytes(&e.event).is_err() {
            problems.push(format!("event {i}: not a canonical CloudTrail record"));
        }
        leaves.push(leaf);
    }
    if u64::try_from(leaves.len()).unwrap_or(0) != head.size {
        problems.push(format!(
            "the head says {} events but {} are stored",
            head.size,
            leaves.len()
        ));
    }
    if audit::merkle::root(&leaves) != head.root {
        problems.push("the stored head's root is not the root of the stored events".into());
    }
    let checkpoints =
        tx.list_checkpoints(&account, 0, usize::MAX).map_err(|e| e.to_string())?.items;
    report.checkpoints = checkpoints.len();
    if checkpoints.is_empty() && head.size > 0 {
        problems.push(format!("{} events but no checkpoint vouches for them", head.size));
    }
    let mut previous: Option<Checkpoint> = None;
    for c in &checkpoints {
        let opened = match Checkpoint::open(&c.note, &origin(&account), verifier) {
            Ok(cp) => cp,
            Err(e) => {
                problems.push(format!("checkpoint at size {}: {e}", c.size));
                continue;
            }
        };
        let size = usize::try_from(opened.size()).unwrap_or(usize::MAX);
        match leaves.get(..size) {
            Some(prefix) if audit::merkle::root(prefix) == *opened.root() => {}
            _ => problems.push(format!(
                "checkpoint at size {}: root does not match the events",
                opened.size()
            )),
        }
        if let Some(prev) = &previous {
            let proof = tx
                .audit_consistency_proof(&account, prev.size(), opened.size())
                .map_err(|e| e.to_string())?;
            if let Err(e) = prev.verify_extended_by(&opened, &proof) {
                problems.push(format!("checkpoints {} → {}: {e}", prev.size(), opened.size()));
            }
        }
        previous = Some(opened);
    }
    if let Some(last) = &previous {
        // Every event the last checkpoint covers is provably in it.
        for (i, leaf) in leaves.iter().enumerate().take(usize::try_from(last.size()).unwrap_or(0)) {
            let index = u64::try_from(i).unwrap_or(0);
            let proof = tx
                .audit_inclusion_proof(&account, index, last.size())
                .map_err(|e| e.to_string())?;
            if last.verify_inclusion(leaf, index, &proof).is_err() {
                problems.push(format!(
                    "event {i} is not included in the checkpoint at size {}",
                    last.size()
                ));
            }
        }
    }
    Ok(())
}
