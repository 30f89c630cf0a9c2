//! `orgscope eval` through the real binary: batches, malformed input, exit codes, entities files.

mod common;

use common::{decisions, orgscope, run, stderr, stdout};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const ZUORA: &str = "policies/zuora-multi-org.policy";

fn eval(args: &[&str], stdin: &[u8]) -> Output {
    let mut all = vec!["eval"];
    all.extend_from_slice(args);
    run(&all, stdin)
}

const QUERY: &str = r#"{"id":"q","method":"POST","path":"/query/jobs","user":{"orgs":["Asia"]}}"#;
const DENIED: &str = r#"{"id":"d","method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"China"},"user":{"orgs":["Asia"]}}"#;

#[test]
fn one_line_per_request_in_order_and_blank_lines_skipped() {
    let input = format!("{QUERY}\n\n{DENIED}\n   \n{QUERY}\n");
    let out = eval(&["--policy", ZUORA], input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let ds = decisions(&out);
    let ids: Vec<&str> = ds.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["q", "d", "q"]);
    assert_eq!(ds[1]["decision"], "deny");
}

#[test]
fn malformed_lines_get_their_own_deny_and_the_batch_goes_on() {
    let mut input = Vec::new();
    input.extend_from_slice(format!("{QUERY}\n").as_bytes());
    input.extend_from_slice(b"{\"id\": \"broken\", \"user\": \n");
    input.extend_from_slice(b"not json at all\n");
    input.extend_from_slice(b"{\"id\":\"x\",\"user\":{\"orgs\":[\"\xff\xfe\"]}}\n");
    input.extend_from_slice(b"{\"id\":\"typo\",\"usr\":{}}\n");
    input.extend_from_slice(format!("{QUERY}\n").as_bytes());
    let out = eval(&["--policy", ZUORA], &input);
    assert_eq!(out.status.code(), Some(0));
    let ds = decisions(&out);
    assert_eq!(ds.len(), 6, "{ds:#?}");
    for (i, line) in [(1, 2), (2, 3), (3, 4), (4, 5)] {
        let d = &ds[i];
        assert_eq!(d["decision"], "deny");
        assert_eq!(d["status"], 400);
        assert_eq!(d["errors"][0]["code"], "invalid_request");
        let msg = d["errors"][0]["message"].as_str().unwrap();
        assert!(msg.contains(&format!("line {line}")), "{msg}");
    }
    assert_eq!(
        ds[4]["id"], "typo",
        "the id of a readable but invalid request is echoed"
    );
    assert_eq!(ds[5]["decision"], "allow");
}

#[test]
fn a_pretty_printed_request_is_one_request() {
    let input = "{\n  \"id\": \"pretty\",\n  \"action\": \"query\",\n  \"user\": {\"orgs\": [\"Asia\"]}\n}\n";
    let out = eval(&["--policy", ZUORA], input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["id"], "pretty");
    assert_eq!(d["decision"], "allow");
}

