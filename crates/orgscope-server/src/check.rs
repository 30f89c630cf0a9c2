//! The one path from an original request, as a gateway reports it, to a decision: forward-auth
//! and Envoy ext_authz (the `orgscope-envoy` crate) both answer through it.

use crate::forward_auth::{self, Refusal};
use crate::log::Asked;
use crate::metrics::Endpoint;
use crate::state::{App, Loaded};
use hyper::header::HeaderMap;
use orgscope::Decision;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The original request as a gateway reports it: its request line, headers and, when the
/// gateway forwards it, its body.
#[derive(Debug, Clone, Copy)]
pub struct Original<'a> {
    /// The method.
    pub method: &'a str,
    /// The request target: the path, percent-encoded, with its query string.
    pub target: &'a str,
    /// The host the client asked for (`Host` or `:authority`), when the gateway says it.
    pub host: Option<&'a str>,
    /// The client's headers, with the identity headers a trusted layer set.
    pub headers: &'a HeaderMap,
    /// The body, when the gateway forwards it: empty is no body, anything else must be JSON.
    pub body: Option<&'a [u8]>,
}

/// What the service answers one [`Original`].
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The policy decided: an allow, or a deny with its status.
    /// Boxed: a decision is large beside the other variants' messages. Owned: the answer
    /// outlives the policy that gave it, which a reload may replace meanwhile.
    Decided(Box<Decision<'static>>),
    /// No identity the service may believe: answer 401, with no decision detail.
    Unauthenticated(String),
    /// Nothing could decide (no policy loaded, at capacity): answer 503, a deny.
    Unavailable(String),
}

/// One answer, with its decision id and the revision of the policy that gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// A decision id, unique across restarts and replicas.
    pub id: String,
    /// The policy revision that decided; `None` when none could.
    pub revision: Option<String>,
    /// The answer itself.
    pub verdict: Verdict,
}

/// A handle on a running service's policy, for front doors outside this crate. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Decider {
    pub(crate) app: Arc<App>,
}

impl Decider {
    /// Decides `original` with the policy serving now, within the service's concurrency and
    /// time limits (past them the answer is [`Verdict::Unavailable`]). Counted in the metrics
    /// under `endpoint`.
    pub async fn check(&self, original: &Original<'_>, endpoint: Endpoint) -> Answer {
        let app = &self.app;
        let permit =
            tokio::time::timeout(app.config.timeout, app.permits.clone().acquire_owned()).await;
        let (Ok(Ok(_permit)), Some(loaded)) = (permit, app.current()) else {
            app.metrics.unavailable();
            return Answer {
                id: app.decision_id(),
                revision: None,
                verdict: Verdict::Unavailable("the service cannot decide now".into()),
            };
        };
        decide(app, &loaded, original, endpoint)
    }

    /// Whether a policy is loaded (the service is ready).
    pub fn ready(&self) -> bool {
        self.app.current().is_some()
    }

    /// An `invalid_request` deny for a request the front door could not even describe (its
    /// gateway's message is malformed), counted in the metrics under `endpoint`.
    pub fn refuse(&self, message: String, endpoint: Endpoint) -> Answer {
        let id = self.app.decision_id();
        let d = Decision::invalid_request(Some(id.clone().into()), message);
        self.app.metrics.decision(endpoint, &d, Duration::ZERO);
        Answer {
            id,
            revision: self.app.current().map(|p| p.revision.clone()),
            verdict: Verdict::Decided(Box::new(d)),
        }
    }
}

/// Describes `original` (identity included) and decides it through [`App::decide`] (trusted
/// stores, metrics, decision log), the caller holding a concurrency slot.
pub(crate) fn decide(
    app: &App,
    loaded: &Loaded,
    original: &Original<'_>,
    endpoint: Endpoint,
) -> Answer {
    let start = Instant::now();
    let id = app.decision_id();
    let verdict = match forward_auth::describe(original, app.who(), &id) {
        Ok(request) => Verdict::Decided(Box::new(
            app.decide(loaded, endpoint, &id, Asked::Request(&request))
                .into_owned(),
        )),
        Err(Refusal::Invalid(m)) => {
            let d = Decision::invalid_request(Some(id.clone().into()), m);
            app.metrics.decision(endpoint, &d, start.elapsed());
            Verdict::Decided(Box::new(d))
        }
        Err(Refusal::Unauthenticated(m)) => {
            app.metrics.unauthenticated();
            Verdict::Unauthenticated(m.to_string())
        }
    };
    Answer {
        id,
        revision: Some(loaded.revision.clone()),
        verdict,
    }
}
