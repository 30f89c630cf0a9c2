//! Forward-auth (nginx `auth_request`, Caddy `forward_auth`, Traefik `forwardAuth`): the
//! original request, as the gateway describes it in headers, becomes a typed [`Request`].

use crate::check::Original;
use crate::jwt::Jwt;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONNECTION};
use indexmap::IndexMap;
use orgscope::{Decision, Request, Tenant, User, Values};

/// The headers a trusted authentication layer (in front of the gateway) sets to say who the
/// user is. They are believed only when the service is started with them configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityHeaders {
    /// The user's id.
    pub user: HeaderName,
    /// The user's orgs, a comma-separated list (required: without it the request is 401).
    pub orgs: HeaderName,
    /// The user's default org.
    pub default_org: HeaderName,
    /// The tenant's Multi-Org switch: `true` or `false` (absent: the policy's default).
    pub multi_org: HeaderName,
}

impl Default for IdentityHeaders {
    fn default() -> Self {
        IdentityHeaders {
            user: HeaderName::from_static("x-auth-user"),
            orgs: HeaderName::from_static("x-auth-orgs"),
            default_org: HeaderName::from_static("x-auth-default-org"),
            multi_org: HeaderName::from_static("x-auth-multi-org"),
        }
    }
}

/// Which gateway's headers describe the original request. Each flavour reads only the headers
/// its gateway always overwrites, so a client cannot supply the request line itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// `X-Original-Method` + `X-Original-URI` (set by the shipped nginx snippet); a deny is
    /// answered 403 with the real status in `x-orgscope-status`.
    Nginx,
    /// `X-Forwarded-Method` + `X-Forwarded-Uri` (+ `X-Forwarded-Host`): Caddy, Traefik.
    Forwarded,
}

impl Flavour {
    fn method_header(self) -> &'static str {
        match self {
            Flavour::Nginx => "x-original-method",
            Flavour::Forwarded => "x-forwarded-method",
        }
    }

    fn uri_header(self) -> &'static str {
        match self {
            Flavour::Nginx => "x-original-uri",
            Flavour::Forwarded => "x-forwarded-uri",
        }
    }
}

/// The header a JWT comes in (a static, so the description can borrow it).
static BEARER_HEADER: HeaderName = AUTHORIZATION;

/// Who may say who the user is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Who<'a> {
    /// Nobody is configured: every request is 401.
    Nobody,
    /// A trusted authentication layer's headers.
    Headers(&'a IdentityHeaders),
    /// A verified JWT in `Authorization: Bearer`.
    Jwt(&'a Jwt),
}

/// Why no request description could be built.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No identity the service may believe: 401.
    Unauthenticated(&'static str),
    /// The gateway's description is malformed: an `invalid_request` deny.
    Invalid(String),
}

/// Headers that describe one hop, never the original request (RFC 9110 §7.6.1), plus the
/// auth subrequest's own framing.
const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
    "content-length",
];

/// The original request line (method, target, host) from the auth request's headers.
pub(crate) fn request_line(
    headers: &HeaderMap,
    flavour: Flavour,
) -> Result<(&str, &str, Option<&str>), String> {
    let method = required(headers, flavour.method_header())?;
    let uri = required(headers, flavour.uri_header())?;
    let host = match flavour {
        Flavour::Forwarded => single(headers, "x-forwarded-host")?,
        Flavour::Nginx => None,
    };
    Ok((method, uri, host))
}

/// Builds the request description of the original request, the user from the one configured
/// identity source.
pub(crate) fn describe(
    original: &Original<'_>,
    who: Who<'_>,
    id: &str,
) -> Result<Request, Refusal> {
    let headers = original.headers;
    let (user, multi_org) = identify(headers, who)?;
    // What said who the user is never reaches the policy (nor the decision log).
    let identity_headers: [Option<&HeaderName>; 4] = match who {
        Who::Headers(h) => [
            Some(&h.user),
            Some(&h.orgs),
            Some(&h.default_org),
            Some(&h.multi_org),
        ],
        Who::Jwt(_) => [Some(&BEARER_HEADER), None, None, None],
        Who::Nobody => [None; 4],
    };
    // The headers `Connection` names as hop-by-hop, read once (no allocation when it is absent).
    let connection: Vec<&str> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let uri = original.target.split('#').next().unwrap_or_default();
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    check_path(path)?;
    let mut described: IndexMap<String, Values> = IndexMap::new();
    let skip = |name: &HeaderName| {
        let n = name.as_str();
        HOP_BY_HOP.contains(&n)
            || n.starts_with("x-orgscope-")
            || n == "x-original-method"
            || n == "x-original-uri"
            || n == "x-forwarded-method"
            || n == "x-forwarded-uri"
            || n == "x-forwarded-host"
            || identity_headers.contains(&Some(name))
            || connection.iter().any(|t| t.eq_ignore_ascii_case(n))
    };
    for (name, value) in headers {
        if skip(name) {
            continue;
        }
        let value = text(name.as_str(), value)?;
        push(&mut described, name.as_str(), value.to_string());
    }
    if let Some(host) = original.host {
        described.insert("host".into(), Values::One(host.to_string()));
    }
    Ok(Request {
        id: Some(id.into()),
        method: Some(original.method.to_string()),
        body: body(original.body)?,
        path: Some(path.to_string()),
        headers: described,
        query: parse_query(query)?,
        user,
        tenant: multi_org.map(|m| Tenant {
            id: None,
            multi_org: Some(m),
        }),
        ..Request::default()
    })
}

