//! Routing and the HTTP answers: decide (one request or an NDJSON stream), forward-auth,
//! health, readiness and metrics.

use crate::check::{self, Decider, Original, Verdict};
use crate::forward_auth::{self, Flavour};
use crate::log::Asked;
use crate::metrics::Endpoint;
use crate::state::{App, Loaded};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use orgscope::Decision;
use serde_json::json;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::{mpsc, OwnedSemaphorePermit};

pub(crate) type Reply = Response<BoxBody<Bytes, Infallible>>;

/// Answers one HTTP request.
pub(crate) async fn handle(app: Arc<App>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let path = req.uri().path();
    Ok(match (req.method(), path) {
        (_, "/v1/forward-auth") => {
            let nginx = nginx_mode(&req);
            let mut r = guarded(&app, req, forward_auth).await;
            if nginx && r.status() == StatusCode::SERVICE_UNAVAILABLE {
                // nginx would turn the 503 into a 500: its snippet maps this back to 503.
                *r.status_mut() = StatusCode::FORBIDDEN;
                set(&mut r, "x-orgscope-status", "503");
            }
            r
        }
        (&Method::POST, "/v1/decide") => guarded(&app, req, decide).await,
        (_, "/v1/decide") => {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "use POST\n");
            set(&mut r, "allow", "POST");
            r
        }
        (&Method::GET, "/health") => plain(StatusCode::OK, "ok\n"),
        (&Method::GET, "/health/ready") => match app.current() {
            Some(p) => plain(StatusCode::OK, &format!("ready {}\n", p.revision)),
            None => plain(StatusCode::SERVICE_UNAVAILABLE, "no policy is loaded\n"),
        },
        (&Method::GET, "/metrics") => {
            let text = app
                .metrics
                .render(app.current().as_deref().map(|p| &*p.revision));
            let mut r = plain(StatusCode::OK, &text);
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        _ => plain(StatusCode::NOT_FOUND, "no such endpoint\n"),
    })
}

type Handler = fn(
    Arc<App>,
    Arc<Loaded>,
    OwnedSemaphorePermit,
    Request<Incoming>,
) -> Pin<Box<dyn std::future::Future<Output = Reply> + Send>>;

/// Runs a decision endpoint within the concurrency limit and the time limit, with a policy:
/// at capacity, out of time or with nothing loaded, the answer is a 503 deny (fail closed).
async fn guarded(app: &Arc<App>, req: Request<Incoming>, handler: Handler) -> Reply {
    let limit = app.config.timeout;
    let permit = tokio::time::timeout(limit, app.permits.clone().acquire_owned()).await;
    let (Ok(Ok(permit)), Some(loaded)) = (permit, app.current()) else {
        app.metrics.unavailable();
        return unavailable(&app.decision_id(), "the service cannot decide now");
    };
    match tokio::time::timeout(limit, handler(app.clone(), loaded, permit, req)).await {
        Ok(reply) => reply,
        Err(_) => {
            app.metrics.unavailable();
            unavailable(
                &app.decision_id(),
                "the decision took longer than the time limit",
            )
        }
    }
}

/// A 503 deny: nothing could answer, so nothing is allowed.
fn unavailable(id: &str, message: &str) -> Reply {
    let body = json!({
        "id": id, "decision": "deny", "status": 503,
        "errors": [{"code": "unavailable", "message": message, "rule": null}],
    });
    let mut r = json_reply(
        StatusCode::SERVICE_UNAVAILABLE,
        body.to_string().into_bytes(),
    );
    set(&mut r, "x-orgscope-decision-id", id);
    r
}

fn plain(status: StatusCode, text: &str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(text.to_string())).boxed());
    *r.status_mut() = status;
    r
}

fn json_reply(status: StatusCode, body: Vec<u8>) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)).boxed());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Sets a header whose value the service built; one that cannot be a header value is dropped
/// (every value built here is ASCII, so this does not happen).
fn set(r: &mut Reply, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// What is sent should a decision fail to serialize (it cannot): still a deny.
const UNSERIALIZABLE: &[u8] = br#"{"decision":"deny","status":500}"#;

fn serialize(d: &Decision) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    match d.write_json(&mut out) {
        Ok(()) => out,
        Err(_) => UNSERIALIZABLE.to_vec(),
    }
}

