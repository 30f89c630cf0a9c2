//! `orgscope serve` as a process: the acceptance tables through `/v1/decide` against
//! `orgscope eval`, signals (SIGHUP reload, SIGTERM drain), and real nginx in front of it.

mod common;
#[path = "../../orgscope-server/tests/common/mod.rs"]
mod http;

use http::{decide, eventually, get, TempDir};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// A running `orgscope serve`, killed on drop; its stderr collected.
struct Service {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Service {
    fn start(args: &[&str]) -> Service {
        let mut child = common::orgscope()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start orgscope serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(addr.parse::<SocketAddr>().unwrap());
                }
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("orgscope serve printed its address");
        eventually("readiness", || get(addr, "/health/ready").status == 200);
        Service { child, addr, log }
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends `SIGTERM`; the exit code, once the process has drained and exited (10 s at most).
    fn terminate(&mut self) -> Option<i32> {
        self.signal("TERM");
        for _ in 0..500 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The ext_authz address (`--grpc-addr`), as printed.
    fn grpc(&self) -> SocketAddr {
        let mut addr = None;
        eventually("the ext_authz address", || {
            addr = self
                .log()
                .split("ext_authz on grpc://")
                .nth(1)
                .and_then(|rest| rest.lines().next()?.parse().ok());
            addr.is_some()
        });
        addr.unwrap()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn table(policy: &str) -> (Vec<Value>, Option<String>) {
    let dir = format!("crates/orgscope-cli/tests/acceptance/{policy}");
    let text =
        std::fs::read_to_string(Path::new(common::ROOT).join(format!("{dir}.ndjson"))).unwrap();
    let rows = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let entities = format!("{dir}.entities.ndjson");
    let entities = Path::new(common::ROOT)
        .join(&entities)
        .exists()
        .then_some(entities);
    (rows, entities)
}

fn policy_args(policy: &str, entities: &Option<String>) -> Vec<String> {
    let mut args = vec!["--policy".to_string(), format!("policies/{policy}.policy")];
    if let Some(e) = entities {
        args.extend(["--entities".to_string(), e.clone()]);
    }
    args
}

/// A decision to compare: `orgscope eval` names the input line in an `invalid_request`
/// message and the service (one request per line or per body) does not, so for that code the
/// message is left out; every other field, and every other decision, must be equal.
fn comparable(d: &Value) -> Value {
    let mut d = d.clone();
    if d["errors"][0]["code"] == "invalid_request" {
        d["errors"][0]["message"] = Value::Null;
    }
    d
}

#[test]
fn acceptance_tables_through_decide_match_eval() {
    for policy in ["zuora-multi-org", "aep-organization-id"] {
        let (rows, entities) = table(policy);
        let args = policy_args(policy, &entities);
        let input: String = rows.iter().map(|r| format!("{}\n", r["request"])).collect();
        let mut eval_args = vec!["eval"];
        eval_args.extend(args.iter().map(String::as_str));
        let want = common::decisions(&common::run(&eval_args, input.as_bytes()));
        let service = Service::start(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let got = decide(service.addr, "application/x-ndjson", &input).lines();
        assert_eq!(got.len(), rows.len(), "{policy}: one decision per request");
        for ((row, g), w) in rows.iter().zip(&got).zip(&want) {
            assert_eq!(comparable(g), comparable(w), "{policy}: {}", row["case"]);
        }
        // One by one, the same.
        for (row, w) in rows.iter().zip(&want) {
            let one = decide(
                service.addr,
                "application/json",
                &row["request"].to_string(),
            );
            assert_eq!(
                comparable(&one.json()),
                comparable(w),
                "{policy}: {}",
                row["case"]
            );
        }
    }
}

#[test]
fn sighup_reloads_and_sigterm_drains() {
    let dir = TempDir::new("sighup");
    let policy = dir.path("p.policy");
    let repo = Path::new(common::ROOT);
    std::fs::copy(repo.join("policies/zuora-multi-org.policy"), &policy).unwrap();
    let p = policy.to_str().unwrap();
    let mut service = Service::start(&["--policy", p, "--watch-interval-ms", "0"]);
    let query = r#"{"method": "POST", "path": "/query/jobs", "user": {"orgs": ["Asia"]}}"#;
    let revision = |s: &Service| {
        decide(s.addr, "application/json", query)
            .header("x-orgscope-revision")
            .unwrap()
            .to_string()
    };
    let first = revision(&service);

    // Watching is off: an edit changes nothing until SIGHUP.
    std::fs::copy(repo.join("policies/aep-organization-id.policy"), &policy).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(revision(&service), first);
    service.signal("HUP");
    eventually("the reload", || revision(&service) != first);
    let second = revision(&service);

    // A broken policy and SIGHUP: reported, and the last good one keeps serving.
    std::fs::write(&policy, "objects {").unwrap();
    service.signal("HUP");
    eventually("the failed reload", || {
        service.log().contains("reload failed")
    });
    assert_eq!(revision(&service), second);
    assert_eq!(get(service.addr, "/health/ready").status, 200);

    assert_eq!(service.terminate(), Some(0), "{}", service.log());
}

// ---- nginx -----------------------------------------------------------------------------------

/// An upstream that answers every request with the headers it received, as JSON
/// `[[name, value], ...]` (lower-case names), for at most 10,000 connections.
fn echo_upstream() -> SocketAddr {
    serve_loopback(echo)
}

/// A loopback server answering each connection with `answer`, on a thread of its own.
fn serve_loopback(answer: fn(TcpStream) -> std::io::Result<()>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(10_000).map_while(Result::ok) {
            let _ = answer(conn);
        }
    });
    addr
}

fn echo(conn: TcpStream) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut r = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let Some((n, v)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap_or(0));
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    let out = serde_json::to_string(&headers)?;
    let mut w = conn;
    write!(w, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{out}", out.len())
}

/// A gateway (nginx or Caddy) on loopback, its config in a temporary directory, stopped on drop.
struct Gateway {
    child: Child,
    addr: SocketAddr,
    _dir: TempDir,
}

impl Gateway {
    /// Starts `cmd` (its stdout silenced), and waits until it listens on loopback `port`.
    fn spawn(name: &str, mut cmd: Command, port: u16, dir: TempDir) -> Gateway {
        let child = cmd
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        eventually(&format!("{name} to listen"), || {
            TcpStream::connect(addr).is_ok()
        });
        Gateway {
            child,
            addr,
            _dir: dir,
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The gateway's binary, or `None` (and a loud note) when it is not installed; under CI a
/// missing gateway fails the test.
fn binary(name: &str) -> Option<String> {
    let found = ["/usr/sbin", "/usr/bin", "/usr/local/bin"]
        .iter()
        .map(|d| format!("{d}/{name}"))
        .find(|p| Path::new(p).exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed (apt-get install -y {name})"
        );
        eprintln!(
            "SKIPPED: {name} is not installed (apt-get install -y {name}); this test did not run"
        );
    }
    found
}

/// nginx with the shipped snippets in front of `upstream`, checked by `orgscope` at `service`.
/// The stand-in authentication layer takes the user from `X-Test-*` request headers: a real one
/// would verify credentials; what matters here is that nginx, not the client, sets `X-Auth-*`.
fn start_nginx(binary: &str, service: SocketAddr, upstream: SocketAddr) -> Gateway {
    let dir = TempDir::new("nginx");
    let port = free_port();
    let deploy = Path::new(common::ROOT).join("deploy/nginx");
    let d = dir.0.display();
    let conf = format!(
        r#"worker_processes 1;
error_log {d}/error.log info;
pid {d}/nginx.pid;
events {{ worker_connections 128; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream orgscope {{ server {service}; }}
    map $http_x_test_user $orgscope_auth_user {{ default $http_x_test_user; }}
    map $http_x_test_orgs $orgscope_auth_orgs {{ default $http_x_test_orgs; }}
    map $http_x_test_default_org $orgscope_auth_default_org {{ default $http_x_test_default_org; }}
    map $http_x_test_multi_org $orgscope_auth_multi_org {{ default $http_x_test_multi_org; }}
    server {{
        listen 127.0.0.1:{port};
        include {deploy}/orgscope-locations.conf;
        location / {{
            include {deploy}/orgscope-protect.conf;
            proxy_pass http://{upstream};
        }}
    }}
}}
"#,
        deploy = deploy.display()
    );
    std::fs::write(dir.path("nginx.conf"), conf).unwrap();
    let mut cmd = Command::new(binary);
    cmd.args([
        "-p",
        &d.to_string(),
        "-c",
        "nginx.conf",
        "-g",
        "daemon off;",
    ])
    .stderr(Stdio::inherit());
    Gateway::spawn("nginx", cmd, port, dir)
}

/// Sends a request through nginx with the user of `user` (a request description's `user`).
fn through(gateway: &Gateway, request: &Value, extra: &[(&str, &str)]) -> http::Reply {
    let method = request["method"].as_str().unwrap();
    let path = request["path"].as_str().unwrap();
    let mut headers: Vec<(String, String)> = Vec::new();
    let user = &request["user"];
    let orgs: Vec<&str> = user["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    headers.push(("x-test-orgs".into(), orgs.join(",")));
    if let Some(id) = user["id"].as_str() {
        headers.push(("x-test-user".into(), id.into()));
    }
    if let Some(o) = user["default_org"].as_str() {
        headers.push(("x-test-default-org".into(), o.into()));
    }
    if let Some(m) = request["tenant"]["multi_org"].as_bool() {
        headers.push(("x-test-multi-org".into(), m.to_string()));
    }
    for (name, v) in request["headers"].as_object().into_iter().flatten() {
        match v {
            Value::String(s) => headers.push((name.clone(), s.clone())),
            Value::Array(a) => headers.extend(
                a.iter()
                    .map(|s| (name.clone(), s.as_str().unwrap().to_string())),
            ),
            _ => panic!("header {name}"),
        }
    }
    let mut target = path.to_string();
    if let Some(q) = request["query"].as_object().filter(|q| !q.is_empty()) {
        let pairs: Vec<String> = q
            .iter()
            .flat_map(|(k, v)| match v {
                Value::Array(a) => a
                    .iter()
                    .map(|x| format!("{k}={}", x.as_str().unwrap()))
                    .collect(),
                other => vec![format!("{k}={}", other.as_str().unwrap())],
            })
            .collect();
        target = format!("{target}?{}", pairs.join("&"));
    }
    let mut all: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    all.extend_from_slice(extra);
    let body = request
        .get("body")
        .map(Value::to_string)
        .unwrap_or_default();
    if !body.is_empty() {
        all.push(("content-type", "application/json"));
    }
    http::send(gateway.addr, method, &target, &all, body.as_bytes())
}

/// The requests forward-auth can carry: no body (unless the gateway forwards it, as Envoy
/// does), no entities, no action or object of their own (nginx sends neither the body nor
/// anything but the request line and headers), and names and values that travel in a URL and in
/// headers unchanged. A method that is not an upper-case token (`post`) never reaches the auth
/// service: nginx answers it 400 itself.
fn forwardable(request: &Value, with_body: bool) -> bool {
    let plain = |v: &Value| {
        v.as_str().is_some_and(|s| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_/ ,.".contains(&b))
        })
    };
    let map_ok = |m: &Value| {
        m.as_object().into_iter().flatten().all(|(k, v)| {
            plain(&Value::String(k.clone()))
                && (plain(v) || v.as_array().is_some_and(|a| a.iter().all(plain)))
        })
    };
    let only = |v: &Value, keys: &[&str]| {
        v.as_object()
            .is_none_or(|o| o.keys().all(|k| keys.contains(&k.as_str())))
    };
    let mut top_keys = vec!["method", "path", "headers", "query", "user", "tenant"];
    if with_body {
        top_keys.push("body");
    }
    let o = request.as_object().unwrap();
    request["method"]
        .as_str()
        .is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()))
        && o.contains_key("path")
        && only(request, &top_keys)
        && only(&request["user"], &["id", "orgs", "default_org"])
        && only(&request["tenant"], &["multi_org"])
        // A user with no orgs would travel as an empty header, which the proxy hop drops: the
        // service then answers 401 (no identity), a deny, but not the table's 403.
        && request["user"]["orgs"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(plain))
        && map_ok(&request["headers"])
        && map_ok(&request["query"])
        && !request["query"]
            .as_object()
            .is_some_and(|q| q.values().any(|v| v.as_str() == Some("")))
}

/// How a gateway is put in front of the service for [`replay_through`].
struct Front<'a> {
    /// Flags of `orgscope serve` beyond the policy and the trusted identity headers.
    serve_args: &'a [&'a str],
    /// Whether the gateway forwards the request body to orgscope.
    with_body: bool,
}

impl Front<'_> {
    /// A forward-auth gateway (nginx, Caddy, Traefik): the service's defaults, no body.
    const FORWARD_AUTH: Front<'static> = Front {
        serve_args: &[],
        with_body: false,
    };
}

