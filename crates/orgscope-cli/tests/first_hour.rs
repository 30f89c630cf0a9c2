//! The first hour of a policy author and a CLI user (issue 12), through the real binary.

mod common;

use common::{run, stderr, stdout};

const ZUORA: &str = "policies/zuora-multi-org.policy";
const DENIED: &str = r#"{"id":"d","method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"China"},"user":{"orgs":["Asia"]}}"#;

#[test]
fn explain_takes_its_format_after_a_space_too() {
    for (spaced, joined) in [("text", "--explain=text"), ("json", "--explain=json")] {
        let with_space = run(
            &["eval", "--policy", ZUORA, "--explain", spaced],
            DENIED.as_bytes(),
        );
        let with_equals = run(&["eval", "--policy", ZUORA, joined], DENIED.as_bytes());
        assert_eq!(with_space.status.code(), Some(0), "{}", stderr(&with_space));
        assert_eq!(stdout(&with_space), stdout(&with_equals));
        assert_eq!(stderr(&with_space), "");
    }
    let text = run(
        &["eval", "--explain", "text", "--policy", ZUORA],
        DENIED.as_bytes(),
    );
    assert!(stdout(&text).contains("=> deny 403"), "{}", stdout(&text));
    // The format word is only taken right after `--explain`: a request file still follows it.
    let bare = run(
        &["eval", "--policy", ZUORA, "--explain", "-"],
        DENIED.as_bytes(),
    );
    assert_eq!(bare.status.code(), Some(0), "{}", stderr(&bare));
    assert!(stdout(&bare).contains("\"trace\""), "{}", stdout(&bare));
}