fn decide(
    app: Arc<App>,
    loaded: Arc<Loaded>,
    permit: OwnedSemaphorePermit,
    req: Request<Incoming>,
) -> Pin<Box<dyn std::future::Future<Output = Reply> + Send>> {
    Box::pin(async move {
        let ndjson = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| {
                t.starts_with("application/x-ndjson") || t.starts_with("application/jsonl")
            });
        let revision = loaded.revision.clone();
        let mut reply = if ndjson {
            stream(app, loaded, permit, req.into_body())
        } else {
            match collect(req.into_body(), app.config.max_body_bytes).await {
                Err(status) => plain(status, "the request body is over the limit\n"),
                Ok(body) => buffered(&app, &loaded, &body),
            }
        };
        set(&mut reply, "x-orgscope-revision", &revision);
        reply
    })
}

/// A body that is not declared NDJSON: one description (possibly pretty-printed), or several
/// lines that are each one.
fn buffered(app: &App, loaded: &Loaded, body: &[u8]) -> Reply {
    let lines = body
        .split(|&b| b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty());
    let one_document =
        lines.clone().count() <= 1 || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
    if one_document {
        let (id, d) = decide_one(app, loaded, body);
        let mut r = json_reply(StatusCode::OK, serialize(&d));
        set(&mut r, "x-orgscope-decision-id", &id);
        return r;
    }
    let mut out = Vec::new();
    for line in lines {
        answer_line(app, loaded, line, &mut out);
    }
    ndjson_reply(BoxBody::new(Full::new(Bytes::from(out))))
}

/// Decides one description of `/v1/decide` under a fresh decision id.
fn decide_one<'l>(app: &App, loaded: &'l Loaded, bytes: &[u8]) -> (String, Decision<'l>) {
    let id = app.decision_id();
    let d = app.decide(
        loaded,
        Endpoint::Decide,
        &id,
        Asked::Json(bytes.trim_ascii()),
    );
    (id, d)
}

/// Appends one NDJSON line's decision, with its newline, to `out`; counted in the metrics.
fn answer_line(app: &App, loaded: &Loaded, line: &[u8], out: &mut Vec<u8>) {
    let (_, d) = decide_one(app, loaded, line);
    let start = out.len();
    if d.write_json(out).is_err() {
        out.truncate(start);
        out.extend_from_slice(UNSERIALIZABLE);
    }
    out.push(b'\n');
}

fn ndjson_reply(body: BoxBody<Bytes, Infallible>) -> Reply {
    let mut r = Response::new(body);
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    r
}

/// Reads a whole body, refusing one over `cap` bytes (413) or one that breaks off (400).
async fn collect(mut body: Incoming, cap: usize) -> Result<Vec<u8>, StatusCode> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| StatusCode::BAD_REQUEST)?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > cap {
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// NDJSON in, NDJSON out as each line is answered: a task reads the body and sends decisions
/// through a small channel, so memory stays bounded by one line whatever the batch.
fn stream(
    app: Arc<App>,
    loaded: Arc<Loaded>,
    permit: OwnedSemaphorePermit,
    mut body: Incoming,
) -> Reply {
    let (tx, rx) = mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        let _permit = permit;
        let max_line = loaded.policy.limits().max_request_bytes;
        let mut line: Vec<u8> = Vec::new();
        let mut oversized = false;
        let mut total = 0usize;
        let limit = app.config.timeout;
        // A batch holds a slot: one that stops sending for the time limit is ended, so slow
        // clients cannot keep every slot.
        let ended = loop {
            let frame = match tokio::time::timeout(limit, body.frame()).await {
                Ok(None) => break true,
                Ok(Some(Ok(frame))) => frame,
                Ok(Some(Err(_))) | Err(_) => break false,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            total += data.len();
            if total > app.config.max_body_bytes {
                let m = format!(
                    "the batch is over the limit of {} bytes",
                    app.config.max_body_bytes
                );
                let _ = tx.send(ending(m)).await;
                return;
            }
            let mut out = Vec::new();
            for piece in data.split_inclusive(|&b| b == b'\n') {
                let (content, ends) = match piece.strip_suffix(b"\n") {
                    Some(c) => (c, true),
                    None => (piece, false),
                };
                if !oversized {
                    line.extend_from_slice(content);
                    // Past the per-line limit the rest of the line is dropped, not buffered:
                    // the engine answers the oversized prefix with `invalid_request`.
                    if line.len() > max_line {
                        oversized = true;
                    }
                }
                if ends {
                    if !line.trim_ascii().is_empty() {
                        answer_line(&app, &loaded, &line, &mut out);
                    }
                    line.clear();
                    oversized = false;
                }
            }
            if !out.is_empty() && tx.send(out.into()).await.is_err() {
                return;
            }
        };
        if ended {
            if line.trim_ascii().is_empty() {
                return;
            }
            let mut out = Vec::new();
            answer_line(&app, &loaded, &line, &mut out);
            let _ = tx.send(out.into()).await;
        } else {
            let m = "the batch broke off or stalled: lines after this one got no decision";
            let _ = tx.send(ending(m.to_string())).await;
        }
    });
    ndjson_reply(BoxBody::new(Channel(rx)))
}