/// The body as JSON: absent or empty is no body; anything else that is not JSON, or holds a
/// duplicate key, is refused, so the policy never decides a create on a body the upstream reads
/// differently.
fn body(bytes: Option<&[u8]>) -> Result<Option<serde_json::Value>, Refusal> {
    match bytes.filter(|b| !b.trim_ascii().is_empty()) {
        None => Ok(None),
        Some(b) => Request::body_from_slice(b)
            .map(Some)
            .map_err(|e| Refusal::Invalid(format!("the request body is not JSON: {e}"))),
    }
}

/// Refuses a path the upstream might resolve to another one than orgscope decided on: dot
/// segments, encoded dots or slashes, a backslash. The decision is about the path as sent, so
/// it must be the path the upstream serves.
fn check_path(path: &str) -> Result<(), Refusal> {
    let escaped = |e: &[u8]| {
        path.as_bytes()
            .windows(e.len())
            .any(|w| w.eq_ignore_ascii_case(e))
    };
    let ambiguous = path.split('/').any(|seg| seg == "." || seg == "..")
        || [b"%2e", b"%2f", b"%5c"].iter().any(|e| escaped(*e))
        || path.contains('\\');
    if ambiguous {
        return Err(Refusal::Invalid(format!(
            "the path `{path}` has dot segments or encoded separators"
        )));
    }
    Ok(())
}

/// The user and the tenant's Multi-Org switch, from the one configured source.
pub(crate) fn identify(headers: &HeaderMap, who: Who<'_>) -> Result<(User, Option<bool>), Refusal> {
    match who {
        Who::Nobody => Err(Refusal::Unauthenticated(
            "no identity source is configured (`--trust-identity-headers` or `--jwt-key`)",
        )),
        Who::Jwt(jwt) => {
            let invalid = || Refusal::Unauthenticated("a valid bearer token is required");
            let value = single(headers, AUTHORIZATION.as_str()).map_err(|_| invalid())?;
            let token = value
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim())
                .ok_or_else(invalid)?;
            jwt.identify(token).map_err(|_| invalid())
        }
        Who::Headers(identity) => {
            let user = user(headers, identity)?;
            let multi_org = match identity_header(headers, &identity.multi_org)? {
                None => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(other) => {
                    return Err(Refusal::Invalid(format!(
                        "header `{}` must be `true` or `false`, not `{other}`",
                        identity.multi_org
                    )))
                }
            };
            Ok((user, multi_org))
        }
    }
}

fn user(headers: &HeaderMap, identity: &IdentityHeaders) -> Result<User, Refusal> {
    let orgs: Vec<String> = identity_header(headers, &identity.orgs)?
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_string)
        .collect();
    if orgs.is_empty() {
        return Err(Refusal::Unauthenticated("the request names no user orgs"));
    }
    Ok(User {
        id: identity_header(headers, &identity.user)?.map(str::to_string),
        orgs,
        default_org: identity_header(headers, &identity.default_org)?.map(str::to_string),
    })
}

/// An identity header's value, trimmed. One sent twice means something in front appended
/// instead of replacing: neither copy is believed. An empty one is absent (gateways send empty
/// values for unset variables).
fn identity_header<'h>(
    headers: &'h HeaderMap,
    name: &HeaderName,
) -> Result<Option<&'h str>, Refusal> {
    let value = single(headers, name.as_str())
        .map_err(|_| Refusal::Unauthenticated("an identity header was sent more than once"))?;
    Ok(value.map(str::trim).filter(|v| !v.is_empty()))
}

/// The one value of a header, if present; an error when it is repeated or not UTF-8.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, String> {
    let mut all = headers.get_all(name).iter();
    match (all.next(), all.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => text(name, v).map(Some).map_err(|e| match e {
            Refusal::Invalid(m) => m,
            Refusal::Unauthenticated(m) => m.to_string(),
        }),
        (Some(_), Some(_)) => Err(format!("header `{name}` was sent more than once")),
    }
}

fn required<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, String> {
    single(headers, name)?.ok_or_else(|| format!("the gateway sent no `{name}` header"))
}

fn text<'h>(name: &str, value: &'h HeaderValue) -> Result<&'h str, Refusal> {
    std::str::from_utf8(value.as_bytes())
        .map_err(|_| Refusal::Invalid(format!("header `{name}` is not valid UTF-8")))
}

fn push(map: &mut IndexMap<String, Values>, name: &str, value: String) {
    match map.get_mut(name) {
        None => {
            map.insert(name.to_string(), Values::One(value));
        }
        Some(slot) => {
            let mut all = match std::mem::replace(slot, Values::Many(Vec::new())) {
                Values::One(v) => vec![v],
                Values::Many(v) => v,
            };
            all.push(value);
            *slot = Values::Many(all);
        }
    }
}