/// A fresh directory under the target dir with `files` (relative path, text) in it.
fn tree(name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const CLEAN: &str = "orgs {\n  org A\n}\n";
const UNFORMATTED: &str = "orgs {   org A }\n";
/// Well formed, but `B` is not declared.
const BAD: &str = "orgs {\n  org A parent B\n}\n";

#[test]
fn check_and_fmt_recurse_into_directories() {
    let dir = tree(
        "first_hour_recurse",
        &[
            ("b/bad.policy", BAD),
            ("a.policy", CLEAN),
            ("b/ugly.policy", UNFORMATTED),
            ("b/notes.txt", "not a policy"),
            (".hidden/skip.policy", BAD),
        ],
    );
    let d = dir.to_str().unwrap();
    let out = run(&["check", d], b"");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("bad.policy"), "{err}");
    assert!(!err.contains("skip.policy"), "{err}");

    // `fmt -l` names the files that would change, sorted, and exits 1; the tree is untouched.
    let out = run(&["fmt", "-l", d], b"");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{d}/b/ugly.policy\n"));
    let out = run(&["fmt", "--list", &format!("{d}/a.policy")], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");

    let out = run(&["fmt", "--write", &format!("{d}/b")], b"");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ugly = std::fs::read_to_string(dir.join("b/ugly.policy")).unwrap();
    assert_eq!(ugly, CLEAN);
    assert_eq!(run(&["fmt", "-l", d], b"").status.code(), Some(0));

    // A directory with no policy in it is an error that names it; the other paths still run.
    let empty = tree("first_hour_empty", &[("readme.txt", "")]);
    let e = empty.to_str().unwrap();
    for cmd in ["check", "fmt"] {
        let out = run(&[cmd, e, &format!("{d}/a.policy")], b"");
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        assert_eq!(
            stderr(&out),
            format!("error: no policy files (`*.policy`) under `{e}`\n"),
            "{cmd}"
        );
    }
}

/// The `--format json` diagnostics of `orgscope check FILE`: (code, line) of each.
fn diagnostics(file: &str) -> Vec<(String, u64)> {
    let out = run(&["check", "--format", "json", file], b"");
    stdout(&out)
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn one_syntax_error_is_one_error_and_an_unclosed_brace_hides_nothing() {
    let cases = "crates/orgscope-cli/tests/cases/check";
    // `object workspace` has a stray word; its four references are not "unknown".
    assert_eq!(
        diagnostics(&format!("{cases}/err_syntax_no_cascade.policy")),
        [("syntax".to_string(), 6)]
    );
    let got = diagnostics(&format!("{cases}/err_syntax_unclosed_then_five.policy"));
    let want = [
        ("syntax", 6),
        ("unknown_object_type", 8),
        ("unknown_object_type", 9),
        ("unknown_object_type", 10),
        ("unknown_path_param", 11),
        ("unknown_object_type", 12),
    ];
    let mut got = got;
    got.sort_by_key(|(_, line)| *line);
    let want: Vec<(String, u64)> = want.iter().map(|(c, l)| (c.to_string(), *l)).collect();
    assert_eq!(got, want);
}

const IDS: &str = r#"orgs { org Asia id "a-1" org China id "c-2" }
header Zuora-Org-Ids { role visibility list subset_of user.orgs }
header Zuora-Working-Org { role working_org single member_of user.orgs }
object account { label body.organizationLabel fallback working_org }
object invoice { inherit account via body.accountId }
route POST /query/jobs -> query
route POST /v1/accounts -> create account
route POST /v1/invoices -> create invoice
"#;

#[test]
fn traces_name_orgs_and_an_entity_outside_the_directory_is_reported() {
    let dir = tree("ids", &[("ids.policy", IDS), ("ents.ndjson", "{\"type\":\"account\",\"id\":\"A-2\",\"org\":\"c-2\"}\n{\"type\":\"account\",\"id\":\"A-1\",\"org\":\"Narnia\"}\n")]);
    let policy = dir.join("ids.policy");
    let policy = policy.to_str().unwrap();
    let query = r#"{"method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"a-1, c-2","Zuora-Working-Org":"c-2"},"user":{"orgs":["a-1","c-2"]}}"#;
    let out = run(
        &["eval", "--policy", policy, "--explain", "text"],
        query.as_bytes(),
    );
    let text = stdout(&out);
    assert!(
        text.contains("`Zuora-Org-Ids` narrows the visible set to Asia, China"),
        "{text}"
    );
    assert!(
        text.contains("`Zuora-Working-Org` names accessible org `China`"),
        "{text}"
    );
    assert!(!text.contains("a-1") && !text.contains("c-2"), "{text}");
    let create = r#"{"method":"POST","path":"/v1/accounts","body":{"organizationLabel":"a-1"},"user":{"orgs":["a-1"]}}"#;
    let out = run(
        &["eval", "--policy", policy, "--explain", "text"],
        create.as_bytes(),
    );
    assert!(
        stdout(&out).contains("labels the object `Asia`"),
        "{}",
        stdout(&out)
    );

    // A trusted entities file naming an org the directory does not have: an error with its line.
    let ents = dir.join("ents.ndjson");
    let out = run(
        &[
            "eval",
            "--policy",
            policy,
            "--entities",
            ents.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!("error: entities file `{}`: line 2: org `Narnia` is not in the policy's `orgs` directory\n", ents.display())
    );

    // A request's own entity in such an org: the explain trace says why it counts as not
    // found; the decision is the one for a missing parent (no directory oracle).
    let invoice = |entities: &str| {
        format!(
            r#"{{"method":"POST","path":"/v1/invoices","body":{{"accountId":"A-1"}},"user":{{"orgs":["a-1"]}},"entities":{entities}}}"#
        )
    };
    let with = invoice(r#"[{"type":"account","id":"A-1","org":"Narnia"}]"#);
    let out = run(
        &["eval", "--policy", policy, "--explain", "text"],
        with.as_bytes(),
    );
    assert!(
        stdout(&out).contains("request entity: account `A-1` is in org `Narnia`, which the user cannot access: it counts as not found"),
        "{}",
        stdout(&out)
    );
    let plain = |req: &str| stdout(&run(&["eval", "--policy", policy], req.as_bytes()));
    assert_eq!(plain(&with), plain(&invoice("[]")));
}