/// The last line of a batch that could not be read to its end.
fn ending(message: String) -> Bytes {
    let mut out = serialize(&Decision::invalid_request(None, message));
    out.push(b'\n');
    out.into()
}

/// A response body fed by a channel.
struct Channel(mpsc::Receiver<Bytes>);

impl Body for Channel {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

/// Whether a forward-auth request asks for the nginx mode (`?mode=nginx`).
fn nginx_mode(req: &Request<Incoming>) -> bool {
    req.uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "mode=nginx"))
}

fn forward_auth(
    app: Arc<App>,
    loaded: Arc<Loaded>,
    _permit: OwnedSemaphorePermit,
    req: Request<Incoming>,
) -> Pin<Box<dyn std::future::Future<Output = Reply> + Send>> {
    Box::pin(async move {
        let nginx = nginx_mode(&req);
        let flavour = if nginx {
            Flavour::Nginx
        } else {
            Flavour::Forwarded
        };
        let headers = req.headers();
        let answer = match forward_auth::request_line(headers, flavour) {
            Ok((method, target, host)) => {
                let original = Original {
                    method,
                    target,
                    host,
                    headers,
                    body: None,
                };
                check::decide(&app, &loaded, &original, Endpoint::ForwardAuth)
            }
            Err(m) => Decider { app: app.clone() }.refuse(m, Endpoint::ForwardAuth),
        };
        let id = answer.id;
        let decision = match answer.verdict {
            Verdict::Decided(d) => *d,
            Verdict::Unauthenticated(m) => {
                let mut r = plain(StatusCode::UNAUTHORIZED, &format!("{m}\n"));
                set(&mut r, "x-orgscope-decision-id", &id);
                set(&mut r, "x-orgscope-status", "401");
                return r;
            }
            Verdict::Unavailable(m) => return unavailable(&id, &m),
        };
        let mut r = if decision.is_allow() {
            let mut r = plain(StatusCode::OK, "");
            for (name, value) in forward_auth::scope_headers(&decision) {
                set(&mut r, name, &value);
            }
            r
        } else {
            let real = StatusCode::from_u16(decision.status).unwrap_or(StatusCode::FORBIDDEN);
            // nginx turns any auth status but 2xx/401/403 into a 500: its snippet maps the
            // 403 back to the real status from `x-orgscope-status`.
            let status = if nginx && real != StatusCode::UNAUTHORIZED {
                StatusCode::FORBIDDEN
            } else {
                real
            };
            let mut r = json_reply(status, serialize(&decision));
            set(&mut r, "x-orgscope-status", real.as_str());
            if let Some(e) = decision.errors.first() {
                set(&mut r, "x-orgscope-code", e.code.as_str());
            }
            r
        };
        set(&mut r, "x-orgscope-decision-id", &id);
        set(&mut r, "x-orgscope-revision", &loaded.revision);
        r
    })
}
