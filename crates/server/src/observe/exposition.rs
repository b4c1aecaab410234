//! The Prometheus text exposition format (version 0.0.4), written by hand: counters, gauges and
//! histograms with fixed buckets, every name prefixed `hermetic_`. What is measured is kept in
//! atomics ([`Histogram`], `AtomicU64`); a scrape renders a snapshot of them.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The prefix of every metric name (the writer adds it: a family cannot be named without it).
pub const PREFIX: &str = "hermetic_";

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// What kind of metric a family is (its `# TYPE` line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only ever grows (resets when the process restarts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations counted in fixed buckets, with their sum and count.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A histogram's counts at one moment. `counts[i]` is how many observations were at most
/// `bounds[i]` and above the bound before it; `counts` has one more entry than `bounds`, the
/// observations above every bound (`+Inf`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// The buckets' upper bounds, ascending, in the exposed unit (seconds, events).
    pub bounds: Vec<f64>,
    /// The observations per bucket (not cumulative).
    pub counts: Vec<u64>,
    /// The observations' sum, in the exposed unit.
    pub sum: f64,
}

impl HistogramSnapshot {
    /// How many observations there were.
    pub fn count(&self) -> u64 {
        self.counts.iter().fold(0u64, |total, c| total.saturating_add(*c))
    }
}

impl From<store::PoolStats> for HistogramSnapshot {
    fn from(stats: store::PoolStats) -> HistogramSnapshot {
        HistogramSnapshot {
            bounds: stats.bounds_seconds,
            counts: stats.waits,
            sum: stats.wait_seconds_sum,
        }
    }
}

/// A histogram with fixed bucket bounds in whole units (microseconds, events), updated with
/// atomics only.
#[derive(Debug)]
pub struct Histogram {
    /// Upper bounds, ascending, in units.
    bounds: &'static [u64],
    /// Units per exposed unit (`1e6`: microseconds exposed as seconds; a division, so that
    /// bounds are the decimals they are written as).
    per: f64,
    /// One count per bound, and one for the observations above them all.
    counts: Vec<AtomicU64>,
    /// The observations' sum, in units.
    sum: AtomicU64,
}

impl Histogram {
    /// A histogram over `bounds` (units, ascending), exposed in a unit of `per` units.
    pub fn new(bounds: &'static [u64], per: f64) -> Histogram {
        Histogram {
            bounds,
            per,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicU64::new(0),
        }
    }

    /// Counts one observation of `value` units: in the first bucket whose bound is at least
    /// `value`, or the last one.
    pub fn observe(&self, value: u64) {
        let bucket = self.bounds.partition_point(|&bound| bound < value);
        if let Some(count) = self.counts.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    /// Counts a duration, in microseconds (a histogram whose unit is the microsecond).
    pub fn observe_micros(&self, took: Duration) {
        self.observe(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
    }

    /// The counts now.
    pub fn snapshot(&self) -> HistogramSnapshot {
        #[allow(clippy::cast_precision_loss)]
        let exposed = |units: u64| units as f64 / self.per;
        HistogramSnapshot {
            bounds: self.bounds.iter().map(|&b| exposed(b)).collect(),
            counts: self.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect(),
            sum: exposed(self.sum.load(Ordering::Relaxed)),
        }
    }
}

/// The text of one scrape, written family by family: a family's `# HELP` and `# TYPE` lines
/// ([`Exposition::family`]), then its samples. Names are given without [`PREFIX`].
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// An empty exposition.
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// Starts the family `name` (without the prefix): its help text and type.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {PREFIX}{name} {help}");
        let _ = writeln!(self.text, "# TYPE {PREFIX}{name} {}", kind.as_str());
    }

