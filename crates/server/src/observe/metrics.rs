//! What the server measures about itself: requests per service, operation and outcome (count
//! and latency), the audit group commit (batch sizes, waits, failures) and the checkpoint
//! passes. Every label value comes from a fixed set written in the code (decision 019): never
//! anything a request carries.

use super::exposition::{Exposition, Histogram, HistogramSnapshot, Kind};
use crate::error::ApiError;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

/// Request latency buckets, in microseconds: 0.5 ms to 10 s.
const REQUEST_BOUNDS_US: &[u64] = &[
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 2_500_000,
    10_000_000,
];

/// Audit waits (enqueue to committed), in microseconds: 0.1 ms to 5 s.
const AUDIT_WAIT_BOUNDS_US: &[u64] =
    &[100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 1_000_000, 5_000_000];

/// Events per group-commit batch, up to [`crate::pipeline::group_commit::MAX_BATCH`].
const BATCH_BOUNDS: &[u64] = &[1, 2, 4, 8, 16, 32, 64, 128, 256];

/// Microseconds per second.
const MICROS: f64 = 1e6;

/// The services a request may be labelled with: the signing names the pipeline routes (the
/// operator's API and the tenants' onboarding are `hermetic`). Anything else is `unknown`.
const SERVICES: &[&str] =
    &["s3", "iam", "sts", "kms", "cloudtrail", "access-analyzer", "mpa", "hermetic"];

/// The service label for a signing name (or an event source's first part): one of
/// [`SERVICES`], else `unknown`; never the text it was given.
pub fn service_label(name: Option<&str>) -> &'static str {
    SERVICES.iter().copied().find(|s| Some(*s) == name).unwrap_or("unknown")
}

/// The labels of one request's measurements, both from fixed sets: `service` from
/// [`service_label`], `operation` an operation's `&'static` name from the service's
/// `operations!` enum (`Unknown` until the pipeline knows it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestLabels {
    /// `s3`, `iam`, ... or `unknown`.
    pub service: &'static str,
    /// `GetObject`, `ListUsers`, ... or `Unknown`.
    pub operation: &'static str,
}

impl RequestLabels {
    /// The labels of a request signed for `service` (its credential scope's name), whose
    /// operation is not known yet.
    pub fn signed_for(service: Option<&str>) -> RequestLabels {
        RequestLabels { service: service_label(service), operation: "Unknown" }
    }
}

/// How a request ended, as the metrics count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Answered (including a 3xx an S3 condition asks for).
    Ok,
    /// Refused by authorization (`AccessDenied`, `AccessDeniedException`).
    Denied,
    /// Any other error the caller caused (4xx).
    ClientError,
    /// The server's failure (5xx but `SlowDown`).
    ServerError,
    /// Refused for load (`SlowDown`, throttling).
    Throttled,
}

impl Outcome {
    /// The outcome of a request that ended with `e`.
    pub fn of(e: &ApiError) -> Outcome {
        match e.code.as_str() {
            "AccessDenied" | "AccessDeniedException" => Outcome::Denied,
            "SlowDown" | "Throttling" | "ThrottlingException" | "TooManyRequestsException" => {
                Outcome::Throttled
            }
            _ if e.status == 429 => Outcome::Throttled,
            _ if e.status >= 500 => Outcome::ServerError,
            _ if e.status >= 400 => Outcome::ClientError,
            _ => Outcome::Ok,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::ClientError => "client_error",
            Outcome::ServerError => "server_error",
            Outcome::Throttled => "throttled",
        }
    }
}

/// The server's measurements, shared by every request (in [`crate::pipeline::State`]) and kept
/// across seals by the [`super::Observer`].
#[derive(Debug)]
pub struct Metrics {
    /// One latency histogram per (labels, outcome) seen so far; its count is the request count.
    requests: RwLock<BTreeMap<(RequestLabels, Outcome), Histogram>>,
    /// Events per group-commit batch.
    audit_batch: Histogram,
    /// From an event handed to the group commit to its batch committed (or failed).
    audit_wait: Histogram,
    /// Events whose batch failed to commit (their requests failed closed).
    audit_failures: AtomicU64,
    /// When the last checkpoint pass went over every account (ms since the epoch; 0: never).
    checkpoint_pass_ms: AtomicI64,
    /// After that pass, the age of the oldest event no checkpoint covers (ms; 0: none).
    checkpoint_age_ms: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            requests: RwLock::default(),
            audit_batch: Histogram::new(BATCH_BOUNDS, 1.0),
            audit_wait: Histogram::new(AUDIT_WAIT_BOUNDS_US, MICROS),
            audit_failures: AtomicU64::new(0),
            checkpoint_pass_ms: AtomicI64::new(0),
            checkpoint_age_ms: AtomicI64::new(0),
        }
    }
}

