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