/// Replays every forwardable acceptance row of both shipped policies through a gateway started
/// by `start(service, upstream)`: the status is `orgscope eval`'s, an allow reaches the upstream
/// with the decision's scope headers, and forged scope headers never do.
fn replay_through(name: &str, front: Front, start: impl Fn(&Service, SocketAddr) -> Gateway) {
    let upstream = echo_upstream();
    for policy in ["zuora-multi-org", "aep-organization-id"] {
        let (rows, entities) = table(policy);
        let args = policy_args(policy, &entities);
        let mut serve_args: Vec<&str> = args.iter().map(String::as_str).collect();
        serve_args.push("--trust-identity-headers");
        serve_args.extend_from_slice(front.serve_args);
        let service = Service::start(&serve_args);
        let nginx = start(&service, upstream);
        let mut replayed = 0;
        let forwarded = rows
            .iter()
            .filter(|r| forwardable(&r["request"], front.with_body));
        for row in forwarded {
            let case = row["case"].as_str().unwrap();
            let request = &row["request"];
            let want = &common::decisions(&common::run(
                &[["eval"].as_slice(), &serve_args[..args.len()]].concat(),
                request.to_string().as_bytes(),
            ))[0];
            let forged = [
                ("x-orgscope-visible-orgs", "Forged"),
                ("X-Orgscope-Include-Unlabeled", "forged"),
            ];
            let r = through(&nginx, request, &forged);
            assert_eq!(
                u64::from(r.status),
                want["status"].as_u64().unwrap(),
                "{policy}: {case}: {}",
                r.text()
            );
            if want["decision"] == "allow" {
                let seen: Vec<(String, String)> = serde_json::from_slice(&r.body).unwrap();
                // Caddy 2.6 (Debian 12) copies a header the auth answer lacks as its
                // unreplaced placeholder text: that is an absent header (docs/server.md).
                let get = |n: &str| {
                    seen.iter()
                        .filter(|(k, v)| k == n && !v.starts_with("{http.reverse_proxy.header."))
                        .map(|(_, v)| v.as_str())
                        .collect::<Vec<_>>()
                };
                let visible = want["visible_orgs"].as_array().map(|a| {
                    a.iter()
                        .map(|o| o.as_str().unwrap())
                        .collect::<Vec<_>>()
                        .join(",")
                });
                assert_eq!(
                    get("x-orgscope-visible-orgs"),
                    visible.iter().map(String::as_str).collect::<Vec<_>>(),
                    "{policy}: {case}"
                );
                let unlabeled = want["include_unlabeled"].to_string();
                assert_eq!(
                    get("x-orgscope-include-unlabeled"),
                    [unlabeled.as_str()],
                    "{policy}: {case}"
                );
                assert_eq!(get("x-orgscope-decision-id").len(), 1);
                let labels: Vec<Value> = get("x-orgscope-labels")
                    .iter()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                assert_eq!(labels, [want["labels"].clone()], "{policy}: {case}");
                assert!(
                    !seen.iter().any(|(_, v)| v.contains("orged")),
                    "{policy}: {case}: a forged header reached the upstream: {seen:?}"
                );
            } else {
                // nginx's snippet answers `{status, code}`; Caddy passes the decision through.
                let body = r.json();
                let code = body.get("code").unwrap_or(&body["errors"][0]["code"]);
                assert_eq!(*code, want["errors"][0]["code"], "{policy}: {case}");
            }
            replayed += 1;
        }
        assert!(
            replayed >= 10,
            "{policy}: only {replayed} rows can go through forward-auth"
        );
        eprintln!(
            "{policy}: {replayed} of {} rows replayed through {name}",
            rows.len()
        );
    }
}

