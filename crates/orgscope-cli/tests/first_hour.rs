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