    /// One sample of a counter or gauge of the current family.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.series(name, "", labels, None);
        let _ = writeln!(self.text, " {}", float(value));
    }

    /// One sample with a whole-number value (a counter).
    pub fn count(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.series(name, "", labels, None);
        let _ = writeln!(self.text, " {value}");
    }

    /// One histogram series of the current family: its cumulative buckets (`le`, the last
    /// `+Inf`), `_sum` and `_count`.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &HistogramSnapshot) {
        let mut cumulative = 0u64;
        for i in 0..=h.bounds.len() {
            cumulative = cumulative.saturating_add(h.counts.get(i).copied().unwrap_or(0));
            let le = h.bounds.get(i).map_or_else(|| "+Inf".to_string(), |b| float(*b));
            self.series(name, "_bucket", labels, Some(&le));
            let _ = writeln!(self.text, " {cumulative}");
        }
        self.series(name, "_sum", labels, None);
        let _ = writeln!(self.text, " {}", float(h.sum));
        self.series(name, "_count", labels, None);
        let _ = writeln!(self.text, " {cumulative}");
    }

    /// A whole counter family of one series without labels.
    pub fn counter(&mut self, name: &str, help: &str, value: u64) {
        self.family(name, Kind::Counter, help);
        self.count(name, &[], value);
    }

    /// A whole gauge family of one series without labels.
    pub fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, Kind::Gauge, help);
        self.sample(name, &[], value);
    }

    /// The text.
    pub fn finish(self) -> String {
        self.text
    }

    /// Writes `hermetic_NAME_SUFFIX{labels,le="LE"}` (no value).
    fn series(&mut self, name: &str, suffix: &str, labels: &[(&str, &str)], le: Option<&str>) {
        self.text.push_str(PREFIX);
        self.text.push_str(name);
        self.text.push_str(suffix);
        let le = le.map(|le| ("le", le));
        let mut all = labels.iter().copied().chain(le).peekable();
        if all.peek().is_none() {
            return;
        }
        self.text.push('{');
        for (i, (label, value)) in all.enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            self.text.push_str(label);
            self.text.push_str("=\"");
            for c in value.chars() {
                match c {
                    '\\' => self.text.push_str("\\\\"),
                    '"' => self.text.push_str("\\\""),
                    '\n' => self.text.push_str("\\n"),
                    c => self.text.push(c),
                }
            }
            self.text.push('"');
        }
        self.text.push('}');
    }
}