impl Metrics {
    /// Counts one request that ended with `outcome` after `took`.
    pub fn request(&self, labels: RequestLabels, outcome: Outcome, took: Duration) {
        let key = (labels, outcome);
        {
            let requests = self.requests.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(histogram) = requests.get(&key) {
                histogram.observe_micros(took);
                return;
            }
        }
        let mut requests = self.requests.write().unwrap_or_else(PoisonError::into_inner);
        requests
            .entry(key)
            .or_insert_with(|| Histogram::new(REQUEST_BOUNDS_US, MICROS))
            .observe_micros(took);
    }

    /// Counts one group-commit batch of `events` events, which `failed` or committed.
    pub fn audit_batch(&self, events: usize, failed: bool) {
        let events = u64::try_from(events).unwrap_or(u64::MAX);
        self.audit_batch.observe(events);
        if failed {
            self.audit_failures.fetch_add(events, Ordering::Relaxed);
        }
    }

    /// Counts how long one event waited from its hand-over to its batch's end.
    pub fn audit_waited(&self, took: Duration) {
        self.audit_wait.observe_micros(took);
    }

    /// Records a checkpoint pass that went over every account at `at_ms`, after which the
    /// oldest event no checkpoint covers was logged at `uncovered_since_ms` (`None`: every log
    /// is covered).
    pub fn checkpoint_pass(&self, at_ms: i64, uncovered_since_ms: Option<i64>) {
        let age = uncovered_since_ms.map_or(0, |since| at_ms.saturating_sub(since).max(0));
        self.checkpoint_age_ms.store(age, Ordering::Relaxed);
        self.checkpoint_pass_ms.store(at_ms, Ordering::Relaxed);
    }

    /// Writes every family this registry holds.
    pub fn render(&self, out: &mut Exposition) {
        let requests: Vec<((RequestLabels, Outcome), HistogramSnapshot)> = self
            .requests
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(key, histogram)| (*key, histogram.snapshot()))
            .collect();
        let labels = |(l, outcome): &(RequestLabels, Outcome)| {
            [("service", l.service), ("operation", l.operation), ("outcome", outcome.as_str())]
        };
        out.family(
            "requests_total",
            Kind::Counter,
            "Requests answered, by service, operation and outcome.",
        );
        for (key, snapshot) in &requests {
            out.count("requests_total", &labels(key), snapshot.count());
        }
        out.family(
            "request_duration_seconds",
            Kind::Histogram,
            "Time from a request's arrival to its answer (its audit commit included).",
        );
        for (key, snapshot) in &requests {
            out.histogram("request_duration_seconds", &labels(key), snapshot);
        }
        out.family("audit_batch_events", Kind::Histogram, "Events per audit group-commit batch.");
        out.histogram("audit_batch_events", &[], &self.audit_batch.snapshot());
        out.family(
            "audit_wait_seconds",
            Kind::Histogram,
            "Time from an event's hand-over to the group commit to its batch committed.",
        );
        out.histogram("audit_wait_seconds", &[], &self.audit_wait.snapshot());
        out.counter(
            "audit_failures_total",
            "Audit events whose group-commit batch failed (their requests failed closed).",
            self.audit_failures.load(Ordering::Relaxed),
        );
        let pass = self.checkpoint_pass_ms.load(Ordering::Relaxed);
        if pass > 0 {
            out.gauge(
                "checkpoint_pass_timestamp_seconds",
                "When the last checkpoint pass over every account ended (Unix time).",
                seconds(pass),
            );
            out.gauge(
                "checkpoint_age_seconds",
                "At the last checkpoint pass, the age of the oldest audit event no checkpoint covers (0: none).",
                seconds(self.checkpoint_age_ms.load(Ordering::Relaxed)),
            );
        }
    }
}