/// Parses a query string as `application/x-www-form-urlencoded`: names and values
/// percent-decoded (`+` is a space), every occurrence kept, in order.
pub(crate) fn parse_query(query: &str) -> Result<IndexMap<String, Values>, Refusal> {
    let mut map = IndexMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        push(&mut map, &decode(name)?, decode(value)?);
    }
    Ok(map)
}

fn decode(s: &str) -> Result<String, Refusal> {
    let bad = || Refusal::Invalid(format!("the query string has a malformed escape in `{s}`"));
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes
                    .next()
                    .and_then(|c| (c as char).to_digit(16))
                    .ok_or_else(bad)?;
                let lo = bytes
                    .next()
                    .and_then(|c| (c as char).to_digit(16))
                    .ok_or_else(bad)?;
                out.push((hi * 16 + lo) as u8);
            }
            _ => out.push(b),
        }
    }
    String::from_utf8(out)
        .map_err(|_| Refusal::Invalid(format!("the query string `{s}` is not UTF-8 once decoded")))
}

/// The headers that tell the upstream what an allow scopes it to (every value ASCII): the
/// visible orgs (a comma list, absent when the request is not org-scoped), whether unlabeled
/// records are included, and the labels as JSON.
pub fn scope_headers(d: &Decision) -> Vec<(&'static str, String)> {
    let mut out = Vec::with_capacity(4);
    if let Some(orgs) = &d.visible_orgs {
        let list: Vec<String> = orgs.iter().map(header_safe).collect();
        out.push(("x-orgscope-visible-orgs", list.join(",")));
    }
    out.push((
        "x-orgscope-include-unlabeled",
        d.include_unlabeled.to_string(),
    ));
    let labels = serde_json::to_string(&d.labels).unwrap_or_else(|_| "[]".into());
    out.push(("x-orgscope-labels", ascii_json(&labels)));
    out
}

/// An org name as one item of a comma list in a header: `%`, `,`, controls and non-ASCII
/// percent-encoded, everything else (every name of the shipped policies) unchanged.
fn header_safe(org: &str) -> String {
    let mut out = String::with_capacity(org.len());
    for b in org.bytes() {
        if b == b'%' || b == b',' || !(0x20..0x7f).contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// JSON text with every non-ASCII character written as a `\u` escape, so it is a valid header
/// value (JSON text has non-ASCII characters only inside strings, where escapes mean the same).
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_decoded_and_repeats_kept() {
        let q = parse_query("organizationId=o%2D1&a=x+y&organizationId=o-2&flag&=v").unwrap();
        assert_eq!(
            q.get("organizationId"),
            Some(&Values::Many(vec!["o-1".into(), "o-2".into()]))
        );
        assert_eq!(q.get("a"), Some(&Values::One("x y".into())));
        assert_eq!(q.get("flag"), Some(&Values::One(String::new())));
        assert_eq!(q.get(""), Some(&Values::One("v".into())));
    }

    #[test]
    fn malformed_escapes_are_refused() {
        for bad in ["a=%", "a=%G1", "a=%4", "a=%FF"] {
            assert!(
                matches!(parse_query(bad), Err(Refusal::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for bad in [
            "/v1/a/../b",
            "/v1/./a",
            "/v1/a/..",
            "/v1/a%2Fb",
            "/v1/%2e%2E/b",
            "/v1\\a",
            "/v1/a%5Cb",
        ] {
            assert!(matches!(check_path(bad), Err(Refusal::Invalid(_))), "{bad}");
        }
        for good in ["/v1/accounts/A-1", "/v1/a.b/c..d", "/", "/v1/a%20b"] {
            assert_eq!(check_path(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn identity_and_hop_by_hop_headers_never_reach_the_policy() {
        let mut headers = HeaderMap::new();
        for (n, v) in [
            ("connection", "keep-alive, X-Secret"),
            ("x-secret", "1"),
            ("keep-alive", "5"),
            ("x-auth-orgs", "Asia"),
            ("x-orgscope-visible-orgs", "Forged"),
            ("zuora-org-ids", "Asia"),
        ] {
            headers.append(n, HeaderValue::from_static(v));
        }
        let original = Original {
            method: "POST",
            target: "/query/jobs",
            host: None,
            headers: &headers,
            body: None,
        };
        let identity = crate::IdentityHeaders::default();
        let req = describe(&original, Who::Headers(&identity), "d-1").unwrap();
        assert_eq!(req.user.orgs, ["Asia"]);
        let names: Vec<&str> = req.headers.keys().map(String::as_str).collect();
        assert_eq!(names, ["zuora-org-ids"]);
    }

    #[test]
    fn scope_headers_stay_ascii() {
        assert_eq!(header_safe("Asia"), "Asia");
        assert_eq!(header_safe("a,b%é"), "a%2Cb%25%C3%A9");
        assert_eq!(ascii_json(r#"["é😀"]"#), r#"["\u00e9\ud83d\ude00"]"#);
        let v: Vec<String> = serde_json::from_str(&ascii_json(r#"["é😀"]"#)).unwrap();
        assert_eq!(v, ["é😀"]);
    }
}