/// A value as the format writes it (`+Inf`, `-Inf`, `NaN`, else the shortest decimal).
fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        let sign = if v.is_sign_positive() { '+' } else { '-' };
        format!("{sign}Inf")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: &[u64] = &[1, 10, 100];

    #[test]
    fn observations_land_in_the_first_bucket_at_least_their_value() {
        let h = Histogram::new(BOUNDS, 1.0);
        for v in [0, 1, 2, 10, 11, 100, 101, 5000] {
            h.observe(v);
        }
        let snap = h.snapshot();
        // <=1: 0 and 1; <=10: 2 and 10; <=100: 11 and 100; above: 101 and 5000.
        assert_eq!(snap.counts, vec![2, 2, 2, 2]);
        assert_eq!(snap.count(), 8);
        assert!((snap.sum - 5225.0).abs() < 1e-9);
    }

    #[test]
    fn durations_are_microseconds_exposed_as_seconds() {
        static MICROS: &[u64] = &[500, 1_000_000];
        let h = Histogram::new(MICROS, 1e6);
        h.observe_micros(Duration::from_micros(400));
        h.observe_micros(Duration::from_millis(2));
        h.observe_micros(Duration::from_secs(2));
        let snap = h.snapshot();
        assert_eq!(snap.counts, vec![1, 1, 1]);
        assert!((snap.bounds[0] - 0.0005).abs() < 1e-12);
        assert!((snap.bounds[1] - 1.0).abs() < 1e-12);
        assert!((snap.sum - 2.0024).abs() < 1e-9, "{snap:?}");
    }

    #[test]
    fn a_histogram_is_written_with_cumulative_buckets_sum_and_count() {
        let h = Histogram::new(BOUNDS, 1.0);
        for v in [1, 5, 50, 500] {
            h.observe(v);
        }
        let mut out = Exposition::new();
        out.family("audit_batch_events", Kind::Histogram, "Events per batch.");
        out.histogram("audit_batch_events", &[], &h.snapshot());
        let text = out.finish();
        let expected = "\
# HELP hermetic_audit_batch_events Events per batch.
# TYPE hermetic_audit_batch_events histogram
hermetic_audit_batch_events_bucket{le=\"1\"} 1
hermetic_audit_batch_events_bucket{le=\"10\"} 2
hermetic_audit_batch_events_bucket{le=\"100\"} 3
hermetic_audit_batch_events_bucket{le=\"+Inf\"} 4
hermetic_audit_batch_events_sum 556
hermetic_audit_batch_events_count 4
";
        assert_eq!(text, expected);
    }

    #[test]
    fn labels_come_first_then_le_and_values_are_escaped() {
        let snap = HistogramSnapshot { bounds: vec![0.5], counts: vec![1, 0], sum: 0.25 };
        let mut out = Exposition::new();
        out.histogram("x_seconds", &[("a", "q\"b\\c\nd")], &snap);
        let text = out.finish();
        assert!(
            text.contains("hermetic_x_seconds_bucket{a=\"q\\\"b\\\\c\\nd\",le=\"0.5\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("hermetic_x_seconds_bucket{a=\"q\\\"b\\\\c\\nd\",le=\"+Inf\"} 1\n"));
        assert!(text.contains("hermetic_x_seconds_sum{a=\"q\\\"b\\\\c\\nd\"} 0.25\n"));
        assert!(text.contains("hermetic_x_seconds_count{a=\"q\\\"b\\\\c\\nd\"} 1\n"));
    }

    /// A snapshot with fewer counts than buckets (never made here) still ends with `+Inf`.
    #[test]
    fn a_short_snapshot_still_has_an_infinite_bucket() {
        let snap = HistogramSnapshot { bounds: vec![1.0, 2.0], counts: vec![3], sum: 3.0 };
        let mut out = Exposition::new();
        out.histogram("h", &[], &snap);
        assert!(out.finish().contains("hermetic_h_bucket{le=\"+Inf\"} 3\n"));
    }

    #[test]
    fn counters_and_gauges_have_help_and_type() {
        let mut out = Exposition::new();
        out.counter("audit_failures_total", "Events that failed.\nSecond line \\.", 3);
        out.gauge("sealed", "Whether sealed.", 1.0);
        out.family("requests_total", Kind::Counter, "Requests.");
        out.count("requests_total", &[("service", "s3"), ("outcome", "ok")], 7);
        let text = out.finish();
        assert_eq!(
            text,
            "\
# HELP hermetic_audit_failures_total Events that failed.\\nSecond line \\\\.
# TYPE hermetic_audit_failures_total counter
hermetic_audit_failures_total 3
# HELP hermetic_sealed Whether sealed.
# TYPE hermetic_sealed gauge
hermetic_sealed 1
# HELP hermetic_requests_total Requests.
# TYPE hermetic_requests_total counter
hermetic_requests_total{service=\"s3\",outcome=\"ok\"} 7
"
        );
    }

    #[test]
    fn special_values_are_written_as_the_format_names_them() {
        assert_eq!(float(f64::INFINITY), "+Inf");
        assert_eq!(float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(0.0005), "0.0005");
        assert_eq!(float(10.0), "10");
        assert_eq!(float(1_700_000_000.5), "1700000000.5");
    }

    #[test]
    fn pool_stats_become_a_histogram() {
        let stats = store::PoolStats {
            pool: "read",
            bounds_seconds: vec![0.001],
            waits: vec![4, 1],
            wait_seconds_sum: 2.5,
            timeouts: 1,
        };
        let snap = HistogramSnapshot::from(stats);
        assert_eq!(snap.count(), 5);
        assert!((snap.sum - 2.5).abs() < 1e-12);
    }
}
