//! `hermetic witness serve` (issue 17): a small process a tenant or a third party runs, outside
//! the operator's reach, that cosigns a Hermetic log's checkpoints in the C2SP tlog-witness
//! protocol's shape (`POST /add-checkpoint`, [`audit::witness`]). It remembers, per log (per
//! account), the last checkpoint it cosigned, in its state file, written before it answers: a
//! checkpoint that does not extend it (a forked or rewritten history, even one the log's own
//! key signed) is refused, so it never cosigns two histories.
//!
//! Its own key is an Ed25519 seed in a file it creates (mode 0600); its verifier key is printed
//! at start for tenants to pin.

use audit::note::VerifierKey;
use audit::witness::{self, WitnessKey, Witnessed};
use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Largest `add-checkpoint` body read.
const MAX_BODY: usize = 64 * 1024;

/// How a witness runs.
#[derive(Debug, Clone)]
pub struct WitnessConfig {
    /// Where it listens.
    pub listen: std::net::SocketAddr,
    /// Its Ed25519 seed (created if missing).
    pub key_file: PathBuf,
    /// What it last cosigned of each log (created if missing).
    pub state_file: PathBuf,
    /// Its key's name.
    pub name: String,
    /// The verifier key of the logs it witnesses (the server's `checkpoint.pub`).
    pub log_key: String,
}

/// The witness's memory: per origin, the last size and root it cosigned.
type State = BTreeMap<String, (u64, String)>;

fn load_key(path: &Path, name: &str) -> Result<WitnessKey, String> {
    if !path.exists() {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, seed.as_mut());
        crate::support::private::write_private(path, seed.as_ref())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let seed = zeroize::Zeroizing::new(
        std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
    );
    WitnessKey::from_seed(name, &seed).map_err(|e| format!("{}: {e}", path.display()))
}

fn load_state(path: &Path) -> Result<State, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes the state durably (a new file, synced, renamed over the old) before the answer.
fn save_state(path: &Path, state: &State) -> std::io::Result<()> {
    use std::io::Write;
    let temp = path.with_extension("tmp");
    let text = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    let mut f = std::fs::File::create(&temp)?;
    f.write_all(&text)?;
    f.sync_all()?;
    std::fs::rename(&temp, path)
}

struct Witness {
    key: WitnessKey,
    log_key: VerifierKey,
    state_file: PathBuf,
    state: Mutex<State>,
}

impl Witness {
    /// Answers one `add-checkpoint`: (status, content type, body).
    fn add_checkpoint(&self, body: &[u8]) -> (u16, &'static str, String) {
        let b64 = base64::engine::general_purpose::STANDARD;
        let Ok(text) = std::str::from_utf8(body) else {
            return (400, "text/plain", "the body is not UTF-8\n".into());
        };
        let request = match witness::parse_add_checkpoint(text) {
            Ok(r) => r,
            Err(e) => return (e.status(), "text/plain", format!("{e}\n")),
        };
        let Ok(mut state) = self.state.lock() else {
            return (500, "text/plain", "the witness's state is unavailable\n".into());
        };
        let last = |origin: &str| {
            state.get(origin).and_then(|(size, root)| {
                let root = b64.decode(root).ok()?.try_into().ok()?;
                Some(Witnessed { size: *size, root })
            })
        };
        let decided =
            witness::decide(&request, &self.log_key, |o| o.starts_with("hermetic/"), last);
        match decided {
            Ok(cp) => {
                let mut next = state.clone();
                next.insert(cp.origin().to_string(), (cp.size(), b64.encode(cp.root())));
                // Remembered before it is answered: a crash never lets it cosign a fork.
                if save_state(&self.state_file, &next).is_err() {
                    return (
                        500,
                        "text/plain",
                        "the witness's state could not be written\n".into(),
                    );
                }
                *state = next;
                let now = crate::support::time::now_ms() / 1000;
                let line = self.key.cosign(&cp.body(), u64::try_from(now).unwrap_or(0));
                (200, "text/x.tlog.signature", line)
            }
            Err(witness::Refusal::Conflict(size)) => (409, "text/x.tlog.size", format!("{size}\n")),
            Err(e) => (e.status(), "text/plain", format!("{e}\n")),
        }
    }
}

/// Runs a witness until `stop`; `ready` gets the address and the witness's verifier key once it
/// listens.
///
/// # Errors
/// The key, state or log key cannot be read, or the address cannot be bound.
pub async fn serve(
    config: WitnessConfig,
    stop: impl std::future::Future<Output = ()>,
    ready: impl FnOnce(std::net::SocketAddr, &audit::witness::WitnessVerifier),
) -> Result<(), String> {
    let key = load_key(&config.key_file, &config.name)?;
    let log_key =
        VerifierKey::parse(config.log_key.trim()).map_err(|e| format!("the log key: {e}"))?;
    let state = load_state(&config.state_file)?;
    let witness = Arc::new(Witness {
        key,
        log_key,
        state_file: config.state_file.clone(),
        state: Mutex::new(state),
    });
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("{}: {e}", config.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    ready(addr, &witness.key.verifier());
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => return Ok(()),
        };
        let Ok((stream, _)) = accepted else { continue };
        let witness = witness.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let witness = witness.clone();
                    async move {
                        let right = req.method() == hyper::Method::POST
                            && req.uri().path() == "/add-checkpoint";
                        let (status, kind, body) = if right {
                            match Limited::new(req.into_body(), MAX_BODY).collect().await {
                                Ok(body) => witness.add_checkpoint(&body.to_bytes()),
                                Err(_) => (400, "text/plain", "the body is too large\n".into()),
                            }
                        } else {
                            (404, "text/plain", "POST /add-checkpoint\n".into())
                        };
                        let response = hyper::Response::builder()
                            .status(status)
                            .header("content-type", kind)
                            .body(Full::new(Bytes::from(body)))
                            .map_err(|e| std::io::Error::other(e.to_string()))?;
                        Ok::<_, std::io::Error>(response)
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
