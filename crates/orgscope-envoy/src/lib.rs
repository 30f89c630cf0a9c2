//! Envoy ext_authz over gRPC (`envoy.service.auth.v3.Authorization/Check`) for `orgscope serve`.
//!
//! Each `CheckRequest` becomes the original request (method, path with its query, host,
//! headers, and the body when Envoy forwards it), decided by the service's one request path
//! ([`orgscope_server::Decider`]), so identity, limits and metrics are those of forward-auth.
//! An allow is an `OkHttpResponse` that sets the scope headers for the upstream and removes
//! every `x-orgscope-*` header the client sent; a deny is a `DeniedHttpResponse` with the
//! decision's status and JSON body. tonic lives here only, never in the engine or the server.
//!
//! ```no_run
//! # async fn demo(server: &orgscope_server::Server) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9191").await?;
//! orgscope_envoy::serve(listener, server.decider(), std::future::pending()).await
//! # }
//! ```
#![deny(missing_docs)]

use envoy_types::ext_authz::v3::pb::{
    Authorization, AuthorizationServer, CheckRequest, CheckResponse, DeniedHttpResponse,
    HeaderAppendAction, HeaderValue, HeaderValueOption, HttpResponse, HttpStatus, HttpStatusCode,
    OkHttpResponse,
};
use envoy_types::pb::envoy::service::auth::v3::attribute_context::HttpRequest;
use envoy_types::pb::google::rpc;
use http::header::{HeaderMap, HeaderName};
use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::service::TowerToHyperService;
use orgscope_server::{accept_until, scope_headers, Answer, Decider, Endpoint, Original, Verdict};
use std::future::Future;
use std::io;
use tokio::net::TcpListener;

/// Largest `CheckRequest` accepted, in bytes: the headers and a forwarded body (the shipped
/// Envoy configuration forwards at most 1 MiB of body).
pub const MAX_MESSAGE_BYTES: usize = 4 << 20;

/// The ext_authz service over a running `orgscope serve`'s policy.
#[derive(Debug, Clone)]
pub struct ExtAuthz {
    decider: Decider,
}

impl ExtAuthz {
    /// Decides through `decider`.
    pub fn new(decider: Decider) -> ExtAuthz {
        ExtAuthz { decider }
    }

    /// Answers one check: never an error, always an allow or a deny Envoy can send on.
    pub async fn decide(&self, request: &CheckRequest) -> CheckResponse {
        let http = request
            .attributes
            .as_ref()
            .and_then(|a| a.request.as_ref())
            .and_then(|r| r.http.as_ref());
        let Some(http) = http else {
            let answer = self.refuse("the check request has no http request attributes".into());
            return respond(answer, Vec::new());
        };
        let answer = match original_parts(http) {
            Err(m) => self.refuse(m),
            Ok((headers, body)) => {
                let original = Original {
                    method: &http.method,
                    target: &http.path,
                    host: Some(http.host.as_str()).filter(|h| !h.is_empty()),
                    headers: &headers,
                    body,
                };
                self.decider.check(&original, Endpoint::ExtAuthz).await
            }
        };
        respond(answer, client_scope_names(http))
    }

    fn refuse(&self, message: String) -> Answer {
        self.decider.refuse(message, Endpoint::ExtAuthz)
    }
}

#[tonic::async_trait]
impl Authorization for ExtAuthz {
    async fn check(
        &self,
        request: tonic::Request<CheckRequest>,
    ) -> Result<tonic::Response<CheckResponse>, tonic::Status> {
        Ok(tonic::Response::new(self.decide(request.get_ref()).await))
    }
}

/// Serves ext_authz on `listener` (HTTP/2, gRPC) until `stopping` completes, then lets the
/// checks in progress finish.
///
/// The generated gRPC service runs on hyper's HTTP/2 server directly: tonic's transport would
/// wrap every check in its router, error-recovery and `grpc-timeout` layers, about a tenth of a
/// check's instructions for nothing a sidecar needs (the service's own time limit bounds a check,
/// and Envoy's `timeout` bounds the call).
pub async fn serve(
    listener: TcpListener,
    decider: Decider,
    stopping: impl Future<Output = ()>,
) -> io::Result<()> {
    let service = AuthorizationServer::new(ExtAuthz::new(decider))
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let mut http2 = http2::Builder::new(TokioExecutor::new());
    http2.timer(TokioTimer::new());
    // A check's answer goes out as several small HTTP/2 frames (headers, message, trailers):
    // `accept_until` sets TCP_NODELAY, without which the last waits for the peer's delayed
    // ACK, about 40 ms per deny.
    let graceful = accept_until(listener, stopping, |io| {
        http2.serve_connection(io, TowerToHyperService::new(service.clone()))
    })
    .await;
    graceful.shutdown().await;
    Ok(())
}