#[test]
fn request_file_argument_and_dash() {
    let dir = std::env::temp_dir().join(format!("orgscope-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("req.json");
    std::fs::write(&file, QUERY).unwrap();
    let out = eval(&["--policy", ZUORA, file.to_str().unwrap()], b"");
    assert_eq!(decisions(&out)[0]["id"], "q");
    let out = eval(&["--policy", ZUORA, "-"], QUERY.as_bytes());
    assert_eq!(decisions(&out)[0]["id"], "q");
}

#[test]
fn fail_on_deny_exits_1_only_when_something_was_denied() {
    let out = eval(&["--policy", ZUORA, "--fail-on-deny"], QUERY.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let out = eval(
        &["--policy", ZUORA, "--fail-on-deny"],
        format!("{QUERY}\n{DENIED}\n").as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(decisions(&out).len(), 2);
}

#[test]
fn bad_policy_or_unreadable_input_exits_2() {
    let out = eval(&["--policy", "does/not/exist.policy"], QUERY.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does/not/exist.policy"));

    let dir = std::env::temp_dir().join(format!("orgscope-badpol-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.policy");
    std::fs::write(
        &bad,
        "object a { inherit nowhere via body.x }\nroute GET /x -> \n",
    )
    .unwrap();
    let out = eval(&["--policy", bad.to_str().unwrap()], QUERY.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.policy:2:"), "{err}");

    let out = eval(&["--policy", ZUORA, "no/such/requests.ndjson"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn explain_adds_a_trace_that_ends_with_the_decision() {
    let out = eval(&["--policy", ZUORA, "--explain"], DENIED.as_bytes());
    let d = &decisions(&out)[0];
    let trace = d["trace"].as_array().unwrap();
    let last = trace.last().unwrap();
    assert_eq!(last["step"], "decision");
    assert!(last["outcome"]
        .as_str()
        .unwrap()
        .contains("would need access to `China`"));
    let out = eval(&["--policy", ZUORA], DENIED.as_bytes());
    assert!(decisions(&out)[0].get("trace").is_none());
}

#[test]
fn entities_file_as_ndjson_or_array() {
    let dir = std::env::temp_dir().join(format!("orgscope-ent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let req = r#"{"method":"GET","path":"/v1/accounts/A-1","user":{"orgs":["Asia"]}}"#;
    let nd = dir.join("e.ndjson");
    std::fs::write(
        &nd,
        "{\"type\":\"account\",\"id\":\"A-1\",\"org\":\"Asia\"}\n",
    )
    .unwrap();
    let arr = dir.join("e.json");
    std::fs::write(&arr, r#"[{"type":"Account","id":"A-1","org":"Asia"}]"#).unwrap();
    for file in [&nd, &arr] {
        let out = eval(
            &["--policy", ZUORA, "--entities", file.to_str().unwrap()],
            req.as_bytes(),
        );
        assert_eq!(decisions(&out)[0]["decision"], "allow", "{file:?}");
    }
    let out = eval(&["--policy", ZUORA], req.as_bytes());
    assert_eq!(decisions(&out)[0]["errors"][0]["code"], "not_found");
}

#[test]
fn malformed_entities_file_is_reported_with_its_line() {
    let dir = std::env::temp_dir().join(format!("orgscope-entbad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("{\"type\":\"account\",\"id\":\"A\",\"org\":null}\n{\"type\":\"acount\",\"id\":\"B\",\"org\":null}\n", "line 2: unknown object type `acount`"),
        ("{\"type\":\"account\",\"id\":\"A\",\"org\":null}\n\n{\"type\":\"account\",\"id\":\"B\"}\n", "line 3: missing field `org`"),
        ("{\"type\":\"account\",\"id\":\"A\",\"org\":null,\"x\":1}\n", "line 1: unknown field `x`"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let f = dir.join(format!("e{i}.ndjson"));
        std::fs::write(&f, text).unwrap();
        let out = eval(
            &["--policy", ZUORA, "--entities", f.to_str().unwrap()],
            QUERY.as_bytes(),
        );
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{err}");
    }
}

#[test]
fn closed_stdout_ends_quietly() {
    // `orgscope eval big.ndjson | head -1`: the reader goes away after one line.
    let input: String = std::iter::repeat_n(format!("{QUERY}\n"), 50_000).collect();
    let dir = std::env::temp_dir().join(format!("orgscope-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big.ndjson");
    std::fs::write(&file, input).unwrap();
    let out = Command::new("sh")
        .current_dir(common::ROOT)
        .arg("-c")
        .arg(format!(
            "'{}' eval --policy {ZUORA} '{}' | head -n 1 >/dev/null; echo ${{PIPESTATUS:-done}}",
            env!("CARGO_BIN_EXE_orgscope"),
            file.display()
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn each_answer_comes_as_soon_as_its_request_does() {
    use std::io::BufRead;
    let mut child = orgscope()
        .args(["eval", "--policy", ZUORA])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..2 {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            tx.send(line).unwrap();
        }
    });
    // Each request is answered while stdin stays open, the second one split across writes.
    let (first, second) = DENIED.split_at(40);
    for (write, id) in [(vec![QUERY, "\n"], "q"), (vec![first, second, "\n"], "d")] {
        for part in write {
            stdin.write_all(part.as_bytes()).unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("an answer before the input ends");
        let d: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(d["id"], id);
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("orgscope-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn trusted_entities_win_over_the_requests_own() {
    let dir = scratch("trusted");
    let file = dir.join("entities.ndjson");
    std::fs::write(&file, r#"{"type":"account","id":"A-4","org":"Japan"}"#).unwrap();
    let entities = file.to_str().unwrap();
    let read = |entities_json: &str| {
        format!(
            r#"{{"method":"GET","path":"/v1/accounts/A-4","user":{{"orgs":["Asia"]}},"entities":{entities_json}}}"#
        )
    };
    let sneaky = read(r#"[{"type":"account","id":"A-4","org":null}]"#);
    let honest = read("[]");
    let out = eval(
        &["--policy", ZUORA, "--entities", entities],
        sneaky.as_bytes(),
    );
    let d = &decisions(&out)[0];
    assert_eq!(d["errors"][0]["code"], "not_found", "{d}");
    assert!(
        !d.to_string().contains("Japan"),
        "the stored org leaks: {d}"
    );
    // Exactly the answer the request gets without its own entities.
    let plain = eval(
        &["--policy", ZUORA, "--entities", entities],
        honest.as_bytes(),
    );
    assert_eq!(out.stdout, plain.stdout);
}

#[test]
fn no_inline_entities_refuses_requests_that_carry_them() {
    let with = r#"{"method":"GET","path":"/v1/accounts/A-1","user":{"orgs":["Asia"]},"entities":[{"type":"account","id":"A-1","org":"Asia"}]}"#;
    let out = eval(&["--policy", ZUORA], with.as_bytes());
    assert_eq!(decisions(&out)[0]["decision"], "allow");
    let out = eval(
        &["--policy", ZUORA, "--no-inline-entities"],
        with.as_bytes(),
    );
    let d = &decisions(&out)[0];
    assert_eq!(d["errors"][0]["code"], "invalid_request", "{d}");
    assert_eq!(d["status"], 400);
    let without = r#"{"method":"POST","path":"/query/jobs","user":{"orgs":["Asia"]}}"#;
    let out = eval(
        &["--policy", ZUORA, "--no-inline-entities"],
        without.as_bytes(),
    );
    assert_eq!(decisions(&out)[0]["decision"], "allow");
}

#[test]
fn updates_recheck_a_new_parent_and_clear_labels_only_where_allowed() {
    let dir = scratch("update");
    let policy = dir.join("p.policy");
    let text = std::fs::read_to_string(format!("{}/{ZUORA}", common::ROOT)).unwrap()
        + "\nroute PUT /v1/invoices/{invoiceId} -> update invoice id path.invoiceId\n\
           object note {\n  label body.organizationLabel\n  fallback unlabeled\n}\n\
           route PUT /v1/notes/{noteId} -> update note id path.noteId\n";
    std::fs::write(&policy, text).unwrap();
    let entities = r#"[{"type":"invoice","id":"I-1","org":"Asia"},{"type":"account","id":"A-J","org":"Japan"},{"type":"account","id":"A-C","org":"China"},{"type":"note","id":"N-1","org":"Asia"}]"#;
    let put = |path: &str, body: &str, orgs: &str| {
        format!(
            r#"{{"method":"PUT","path":"{path}","body":{body},"user":{{"orgs":{orgs}}},"entities":{entities}}}"#
        )
    };
    let input = [
        // A new parent the user cannot see: the same answer as a missing one.
        put("/v1/invoices/I-1", r#"{"accountId":"A-J"}"#, r#"["Asia"]"#),
        put(
            "/v1/invoices/I-1",
            r#"{"accountId":"A-none"}"#,
            r#"["Asia"]"#,
        ),
        // A visible new parent moves the invoice to its org.
        put(
            "/v1/invoices/I-1",
            r#"{"accountId":"A-C"}"#,
            r#"["Asia","China"]"#,
        ),
        // The reference cannot be cleared.
        put("/v1/invoices/I-1", r#"{"accountId":null}"#, r#"["Asia"]"#),
        // A type that may be unlabeled may be cleared, by someone who sees its org.
        put(
            "/v1/notes/N-1",
            r#"{"organizationLabel":null}"#,
            r#"["Asia"]"#,
        ),
        put(
            "/v1/notes/N-1",
            r#"{"organizationLabel":null}"#,
            r#"["China"]"#,
        ),
    ]
    .join("\n");
    let out = eval(&["--policy", policy.to_str().unwrap()], input.as_bytes());
    let ds = decisions(&out);
    let codes: Vec<&Value> = ds.iter().map(|d| &d["errors"][0]["code"]).collect();
    assert_eq!(
        ds[0].to_string().replace("A-J", "A-none"),
        ds[1].to_string(),
        "{ds:#?}"
    );
    assert_eq!(codes[0], "parent_not_found");
    assert_eq!(ds[2]["decision"], "allow", "{}", ds[2]);
    assert_eq!(ds[2]["labels"][0]["org"], "China");
    assert_eq!(ds[2]["labels"][0]["source"], "inherited");
    assert_eq!(codes[3], "parent_required");
    assert_eq!(ds[4]["decision"], "allow", "{}", ds[4]);
    assert_eq!(ds[4]["labels"][0]["org"], Value::Null);
    assert_eq!(codes[5], "not_found");
}

#[test]
fn lookalike_headers_are_refused_only_with_the_switch() {
    const STRICT: &str = "crates/orgscope-cli/tests/cases/check/ok_lookalike_headers.policy";
    let ask = |id: &str, header: &str, value: &str, orgs: &str| {
        format!(
            r#"{{"id":"{id}","method":"POST","path":"/query/jobs","headers":{{"{header}":"{value}"}},"user":{{"orgs":{orgs}}}}}"#
        )
    };
    let input = [
        ask("asia", "Zuora-Org-Id", "Asia", r#"["Asia","China"]"#),
        ask("china", "ZUORA-ORG-IDX", "China", r#"["Asia"]"#),
        ask("narnia", "Zuora-Org-Id", "Narnia", "[]"),
        ask("working", "Zuora-Working-Orgs", "Asia", r#"["Asia"]"#),
        ask("declared", "Zuora-Org-Ids", "Asia", r#"["Asia","China"]"#),
    ]
    .join("\n");
    let out = eval(&["--policy", STRICT], input.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let ds = decisions(&out);
    let rule = format!("{STRICT}:5:3");
    for d in &ds[..4] {
        assert_eq!(d["decision"], "deny", "{d}");
        assert_eq!(d["status"], 400);
        assert_eq!(d["errors"][0]["code"], "invalid_request");
        assert_eq!(d["rule"], rule.as_str());
        assert_eq!(d["visible_orgs"], Value::Null);
    }
    assert_eq!(
        ds[0]["errors"][0]["message"],
        "header `zuora-org-id` is not declared: it looks like `Zuora-Org-Ids`"
    );
    assert_eq!(
        ds[3]["errors"][0]["message"],
        "header `zuora-working-orgs` is not declared: it looks like `Zuora-Working-Org`"
    );
    // Whatever the header names and whoever asks, the same answer: no existence oracle.
    let body = |d: &Value| {
        let mut d = d.clone();
        d["id"] = Value::Null;
        d.to_string()
    };
    assert_eq!(body(&ds[0]), body(&ds[2]));
    assert_eq!(ds[4]["decision"], "allow");
    assert_eq!(ds[4]["visible_orgs"], serde_json::json!(["Asia"]));

    // The shipped policy leaves the switch off: the look-alike is ignored, with a warning.
    let out = eval(&["--policy", ZUORA], input.as_bytes());
    let ds = decisions(&out);
    assert_eq!(ds[0]["decision"], "allow");
    assert_eq!(ds[0]["visible_orgs"], serde_json::json!(["Asia", "China"]));
    assert_eq!(ds[0]["warnings"][0]["code"], "org_header_misspelled");
}

/// Every JSON value on standard output, however it is laid out.
fn values(out: &Output) -> Vec<Value> {
    serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter::<Value>()
        .map(|v| v.expect("a decision is JSON"))
        .collect()
}

fn ids(ds: &[Value]) -> Vec<String> {
    ds.iter()
        .map(|d| d["id"].to_string().replace('"', ""))
        .collect()
}

#[test]
fn decisions_are_one_line_each_whatever_the_input_layout_unless_pretty_is_asked() {
    let pretty =
        "{\n  \"id\": \"p\",\n  \"action\": \"query\",\n  \"user\": {\"orgs\": [\"Asia\"]}\n}\n";
    let out = eval(&["--policy", ZUORA], pretty.as_bytes());
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert_eq!(decisions(&out)[0]["id"], "p");
    for format in [&["--format", "pretty"][..], &["--format=pretty"]] {
        let out = eval(
            &[&["--policy", ZUORA][..], format].concat(),
            pretty.as_bytes(),
        );
        assert!(stdout(&out).lines().count() > 1, "{}", stdout(&out));
        assert_eq!(values(&out)[0]["id"], "p");
        let out = eval(
            &[&["--policy", ZUORA][..], format].concat(),
            format!("{QUERY}\n{DENIED}\n").as_bytes(),
        );
        assert_eq!(ids(&values(&out)), ["q", "d"]);
        assert!(stdout(&out).lines().count() > 2);
    }
    let out = eval(
        &["--policy", ZUORA, "--format", "compact"],
        pretty.as_bytes(),
    );
    assert_eq!(stdout(&out).lines().count(), 1);
    let out = eval(&["--policy", ZUORA, "--format", "yaml"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("possible values: compact, pretty"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn several_request_files_and_json_arrays_of_requests() {
    let dir = std::env::temp_dir().join(format!("orgscope-eval-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let one = file("one.json", QUERY);
    let lines = file("lines.ndjson", &format!("{DENIED}\n{QUERY}\n"));
    let array = file("array.json", &format!("[\n  {QUERY},\n  {DENIED}\n]\n"));
    let inline = file(
        "inline.ndjson",
        &format!("[{QUERY}, {DENIED}]\n{QUERY}\n[]\n"),
    );
    let out = eval(&["--policy", ZUORA, &one, &lines, &array, &inline], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ds = decisions(&out);
    assert_eq!(ids(&ds), ["q", "d", "q", "q", "d", "q", "d", "q"]);
    assert_eq!(ds[4]["decision"], "deny");

    // Each element is a request of its own: a bad one is refused, naming its line, and the
    // others are answered. Duplicate keys are still refused inside an array.
    let mixed = format!("[\n  {QUERY},\n  7,\n  {{\"id\": \"dup\", \"user\": {{\"orgs\": []}}, \"user\": {{\"orgs\": [\"Asia\"]}}}}\n]\n");
    let out = eval(&["--policy", ZUORA], mixed.as_bytes());
    let ds = decisions(&out);
    assert_eq!(ds.len(), 3, "{ds:?}");
    assert_eq!(ds[0]["decision"], "allow");
    assert_eq!(
        ds[1]["errors"][0]["message"],
        "the request on line 3 is not a JSON object"
    );
    assert_eq!(ds[2]["errors"][0]["code"], "invalid_request");
    assert!(
        ds[2]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line 4"),
        "{}",
        ds[2]
    );

    // An array that is not the whole input does not swallow its lines: each is answered.
    let out = eval(
        &["--policy", ZUORA],
        format!("[\n  {QUERY},\n{DENIED}\n").as_bytes(),
    );
    let ds = decisions(&out);
    assert_eq!(ds.len(), 3, "{ds:?}");
    let msg = ds[0]["errors"][0]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("the requests from line 1 are not a JSON array: line 1"),
        "{msg}"
    );
    let msg = ds[1]["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("line 2"), "{msg}");
    assert_eq!(ds[2]["id"], "d");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_io_error_names_the_file() {
    let dir = std::env::temp_dir().join(format!("orgscope-eval-io-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ok = dir.join("ok.json");
    std::fs::write(&ok, QUERY).unwrap();
    let (ok, dir_arg) = (ok.to_str().unwrap(), dir.to_str().unwrap());
    let missing = format!("{dir_arg}/missing.json");
    let out = eval(&["--policy", ZUORA, ok, &missing], b"");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        ids(&decisions(&out)),
        ["q"],
        "the files before it are answered"
    );
    assert!(
        stderr(&out).starts_with(&format!("error: cannot read `{missing}`: No such file")),
        "{}",
        stderr(&out)
    );
    let out = eval(&["--policy", ZUORA, dir_arg], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with(&format!("error: cannot read `{dir_arg}`: Is a directory")),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn standard_input_on_a_terminal_is_announced() {
    // `script` runs the binary on a pseudo-terminal; its standard input ends with `^D`.
    if Command::new("script").arg("--version").output().is_err() {
        panic!("`script` (util-linux) is needed to give orgscope a terminal");
    }
    let bin = env!("CARGO_BIN_EXE_orgscope");
    let cmd = format!("{bin} eval --policy {ZUORA}");
    let out = common::run_with_input(
        {
            let mut c = orgscope_in_root("script");
            c.args(["-qec", &cmd, "/dev/null"]);
            c
        },
        format!("{QUERY}\n\u{4}").as_bytes(),
    );
    let text = stdout(&out);
    assert!(
        text.contains("reading requests from standard input"),
        "{text}"
    );
    assert!(text.contains("\"id\":\"q\""), "{text}");
    // From a pipe, nothing is announced.
    let out = eval(&["--policy", ZUORA], QUERY.as_bytes());
    assert_eq!(stderr(&out), "");
}

fn orgscope_in_root(program: &str) -> Command {
    let mut c = Command::new(program);
    c.current_dir(common::ROOT).env("NO_COLOR", "1");
    c
}
