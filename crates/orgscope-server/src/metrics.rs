//! Prometheus metrics: decisions by endpoint, result and code, a latency histogram, reloads.

use orgscope::Decision;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::RwLock;
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds: evaluation takes microseconds, so the
/// buckets start at 10 µs; the last ones catch a slow batch or a starved process.
const BUCKETS: [f64; 12] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005, 0.025, 0.1, 0.5, 2.5,
];

/// Which front door answered: the `endpoint` label of the decision counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /v1/decide`.
    Decide,
    /// `/v1/forward-auth` (nginx, Caddy, Traefik).
    ForwardAuth,
    /// Envoy ext_authz over gRPC.
    ExtAuthz,
}

impl Endpoint {
    fn label(self) -> &'static str {
        match self {
            Endpoint::Decide => "decide",
            Endpoint::ForwardAuth => "forward_auth",
            Endpoint::ExtAuthz => "ext_authz",
        }
    }
}

/// The (endpoint, result, code) of a decision: every part is a `&'static str` or a small enum,
/// so counting allocates nothing.
type Key = (Endpoint, &'static str, &'static str);

/// Counters shared by every connection: atomics, and a map whose write lock is taken only the
/// first time a (result, code) pair is seen.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    decisions: RwLock<HashMap<Key, AtomicU64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_nanos: AtomicU64,
    reloads: AtomicU64,
    reload_failures: AtomicU64,
    unavailable: AtomicU64,
    unauthenticated: AtomicU64,
}

impl Metrics {
    /// Counts one decision and how long it took.
    pub(crate) fn decision(&self, endpoint: Endpoint, d: &Decision, took: Duration) {
        let result = if d.is_allow() { "allow" } else { "deny" };
        let code = d.errors.first().map_or("none", |e| e.code.as_str());
        let key = (endpoint, result, code);
        let counted = match self.decisions.read() {
            Ok(map) => map.get(&key).map(|c| c.fetch_add(1, Relaxed)).is_some(),
            Err(_) => false,
        };
        if !counted {
            if let Ok(mut map) = self.decisions.write() {
                map.entry(key).or_default().fetch_add(1, Relaxed);
            }
        }
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            if let Some(b) = self.buckets.get(i) {
                b.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.latency_sum_nanos.fetch_add(nanos, Relaxed);
    }

    /// Counts a request answered 503 because no policy or store could answer.
    pub(crate) fn unavailable(&self) {
        self.unavailable.fetch_add(1, Relaxed);
    }

    /// Counts a forward-auth request answered 401: no identity the service may believe.
    pub(crate) fn unauthenticated(&self) {
        self.unauthenticated.fetch_add(1, Relaxed);
    }

    /// Counts a reload, successful or not.
    pub(crate) fn reload(&self, ok: bool) {
        let c = if ok {
            &self.reloads
        } else {
            &self.reload_failures
        };
        c.fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition (version 0.0.4) of every metric.
    pub(crate) fn render(&self, revision: Option<&str>) -> String {
        let mut out = String::with_capacity(2048);
        let _ = self.write(&mut out, revision);
        out
    }

    fn write(&self, out: &mut String, revision: Option<&str>) -> std::fmt::Result {
        writeln!(
            out,
            "# HELP orgscope_decisions_total Decisions by endpoint, result and first error code."
        )?;
        writeln!(out, "# TYPE orgscope_decisions_total counter")?;
        let mut rows: Vec<(Key, u64)> = match self.decisions.read() {
            Ok(map) => map.iter().map(|(k, v)| (*k, v.load(Relaxed))).collect(),
            Err(_) => Vec::new(),
        };
        rows.sort_by_key(|((e, r, c), _)| (e.label(), *r, *c));
        for ((endpoint, result, code), n) in rows {
            let e = endpoint.label();
            writeln!(
                out,
                "orgscope_decisions_total{{endpoint=\"{e}\",result=\"{result}\",code=\"{code}\"}} {n}"
            )?;
        }
        writeln!(out, "# HELP orgscope_decision_duration_seconds Time from a request (or NDJSON line) read to its decision.")?;
        writeln!(out, "# TYPE orgscope_decision_duration_seconds histogram")?;
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            writeln!(
                out,
                "orgscope_decision_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            )?;
        }
        let count = self.latency_count.load(Relaxed);
        let sum = self.latency_sum_nanos.load(Relaxed) as f64 / 1e9;
        writeln!(
            out,
            "orgscope_decision_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        )?;
        writeln!(out, "orgscope_decision_duration_seconds_sum {sum}")?;
        writeln!(out, "orgscope_decision_duration_seconds_count {count}")?;
        writeln!(out, "# HELP orgscope_policy_info The revision of the policy serving (absent before one loads).")?;
        writeln!(out, "# TYPE orgscope_policy_info gauge")?;
        if let Some(r) = revision {
            writeln!(out, "orgscope_policy_info{{revision=\"{r}\"}} 1")?;
        }
        writeln!(
            out,
            "# HELP orgscope_policy_ready Whether a policy and its stores are loaded."
        )?;
        writeln!(out, "# TYPE orgscope_policy_ready gauge")?;
        writeln!(
            out,
            "orgscope_policy_ready {}",
            u8::from(revision.is_some())
        )?;
        let counters = [
            (
                "orgscope_policy_reloads_total",
                "Policy loads that replaced the serving policy.",
                &self.reloads,
            ),
            (
                "orgscope_policy_reload_failures_total",
                "Policy loads that failed; the previous policy kept serving.",
                &self.reload_failures,
            ),
            (
                "orgscope_unavailable_total",
                "Requests answered 503: no policy loaded, or the server at capacity.",
                &self.unavailable,
            ),
            (
                "orgscope_unauthenticated_total",
                "Forward-auth requests answered 401: no identity the service may believe.",
                &self.unauthenticated,
            ),
        ];
        for (name, help, c) in counters {
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} counter")?;
            writeln!(out, "{name} {}", c.load(Relaxed))?;
        }
        Ok(())
    }
}