/// The client's headers and body from Envoy's description. With `encode_raw_headers` (the
/// shipped configuration) a repeated header stays repeated, as forward-auth sees it; otherwise
/// Envoy has already joined repeats with commas. Pseudo-headers (`:path`, `:method`, ...) are
/// left out: the request line comes from the typed fields.
fn original_parts(http: &HttpRequest) -> Result<(HeaderMap, Option<&[u8]>), String> {
    let mut headers = HeaderMap::new();
    let raw = http.header_map.as_ref().map(|m| &m.headers[..]);
    let pairs: Box<dyn Iterator<Item = (&str, &[u8])>> = match raw {
        Some(raw) if !raw.is_empty() => Box::new(raw.iter().map(|h| {
            let value = if h.raw_value.is_empty() {
                h.value.as_bytes()
            } else {
                &h.raw_value[..]
            };
            (h.key.as_str(), value)
        })),
        _ => Box::new(http.headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes()))),
    };
    for (name, value) in pairs {
        if name.starts_with(':') {
            continue;
        }
        // `from_bytes` lower-cases the name itself.
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        let value = http::HeaderValue::from_bytes(value)
            .map_err(|_| format!("header `{name}` has an invalid value"))?;
        headers.append(name, value);
    }
    let body = if http.raw_body.is_empty() {
        http.body.as_bytes()
    } else {
        &http.raw_body[..]
    };
    Ok((headers, (!body.is_empty()).then_some(body)))
}

/// Every `x-orgscope-*` header name the client sent, lower-cased.
fn client_scope_names(http: &HttpRequest) -> Vec<String> {
    let raw = http
        .header_map
        .iter()
        .flat_map(|m| &m.headers)
        .map(|h| &h.key);
    const PREFIX: &str = "x-orgscope-";
    let mut names: Vec<String> = raw
        .chain(http.headers.keys())
        .filter(|k| {
            k.get(..PREFIX.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
        })
        .map(|k| k.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// gRPC status codes (google.rpc.Code) Envoy reads from a check.
const OK: i32 = 0;
const PERMISSION_DENIED: i32 = 7;
const UNAVAILABLE: i32 = 14;
const UNAUTHENTICATED: i32 = 16;

/// The check's answer. On an allow, the scope headers replace any copy the client sent, and
/// every other client `x-orgscope-*` header is removed, so only orgscope sets them.
fn respond(answer: Answer, client_scope: Vec<String>) -> CheckResponse {
    let Answer {
        id,
        revision,
        verdict,
    } = answer;
    let mut ids = vec![("x-orgscope-decision-id", id.clone())];
    ids.extend(revision.map(|r| ("x-orgscope-revision", r)));
    match verdict {
        Verdict::Decided(d) if d.is_allow() => {
            let mut set: Vec<(&str, String)> = scope_headers(&d);
            set.extend(ids);
            let headers_to_remove = client_scope
                .into_iter()
                .filter(|n| !set.iter().any(|(s, _)| s == n))
                .collect();
            let ok = OkHttpResponse {
                headers: set.into_iter().map(|(n, v)| header(n, v)).collect(),
                headers_to_remove,
                ..OkHttpResponse::default()
            };
            answer_with(OK, "", HttpResponse::OkResponse(ok))
        }
        Verdict::Decided(d) => {
            let code = d.errors.first().map(|e| e.code.as_str());
            let mut headers = vec![json_type()];
            headers.extend(code.map(|c| header("x-orgscope-code", c.to_string())));
            let mut body = Vec::with_capacity(256);
            let body = match d.write_json(&mut body).map(|()| String::from_utf8(body)) {
                Ok(Ok(json)) => json,
                _ => r#"{"decision":"deny"}"#.into(),
            };
            denied(PERMISSION_DENIED, d.status, headers, ids, body)
        }
        Verdict::Unauthenticated(m) => {
            let headers = vec![header("content-type", "text/plain".into())];
            denied(UNAUTHENTICATED, 401, headers, ids, format!("{m}\n"))
        }
        Verdict::Unavailable(m) => {
            let body = serde_json::json!({
                "id": id, "decision": "deny", "status": 503,
                "errors": [{"code": "unavailable", "message": m, "rule": null}],
            });
            denied(UNAVAILABLE, 503, vec![json_type()], ids, body.to_string())
        }
    }
}

fn denied(
    grpc: i32,
    status: u16,
    mut headers: Vec<HeaderValueOption>,
    ids: Vec<(&str, String)>,
    body: String,
) -> CheckResponse {
    headers.extend(ids.into_iter().map(|(n, v)| header(n, v)));
    let denied = DeniedHttpResponse {
        status: Some(HttpStatus {
            code: http_status(status) as i32,
        }),
        headers,
        body,
    };
    answer_with(grpc, "denied", HttpResponse::DeniedResponse(denied))
}

fn answer_with(code: i32, message: &str, http: HttpResponse) -> CheckResponse {
    CheckResponse {
        status: Some(rpc::Status {
            code,
            message: message.into(),
            details: Vec::new(),
        }),
        http_response: Some(http),
        ..CheckResponse::default()
    }
}

/// The decision's status as Envoy's enum; one Envoy does not name (no decision has one) is 403.
fn http_status(status: u16) -> HttpStatusCode {
    HttpStatusCode::try_from(i32::from(status))
        .ok()
        .filter(|c| *c != HttpStatusCode::Empty)
        .unwrap_or(HttpStatusCode::Forbidden)
}

fn json_type() -> HeaderValueOption {
    header("content-type", "application/json".into())
}

/// A header that replaces every copy of its name.
fn header(name: &str, value: String) -> HeaderValueOption {
    HeaderValueOption {
        header: Some(HeaderValue {
            key: name.into(),
            value,
            raw_value: Vec::new(),
        }),
        append_action: HeaderAppendAction::OverwriteIfExistsOrAdd as i32,
        ..HeaderValueOption::default()
    }
}