#[test]
fn nginx_forward_auth_replays_the_acceptance_tables() {
    if let Some(nginx) = binary("nginx") {
        replay_through("nginx", Front::FORWARD_AUTH, |service, upstream| {
            start_nginx(&nginx, service.addr, upstream)
        });
    }
}

#[test]
fn caddy_forward_auth_replays_the_acceptance_tables() {
    if let Some(caddy) = binary("caddy") {
        replay_through("caddy", Front::FORWARD_AUTH, |service, upstream| {
            start_caddy(&caddy, service.addr, upstream)
        });
    }
}

#[test]
fn traefik_forward_auth_replays_the_acceptance_tables() {
    if let Some(traefik) = common::traefik() {
        let authn = authn_stand_in();
        replay_through("traefik", Front::FORWARD_AUTH, |service, upstream| {
            start_traefik(&traefik, service.addr, upstream, authn)
        });
        // A client cannot be its own authentication layer: its X-Auth-* never reach orgscope.
        let service = zuora_service(&[]);
        let gateway = start_traefik(&traefik, service.addr, echo_upstream(), authn);
        let send = |headers: &[(&str, &str)]| {
            http::send(gateway.addr, "POST", "/query/jobs", headers, b"").status
        };
        assert_eq!(send(&[("x-test-orgs", "Asia")]), 200);
        assert_eq!(send(&[("x-auth-orgs", "Asia")]), 401);
        assert_eq!(send(&[("x-auth-orgs", "Asia"), ("x-auth-user", "u")]), 401);
    }
}

