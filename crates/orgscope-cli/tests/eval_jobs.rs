//! `orgscope eval --jobs N` through the real binary: the same bytes as one job, in order.

mod common;

use common::{orgscope, run, stderr};
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

const ZUORA: &str = "policies/zuora-multi-org.policy";

/// Allows and denies of every kind, malformed lines, blank lines and an over-long line,
/// `lines` requests in all, the last one without its newline.
fn mixed_batch(lines: usize) -> Vec<u8> {
    let kinds: [&[u8]; 12] = [
        br#"{"id":N,"method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"Asia, China"},"user":{"orgs":["Asia","China","Japan"]}}"#,
        br#"{"id":N,"method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"China"},"user":{"orgs":["Asia"]}}"#,
        br#"{"id":N,"method":"POST","path":"/v1/invoices","body":{"accountId":"A-1"},"user":{"orgs":["Asia","China"]},"entities":[{"type":"account","id":"A-1","org":"Asia"}]}"#,
        br#"{"id":N,"method":"POST","path":"/v1/invoices","body":{"accountId":"A-9"},"user":{"orgs":["Asia"]},"entities":[{"type":"account","id":"A-9","org":"Japan"}]}"#,
        br#"{"id":N,"method":"GET","path":"/v1/accounts/A-1","user":{"orgs":["Asia"]},"entities":[{"type":"account","id":"A-1","org":"Asia"}]}"#,
        b"{\"id\":N, \"user\": ",
        b"not json at all",
        b"{\"id\":N,\"user\":{\"orgs\":[\"\xff\xfe\"]}}",
        br#"{"id":N,"usr":{}}"#,
        br#"{"id":N,"id":1,"user":{"orgs":[]}}"#,
        b"   ",
        br#"{"id":N,"method":"post","path":"/query/jobs","user":{"orgs":["Asia"]}}"#,
    ];
    let mut out = Vec::new();
    for i in 0..lines {
        if i == lines / 2 {
            // Over the default request size limit: refused, the batch goes on.
            out.extend_from_slice(br#"{"id":"big","user":{"orgs":[""#);
            out.resize(out.len() + (2 << 20), b'a');
            out.extend_from_slice(b"\"]}}\n");
        }
        let line = kinds[i % kinds.len()];
        let n = i.to_string();
        let mut parts = line.split(|&b| b == b'N');
        out.extend_from_slice(parts.next().unwrap_or_default());
        for part in parts {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(part);
        }
        if i + 1 < lines {
            out.push(b'\n');
        }
    }
    out
}

fn eval(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut all = vec!["eval", "--policy", ZUORA];
    all.extend_from_slice(args);
    run(&all, input)
}

#[test]
fn jobs_answer_a_mixed_batch_byte_for_byte_like_one_job() {
    let input = mixed_batch(5_000);
    let one = eval(&["--jobs", "1"], &input);
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    let answers = one.stdout.iter().filter(|&&b| b == b'\n').count();
    // Every request but the blank ones is answered, plus the over-long one.
    assert_eq!(answers, 5_000 - 5_000 / 12 + 1);
    // From a pipe, chunks end wherever the pipe's buffer does; from a file they fill up, the
    // workers fall behind, and the reading thread answers chunks itself in between.
    let path = std::env::temp_dir().join(format!("orgscope-mixed-{}.ndjson", std::process::id()));
    std::fs::write(&path, &input).expect("write the batch");
    let file = path.to_str().expect("a UTF-8 temp path");
    for jobs in ["2", "3", "8"] {
        for from_file in [false, true] {
            let many = match from_file {
                false => eval(&["--jobs", jobs], &input),
                true => eval(&["--jobs", jobs, file], b""),
            };
            assert_eq!(many.status.code(), Some(0), "{}", stderr(&many));
            assert!(
                many.stdout == one.stdout,
                "--jobs {jobs} answered differently from --jobs 1 (from a file: {from_file})"
            );
        }
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn jobs_keep_line_numbers_traces_and_the_exit_code_of_one_job() {
    let input = mixed_batch(700);
    let path = std::env::temp_dir().join(format!("orgscope-jobs-{}.ndjson", std::process::id()));
    std::fs::write(&path, &input).expect("write the batch");
    let file = path.to_str().expect("a UTF-8 temp path");
    for args in [
        &["--explain", "--fail-on-deny"][..],
        &["--explain=text"][..],
        &["--no-inline-entities", file][..],
        &["--input", "ndjson", file][..],
    ] {
        let one = eval(&[args, &["--jobs", "1"]].concat(), &input);
        let two = eval(&[args, &["--jobs", "2"]].concat(), &input);
        assert_eq!(one.status.code(), two.status.code(), "{args:?}");
        assert!(one.stdout == two.stdout, "{args:?}: --jobs 2 differs");
        assert!(!one.stdout.is_empty());
    }
    let _ = std::fs::remove_file(&path);
}

#[test]
fn jobs_answer_a_pretty_printed_document_as_one_request() {
    let doc = b"{\n  \"method\": \"POST\", \"path\": \"/query/jobs\",\n  \"user\": {\"orgs\": [\"Asia\"]}\n}\n";
    let one = eval(&["--jobs", "1"], doc);
    let two = eval(&["--jobs", "2"], doc);
    assert_eq!(two.status.code(), Some(0));
    assert!(one.stdout == two.stdout);
    // One request, so one decision: one compact line, whatever the request's layout.
    let out = String::from_utf8_lossy(&two.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("\"decision\":\"allow\""), "{out}");
}

#[test]
fn jobs_must_be_at_least_one() {
    for bad in ["0", "-1", "x", "100000"] {
        let out = eval(&[&format!("--jobs={bad}")], b"");
        assert_eq!(out.status.code(), Some(2), "--jobs {bad}");
        assert!(stderr(&out).contains("--jobs"), "{}", stderr(&out));
    }
}

#[test]
fn jobs_answer_each_line_as_it_comes() {
    // A caller that sends one request and waits for its answer before the next one.
    let mut child = orgscope()
        .args(["eval", "--policy", ZUORA, "--jobs", "2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start orgscope");
    let mut input = child.stdin.take().expect("piped stdin");
    let output = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            if tx.send(line.expect("an answer")).is_err() {
                break;
            }
        }
    });
    for i in 0..3 {
        let request = format!(
            r#"{{"id":{i},"method":"POST","path":"/query/jobs","user":{{"orgs":["Asia"]}}}}"#
        );
        writeln!(input, "{request}").expect("send a request");
        input.flush().expect("flush");
        let answer = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("an answer before the next request");
        assert!(answer.starts_with(&format!("{{\"id\":{i},")), "{answer}");
    }
    drop(input);
    assert!(child.wait().expect("orgscope exits").success());
    reader.join().expect("reader");
}
