//! Identity from a verified JWT over real HTTP: keys made by openssl in the test, tokens signed
//! here; every attack (alg none, HS256 signed with the RSA public key, expired, not yet valid,
//! wrong issuer or audience, another key, forged identity headers) is a 401 or changes nothing.

mod common;

use common::{eventually, get, repo, send, Reply, TempDir};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use orgscope_server::{Config, Jwt, JwtAlgorithm, JwtClaims, Server};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

const ZUORA: &str = "policies/zuora-multi-org.policy";
const ENTITIES: &str = "crates/orgscope-cli/tests/acceptance/zuora-multi-org.entities.ndjson";
const ISS: &str = "https://idp.example";
const AUD: &str = "orgscope";

fn openssl(dir: &TempDir, args: &[&str]) {
    let ok = Command::new("openssl")
        .args(args)
        .current_dir(&dir.0)
        .output()
        .expect("openssl on PATH");
    assert!(
        ok.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

/// Key files: `rsa.pem`/`rsa.pub.pem`, `other.pem` (another RSA key), `ec.pem`/`ec.pub.pem`,
/// `secret` (HS256).
fn keys(dir: &TempDir) {
    openssl(dir, &["genrsa", "-out", "rsa.pem", "2048"]);
    openssl(
        dir,
        &["rsa", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub.pem"],
    );
    openssl(dir, &["genrsa", "-out", "other.pem", "2048"]);
    openssl(
        dir,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            "ec1.pem",
        ],
    );
    openssl(
        dir,
        &[
            "pkcs8", "-topk8", "-nocrypt", "-in", "ec1.pem", "-out", "ec.pem",
        ],
    );
    openssl(
        dir,
        &["ec", "-in", "ec1.pem", "-pubout", "-out", "ec.pub.pem"],
    );
    std::fs::write(dir.path("secret"), "0123456789abcdef0123456789abcdef\n").unwrap();
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Good claims for a user of Asia.
fn claims() -> Value {
    json!({"sub": "u-1", "orgs": ["Asia"], "iss": ISS, "aud": AUD, "exp": now() + 600})
}

fn sign(alg: Algorithm, key: &EncodingKey, claims: &Value) -> String {
    encode(&Header::new(alg), claims, key).unwrap()
}

fn rsa_key(dir: &TempDir, name: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(dir.path(name)).unwrap()).unwrap()
}

fn start(alg: JwtAlgorithm, key: PathBuf, claims: JwtClaims) -> Server {
    let mut c = Config::new(repo(ZUORA));
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.entities = Some(repo(ENTITIES));
    c.jwt = Some(Jwt::from_file(alg, &key, Some(ISS), Some(AUD), claims).unwrap());
    let server = Server::start(c).unwrap();
    let addr = server.addr();
    eventually("the policy to load", || {
        get(addr, "/health/ready").status == 200
    });
    server
}

/// Forward-auth of `GET path` with extra headers.
fn ask(server: &Server, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut all = vec![("x-forwarded-method", "GET"), ("x-forwarded-uri", path)];
    all.extend_from_slice(headers);
    send(server.addr(), "GET", "/v1/forward-auth", &all, b"")
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A bearer token is answered 401.
fn assert_token_refused(server: &Server, path: &str, token: &str, what: &str) {
    let auth = bearer(token);
    assert_refused(&ask(server, path, &[("authorization", &auth)]), what);
}

/// The error of a key file that cannot serve `alg`.
fn bad_key(alg: JwtAlgorithm, file: PathBuf) -> String {
    Jwt::from_file(alg, &file, None, None, JwtClaims::default()).unwrap_err()
}

/// A 401 that says nothing about the decision.
fn assert_refused(r: &Reply, what: &str) {
    assert_eq!(r.status, 401, "{what}: {}", r.text());
    assert!(
        !r.text().contains("decision") && !r.text().contains("Asia"),
        "{what}: {}",
        r.text()
    );
    assert!(r.header("x-orgscope-visible-orgs").is_none(), "{what}");
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| n << 8 | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn rs256_tokens_say_who_the_user_is_and_attacks_are_refused() {
    let dir = TempDir::new("jwt-rs256");
    keys(&dir);
    let server = start(
        JwtAlgorithm::Rs256,
        dir.path("rsa.pub.pem"),
        JwtClaims::default(),
    );
    let key = rsa_key(&dir, "rsa.pem");
    let good = sign(Algorithm::RS256, &key, &claims());
    let auth = bearer(&good);

    let r = ask(&server, "/v1/accounts/A-Asia", &[("authorization", &auth)]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-orgscope-visible-orgs"), Some("Asia"));
    let r = ask(&server, "/v1/accounts/A-China", &[("authorization", &auth)]);
    assert_eq!(r.status, 404, "{}", r.text());

    // Forged identity headers and scope next to a valid token change nothing.
    let r = ask(
        &server,
        "/v1/accounts/A-China",
        &[
            ("authorization", &auth),
            ("x-auth-orgs", "China,Asia"),
            ("x-auth-user", "admin"),
            ("x-orgscope-visible-orgs", "China"),
        ],
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = ask(
        &server,
        "/v1/accounts/A-Asia",
        &[("authorization", &auth), ("x-auth-orgs", "China")],
    );
    assert_eq!(r.header("x-orgscope-visible-orgs"), Some("Asia"));

    // No token, or not a bearer one.
    assert_refused(&ask(&server, "/v1/accounts/A-Asia", &[]), "no token");
    assert_refused(
        &ask(&server, "/v1/accounts/A-Asia", &[("x-auth-orgs", "Asia")]),
        "headers only",
    );
    assert_refused(
        &ask(
            &server,
            "/v1/accounts/A-Asia",
            &[("authorization", &format!("Basic {good}"))],
        ),
        "basic",
    );
    assert_refused(
        &ask(
            &server,
            "/v1/accounts/A-Asia",
            &[("authorization", &auth), ("authorization", &auth)],
        ),
        "two tokens",
    );

    // alg none, with and without a signature.
    let payload = b64(claims().to_string().as_bytes());
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"None"}"#,
        r#"{"alg":"NONE"}"#,
    ] {
        for sig in ["", "x"] {
            let token = format!("{}.{payload}.{sig}", b64(header.as_bytes()));
            assert_token_refused(&server, "/v1/accounts/A-Asia", &token, header);
        }
    }
    // HS256 with the RSA public key as the shared secret (the key confusion attack).
    let public = std::fs::read(dir.path("rsa.pub.pem")).unwrap();
    let confused = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(&public),
        &claims(),
    );
    assert_token_refused(&server, "/v1/accounts/A-Asia", &confused, "hs/rs");
    // Signed by another key; a payload changed after signing.
    let other = sign(Algorithm::RS256, &rsa_key(&dir, "other.pem"), &claims());
    assert_token_refused(&server, "/v1/accounts/A-Asia", &other, "other key");
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut widened = claims();
    widened["orgs"] = json!(["Asia", "China"]);
    parts[1] = b64(widened.to_string().as_bytes());
    assert_token_refused(
        &server,
        "/v1/accounts/A-China",
        &parts.join("."),
        "tampered",
    );

    // Time, issuer and audience.
    let bad_claims = [
        ("expired", json!({"exp": now() - 3600})),
        ("not yet valid", json!({"nbf": now() + 3600})),
        ("wrong issuer", json!({"iss": "https://evil.example"})),
        ("wrong audience", json!({"aud": "someone-else"})),
        ("no orgs", json!({"orgs": []})),
        ("orgs not strings", json!({"orgs": [1]})),
    ];
    for (what, change) in bad_claims {
        let mut c = claims();
        for (k, v) in change.as_object().unwrap() {
            c[k] = v.clone();
        }
        let token = sign(Algorithm::RS256, &key, &c);
        assert_token_refused(&server, "/v1/accounts/A-Asia", &token, what);
    }
    for missing in ["exp", "iss", "aud"] {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(missing);
        let token = sign(Algorithm::RS256, &key, &c);
        assert_token_refused(&server, "/v1/accounts/A-Asia", &token, missing);
    }
    // Garbage never panics.
    for junk in ["", ".", "..", "a.b.c", "Bearer", "e30.e30.e30"] {
        let r = ask(
            &server,
            "/v1/accounts/A-Asia",
            &[("authorization", &bearer(junk))],
        );
        assert_eq!(r.status, 401, "{junk:?}");
    }
}

#[test]
fn es256_and_hs256_keys_and_claim_paths() {
    let dir = TempDir::new("jwt-es-hs");
    keys(&dir);
    let claims_at = JwtClaims {
        orgs: "/ext/org_ids".into(),
        default_org: "/ext/home".into(),
        ..JwtClaims::default()
    };
    let server = start(JwtAlgorithm::Es256, dir.path("ec.pub.pem"), claims_at);
    let ec = EncodingKey::from_ec_pem(&std::fs::read(dir.path("ec.pem")).unwrap()).unwrap();
    let mut c = claims();
    c.as_object_mut().unwrap().remove("orgs");
    c["ext"] = json!({"org_ids": "Asia, China", "home": "China"});
    let token = sign(Algorithm::ES256, &ec, &c);
    let r = ask(
        &server,
        "/v1/accounts/A-China",
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-orgscope-visible-orgs"), Some("Asia,China"));
    // An RS256 token to an ES256 service, even from a valid key pair.
    let rs = sign(Algorithm::RS256, &rsa_key(&dir, "rsa.pem"), &c);
    assert_token_refused(&server, "/v1/accounts/A-China", &rs, "rs to es");
    drop(server);

    let server = start(
        JwtAlgorithm::Hs256,
        dir.path("secret"),
        JwtClaims::default(),
    );
    let secret = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
    let token = sign(Algorithm::HS256, &secret, &claims());
    let r = ask(
        &server,
        "/v1/accounts/A-Asia",
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let wrong = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdeX");
    let token = sign(Algorithm::HS256, &wrong, &claims());
    assert_token_refused(&server, "/v1/accounts/A-Asia", &token, "wrong secret");
    // HS384 with the right secret: not the pinned algorithm.
    let token = sign(Algorithm::HS384, &secret, &claims());
    assert_token_refused(&server, "/v1/accounts/A-Asia", &token, "hs384");

    // Keys that cannot work are refused at start.
    std::fs::write(dir.path("short"), "tooshort").unwrap();
    let e = bad_key(JwtAlgorithm::Hs256, dir.path("short"));
    assert!(e.contains("at least 32"), "{e}");
    let e = bad_key(JwtAlgorithm::Rs256, dir.path("ec.pub.pem"));
    assert!(e.contains("not a Rs256 key"), "{e}");
}

#[test]
fn identity_headers_and_jwt_are_not_both_trusted() {
    let dir = TempDir::new("jwt-both");
    keys(&dir);
    let mut c = Config::new(repo(ZUORA));
    c.listen = "127.0.0.1:0".parse().unwrap();
    c.identity = Some(orgscope_server::IdentityHeaders::default());
    c.jwt = Some(
        Jwt::from_file(
            JwtAlgorithm::Rs256,
            &dir.path("rsa.pub.pem"),
            None,
            None,
            JwtClaims::default(),
        )
        .unwrap(),
    );
    assert!(Server::start(c).is_err());
}