/// A stand-in for the authentication service Traefik asks first: it answers 200 with the user
/// of the `X-Test-*` request headers as `X-Auth-*` (a real one would verify credentials).
fn authn_stand_in() -> SocketAddr {
    serve_loopback(authn)
}

fn authn(mut conn: TcpStream) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut r = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut answer = String::from("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n");
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let Some((n, v)) = line.trim_end().split_once(':') else {
            break;
        };
        if let Some(rest) = n.trim().to_ascii_lowercase().strip_prefix("x-test-") {
            answer.push_str(&format!("x-auth-{rest}: {}\r\n", v.trim()));
        }
    }
    answer.push_str("\r\n");
    conn.write_all(answer.as_bytes())
}

/// Traefik with the shipped `deploy/traefik` configuration, its addresses pointed at this
/// test's and at the stand-in authentication service.
fn start_traefik(
    binary: &str,
    service: SocketAddr,
    upstream: SocketAddr,
    authn: SocketAddr,
) -> Gateway {
    let (dir, port, dynamic) = shipped("traefik", "deploy/traefik/dynamic.yml", |_| {
        vec![
            ("127.0.0.1:8181", service.to_string()),
            ("127.0.0.1:3000", upstream.to_string()),
            ("127.0.0.1:9000", authn.to_string()),
        ]
    });
    let text = std::fs::read_to_string(Path::new(common::ROOT).join("deploy/traefik/traefik.yml"))
        .unwrap()
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .replace(
            "filename: dynamic.yml",
            &format!("filename: {}", dynamic.display()),
        );
    let file = dir.path("traefik.yml");
    std::fs::write(&file, text).unwrap();
    let mut cmd = Command::new(binary);
    cmd.arg(format!("--configFile={}", file.display()))
        .env("HOME", &dir.0)
        .stderr(Stdio::inherit());
    let gateway = Gateway::spawn("traefik", cmd, port, dir);
    // The entry point listens before the file provider's routes are in: until then Traefik
    // answers its own 404.
    eventually("traefik to load its routes", || {
        get(gateway.addr, "/").text() != "404 page not found\n"
    });
    gateway
}