/// Milliseconds as seconds.
fn seconds(ms: i64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let secs = ms as f64 / 1000.0;
    secs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(metrics: &Metrics) -> String {
        let mut out = Exposition::new();
        metrics.render(&mut out);
        out.finish()
    }

    #[test]
    fn requests_are_counted_per_labels_and_outcome() {
        let m = Metrics::default();
        let iam = RequestLabels { service: "iam", operation: "ListUsers" };
        m.request(iam, Outcome::Ok, Duration::from_millis(3));
        m.request(iam, Outcome::Ok, Duration::from_secs(20));
        m.request(iam, Outcome::Denied, Duration::from_micros(10));
        let text = rendered(&m);
        assert!(text.contains(
            "hermetic_requests_total{service=\"iam\",operation=\"ListUsers\",outcome=\"ok\"} 2\n"
        ));
        assert!(text.contains(
            "hermetic_requests_total{service=\"iam\",operation=\"ListUsers\",outcome=\"denied\"} 1\n"
        ));
        assert!(text.contains("hermetic_request_duration_seconds_bucket{service=\"iam\",operation=\"ListUsers\",outcome=\"ok\",le=\"0.005\"} 1\n"), "{text}");
        assert!(text.contains("hermetic_request_duration_seconds_bucket{service=\"iam\",operation=\"ListUsers\",outcome=\"ok\",le=\"10\"} 1\n"), "{text}");
        assert!(text.contains("hermetic_request_duration_seconds_bucket{service=\"iam\",operation=\"ListUsers\",outcome=\"ok\",le=\"+Inf\"} 2\n"), "{text}");
        assert!(text.contains("hermetic_request_duration_seconds_count{service=\"iam\",operation=\"ListUsers\",outcome=\"denied\"} 1\n"));
        // Each family is declared once.
        assert_eq!(text.matches("# TYPE hermetic_requests_total counter").count(), 1);
        assert_eq!(text.matches("# TYPE hermetic_request_duration_seconds histogram").count(), 1);
    }

    #[test]
    fn request_durations_have_twelve_buckets_from_half_a_millisecond_to_ten_seconds() {
        let m = Metrics::default();
        m.request(RequestLabels::signed_for(Some("s3")), Outcome::Ok, Duration::ZERO);
        let text = rendered(&m);
        let buckets: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("hermetic_request_duration_seconds_bucket"))
            .collect();
        assert_eq!(buckets.len(), 13, "{text}");
        assert!(buckets[0].contains("le=\"0.0005\""));
        assert!(buckets[11].contains("le=\"10\""));
        assert!(buckets[12].contains("operation=\"Unknown\""));
    }

    #[test]
    fn labels_come_only_from_fixed_sets() {
        assert_eq!(service_label(Some("s3")), "s3");
        assert_eq!(service_label(Some("access-analyzer")), "access-analyzer");
        assert_eq!(service_label(Some("my-bucket-name")), "unknown");
        assert_eq!(service_label(Some("S3")), "unknown");
        assert_eq!(service_label(None), "unknown");
    }

    #[test]
    fn outcomes_follow_the_error() {
        let of = |status, code| Outcome::of(&ApiError::sender(status, code, "m")).as_str();
        assert_eq!(of(403, "AccessDenied"), "denied");
        assert_eq!(of(400, "AccessDeniedException"), "denied");
        assert_eq!(of(503, "SlowDown"), "throttled");
        assert_eq!(of(400, "ThrottlingException"), "throttled");
        assert_eq!(of(429, "Whatever"), "throttled");
        assert_eq!(of(503, "ServiceUnavailable"), "server_error");
        assert_eq!(of(500, "InternalFailure"), "server_error");
        assert_eq!(of(404, "NoSuchKey"), "client_error");
        assert_eq!(of(304, "NotModified"), "ok");
    }

    #[test]
    fn audit_batches_waits_and_failures() {
        let m = Metrics::default();
        m.audit_batch(3, false);
        m.audit_batch(2, true);
        m.audit_waited(Duration::from_millis(2));
        let text = rendered(&m);
        assert!(text.contains("hermetic_audit_batch_events_count 2\n"), "{text}");
        assert!(text.contains("hermetic_audit_batch_events_sum 5\n"), "{text}");
        assert!(text.contains("hermetic_audit_batch_events_bucket{le=\"2\"} 1\n"), "{text}");
        assert!(text.contains("hermetic_audit_wait_seconds_count 1\n"), "{text}");
        assert!(text.contains("hermetic_audit_failures_total 2\n"), "{text}");
    }

    #[test]
    fn checkpoint_gauges_appear_after_the_first_pass() {
        let m = Metrics::default();
        assert!(!rendered(&m).contains("checkpoint"));
        m.checkpoint_pass(1_700_000_000_000, Some(1_699_999_990_000));
        let text = rendered(&m);
        assert!(text.contains("hermetic_checkpoint_pass_timestamp_seconds 1700000000\n"), "{text}");
        assert!(text.contains("hermetic_checkpoint_age_seconds 10\n"), "{text}");
        m.checkpoint_pass(1_700_000_060_000, None);
        assert!(rendered(&m).contains("hermetic_checkpoint_age_seconds 0\n"));
    }
}