/// A shipped gateway configuration, each `(from, to)` replaced (given the gateway's free port),
/// written to a fresh directory: the directory, the port and the configuration file.
fn shipped(
    name: &str,
    file: &str,
    replacements: impl FnOnce(u16) -> Vec<(&'static str, String)>,
) -> (TempDir, u16, PathBuf) {
    let dir = TempDir::new(name);
    let port = free_port();
    let text = std::fs::read_to_string(Path::new(common::ROOT).join(file)).unwrap();
    let conf = replacements(port)
        .iter()
        .fold(text, |text, (from, to)| text.replace(from, to));
    let path = dir.path(Path::new(file).file_name().unwrap().to_str().unwrap());
    std::fs::write(&path, conf).unwrap();
    (dir, port, path)
}

/// Caddy with the shipped `deploy/caddy/Caddyfile`, its addresses pointed at this test's, and its
/// stand-in authentication layer reading `X-Test-*`.
fn start_caddy(binary: &str, service: SocketAddr, upstream: SocketAddr) -> Gateway {
    let (dir, port, file) = shipped("caddy", "deploy/caddy/Caddyfile", |port| {
        vec![
            ("127.0.0.1:8080", format!("127.0.0.1:{port}")),
            ("127.0.0.1:8181", service.to_string()),
            ("127.0.0.1:3000", upstream.to_string()),
            ("X-Demo-", "X-Test-".into()),
        ]
    });
    let mut cmd = Command::new(binary);
    cmd.args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("HOME", &dir.0)
        .env("XDG_DATA_HOME", &dir.0)
        .env("XDG_CONFIG_HOME", &dir.0)
        .stderr(Stdio::null());
    Gateway::spawn("caddy", cmd, port, dir)
}

/// The service on the Zuora policy and its acceptance entities, trusting identity headers.
fn zuora_service(extra: &[&str]) -> Service {
    let mut args = vec![
        "--policy",
        "policies/zuora-multi-org.policy",
        "--entities",
        "crates/orgscope-cli/tests/acceptance/zuora-multi-org.entities.ndjson",
        "--trust-identity-headers",
    ];
    args.extend_from_slice(extra);
    Service::start(&args)
}

#[test]
fn nginx_keeps_404_and_drops_forged_scope() {
    let Some(binary) = binary("nginx") else {
        return;
    };
    let upstream = echo_upstream();
    let service = zuora_service(&[]);
    let nginx = start_nginx(&binary, service.addr, upstream);
    let send = |method: &str, target: &str, headers: &[(&str, &str)]| {
        http::send(nginx.addr, method, target, headers, b"")
    };
    // An object in an org the user cannot see: 404 through nginx, never 403 or 500.
    let r = send("GET", "/v1/accounts/A-China", &[("x-test-orgs", "Asia")]);
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (404, Some("not_found"))
    );
    let r = send("GET", "/v1/accounts/A-Nowhere", &[("x-test-orgs", "Asia")]);
    assert_eq!(r.status, 404);
    // No identity from the authentication layer: 401.
    assert_eq!(send("POST", "/query/jobs", &[]).status, 401);
    // A client cannot be its own authentication layer for orgscope: it sends X-Auth-Orgs itself.
    assert_eq!(
        send("POST", "/query/jobs", &[("x-auth-orgs", "Asia")]).status,
        401
    );
    // Multi-Org off: no visible set, and the client's forged one does not get through.
    let r = send(
        "POST",
        "/query/jobs",
        &[
            ("x-test-orgs", "Asia"),
            ("x-test-multi-org", "false"),
            ("x-orgscope-visible-orgs", "Japan"),
            ("x-orgscope-labels", r#"[{"org":"Japan"}]"#),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let seen: Vec<(String, String)> = serde_json::from_slice(&r.body).unwrap();
    assert!(
        !seen.iter().any(|(n, _)| n == "x-orgscope-visible-orgs"),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|(_, v)| v.contains("Japan")), "{seen:?}");
    // A path the upstream could resolve elsewhere is refused, never allowed.
    for sneaky in [
        "/v1/accounts/A-Asia/../A-China",
        "/v1/accounts/A-Asia%2F..%2FA-China",
    ] {
        let r = send("GET", sneaky, &[("x-test-orgs", "Asia")]);
        assert!(r.status >= 400, "{sneaky}: {}", r.status);
    }
    // The request line nginx sends wins over one the client puts in a header.
    let r = send(
        "GET",
        "/v1/accounts/A-China",
        &[
            ("x-test-orgs", "Asia"),
            ("x-original-uri", "/v1/accounts/A-Asia"),
        ],
    );
    assert_eq!(r.status, 404);
}

#[test]
fn quick_start_serves_from_sqlite_and_logs_decisions() {
    let dir = TempDir::new("quick-start");
    let log = dir.path("decisions.ndjson");
    let log_arg = log.display().to_string();
    let service = Service::start(&[
        "--policy",
        "policies/zuora-multi-org.policy",
        "--stores",
        "examples/zuora-stores.toml",
        "--decision-log",
        &log_arg,
        "--mask",
        "/user/id",
    ]);
    let d = decide(
        service.addr,
        "application/json",
        r#"{"method": "POST", "path": "/v1/invoices", "body": {"accountId": "A-1"},
            "user": {"id": "secret-user-42", "orgs": ["Asia"]}}"#,
    )
    .json();
    assert_eq!(d["labels"][0]["org"], "Asia", "{d}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!text.contains("secret-user-42"), "{text}");
    let event: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(event["decision"]["decision"], "allow");
    assert_eq!(event["request"]["user"]["id"], "***");
}

#[test]
fn jwt_and_identity_headers_are_exclusive_flags() {
    let out = common::orgscope()
        .args(["serve", "--policy", "policies/zuora-multi-org.policy"])
        .args([
            "--jwt-key",
            "x.pem",
            "--jwt-alg",
            "RS256",
            "--trust-identity-headers",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = common::orgscope()
        .args(["serve", "--policy", "policies/zuora-multi-org.policy"])
        .args(["--jwt-key", "no-such-key.pem", "--jwt-alg", "RS256"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-key.pem"));
}

// ---- Envoy -----------------------------------------------------------------------------------

/// Envoy with the shipped `deploy/envoy/envoy.yaml`, its ports pointed at this test's, and its
/// stand-in authentication layer reading `X-Test-*`.
fn start_envoy(binary: &str, grpc: SocketAddr, upstream: SocketAddr) -> Gateway {
    let (dir, port, file) = shipped("envoy", "deploy/envoy/envoy.yaml", |port| {
        vec![
            ("port_value: 8080", format!("port_value: {port}")),
            ("port_value: 9191", format!("port_value: {}", grpc.port())),
            (
                "port_value: 3000",
                format!("port_value: {}", upstream.port()),
            ),
            ("x-demo-", "x-test-".into()),
        ]
    });
    let mut cmd = Command::new(binary);
    cmd.arg("-c")
        .arg(&file)
        .args(["--disable-hot-restart", "--concurrency", "1", "-l", "error"])
        .stderr(Stdio::inherit());
    Gateway::spawn("envoy", cmd, port, dir)
}

#[test]
fn envoy_ext_authz_replays_the_acceptance_tables() {
    if let Some(envoy) = common::envoy() {
        let front = Front {
            serve_args: &["--grpc-addr", "127.0.0.1:0"],
            with_body: true,
        };
        replay_through("envoy", front, |service, upstream| {
            start_envoy(&envoy, service.grpc(), upstream)
        });
    }
}

#[test]
fn envoy_drops_forged_scope_and_fails_closed() {
    let Some(binary) = common::envoy() else {
        return;
    };
    let upstream = echo_upstream();
    let service = zuora_service(&["--grpc-addr", "127.0.0.1:0"]);
    let envoy = start_envoy(&binary, service.grpc(), upstream);
    let send = |method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]| {
        http::send(envoy.addr, method, target, headers, body)
    };
    let upstream_saw = |r: &http::Reply| -> Vec<(String, String)> {
        assert_eq!(r.status, 200, "{}", r.text());
        serde_json::from_slice(&r.body).unwrap()
    };
    // Forged scope headers, repeated and in any case: the upstream sees orgscope's only.
    let r = send(
        "POST",
        "/query/jobs",
        &[
            ("x-test-orgs", "Asia"),
            ("x-orgscope-visible-orgs", "Forged"),
            ("X-Orgscope-Visible-Orgs", "Forged2"),
            ("x-orgscope-labels", r#"[{"org":"Forged"}]"#),
            ("x-orgscope-decision-id", "forged"),
            ("x-orgscope-anything", "forged"),
        ],
        b"",
    );
    let seen = upstream_saw(&r);
    assert!(!seen.iter().any(|(_, v)| v.contains("orged")), "{seen:?}");
    let visible: Vec<&str> = seen
        .iter()
        .filter(|(n, _)| n == "x-orgscope-visible-orgs")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(visible, ["Asia"]);
    // Multi-Org off: no visible set at all, and the client's forged one is removed.
    let r = send(
        "POST",
        "/query/jobs",
        &[
            ("x-test-orgs", "Asia"),
            ("x-test-multi-org", "false"),
            ("x-orgscope-visible-orgs", "Japan"),
        ],
        b"",
    );
    let seen = upstream_saw(&r);
    assert!(
        !seen.iter().any(|(n, _)| n == "x-orgscope-visible-orgs"),
        "{seen:?}"
    );
    // The client cannot be its own authentication layer: its X-Auth-Orgs is replaced.
    let r = send("POST", "/query/jobs", &[("x-auth-orgs", "Asia")], b"");
    assert_eq!(r.status, 401, "{}", r.text());
    // An object in an org the user cannot see is 404, like one that does not exist.
    let hidden = send(
        "GET",
        "/v1/accounts/A-China",
        &[("x-test-orgs", "Asia")],
        b"",
    );
    let missing = send(
        "GET",
        "/v1/accounts/A-Nowhere",
        &[("x-test-orgs", "Asia")],
        b"",
    );
    assert_eq!((hidden.status, missing.status), (404, 404));
    assert_eq!(hidden.json()["errors"][0]["code"], "not_found");
    // Envoy resolves dot segments before the check, so orgscope decides the path the upstream
    // gets; an encoded slash is refused.
    let r = send(
        "GET",
        "/v1/accounts/A-Asia/../A-China",
        &[("x-test-orgs", "Asia")],
        b"",
    );
    assert_eq!(r.status, 404, "{}", r.text());
    let r = send(
        "GET",
        "/v1/accounts/A-Asia%2F..%2FA-China",
        &[("x-test-orgs", "Asia")],
        b"",
    );
    assert!(r.status >= 400, "{}", r.status);
    // A create is decided on its body: an org the user lacks is refused, a body that is not JSON
    // is an invalid request, never a create without an org.
    let json = [
        ("x-test-orgs", "Asia"),
        ("content-type", "application/json"),
    ];
    let r = send(
        "POST",
        "/v1/accounts",
        &json,
        br#"{"organizationLabel": "China"}"#,
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let r = send(
        "POST",
        "/v1/accounts",
        &json,
        br#"{"organizationLabel": "Asia"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send("POST", "/v1/accounts", &json, b"organizationLabel=Asia");
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["errors"][0]["code"], "invalid_request");
    // A key given twice, which the upstream may read either way, is refused the same.
    let twice = br#"{"organizationLabel": "China", "organizationLabel": "Asia"}"#;
    let r = send("POST", "/v1/accounts", &json, twice);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["errors"][0]["code"], "invalid_request");
    // A body too large to check whole is refused by Envoy, not checked in part.
    let big = format!(
        r#"{{"organizationLabel": "Asia", "pad": "{}"}}"#,
        "x".repeat(2 << 20)
    );
    let r = send("POST", "/v1/accounts", &json, big.as_bytes());
    assert_eq!(r.status, 413);

    // orgscope down: Envoy denies (503), and nothing reaches the upstream.
    drop(service);
    for _ in 0..3 {
        let r = send("POST", "/query/jobs", &[("x-test-orgs", "Asia")], b"");
        assert_eq!(r.status, 503, "{}", r.text());
        assert!(!r.text().contains("x-auth-orgs"), "{}", r.text());
    }
}

#[test]
fn grpc_door_stops_with_the_service_and_a_busy_port_fails_the_start() {
    let mut service = zuora_service(&["--grpc-addr", "127.0.0.1:0"]);
    let grpc = service.grpc();
    assert_eq!(service.terminate(), Some(0), "{}", service.log());
    assert!(TcpStream::connect(grpc).is_err(), "ext_authz still listens");

    // ext_authz cannot bind: the whole service exits with the reason, never serves half.
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let out = common::run(
        &[
            "serve",
            "--policy",
            "policies/zuora-multi-org.policy",
            "--listen",
            "127.0.0.1:0",
            "--grpc-addr",
            &busy.local_addr().unwrap().to_string(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = common::stderr(&out);
    assert!(stderr.contains("error: cannot serve"), "{stderr}");
}
