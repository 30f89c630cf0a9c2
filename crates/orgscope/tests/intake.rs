//! Request intake through the crate: a description built in code or read from JSON is held to
//! the same rules (SPEC §2) as one the batch reads.

use orgscope::batch::{evaluate_stream, BatchOptions};
use orgscope::{EvalOptions, Limits, NoEntities, Policy, Request, User, Values};

mod growth;

fn aep() -> Policy {
    Policy::from_file("../../policies/aep-organization-id.policy").unwrap()
}

fn first_error<'d>(d: &'d orgscope::Decision<'_>) -> (&'d str, &'d str) {
    let e = &d.errors[0];
    (e.code.as_str(), e.message.as_str())
}

#[test]
fn a_query_string_in_a_path_built_in_code_counts() {
    let policy = aep();
    let mut req = Request {
        method: Some("GET".into()),
        path: Some("/v1/organizations/o-1/products?tenantId=o-2".into()),
        user: User {
            orgs: vec!["o-1".into(), "o-2".into()],
            ..User::default()
        },
        ..Request::default()
    };
    let d = policy.evaluate(&req);
    assert_eq!(first_error(&d).0, "org_id_conflict");
    // The description itself is left as given.
    assert!(req.query.is_empty());
    req.path = Some("/v1/organizations/o-1/products".into());
    assert!(policy.evaluate(&req).is_allow());
    req.query.insert("tenantId".into(), Values::from("o-2"));
    assert_eq!(first_error(&policy.evaluate(&req)).0, "org_id_conflict");
}

#[test]
fn evaluate_json_and_intake_refuse_duplicate_keys_and_entities() {
    let policy = aep();
    let dup = r#"{"method":"GET","path":"/v1/organizations","query":{"organizationIds":"o-1","organizationIds":"o-3"},"user":{"orgs":["o-1"]}}"#;
    let d = policy.evaluate_json(dup, &EvalOptions::default());
    assert_eq!(
        first_error(&d),
        (
            "invalid_request",
            "invalid request on line 1, column 93: duplicate key `organizationIds`"
        )
    );
    let refused = Request::intake(dup.as_bytes(), &Limits::DEFAULT).unwrap_err();
    assert_eq!(*refused, d);
    assert!(Request::from_json(dup).is_err());

    let zuora = Policy::from_file("../../policies/zuora-multi-org.policy").unwrap();
    let twice = r#"{"id":7,"action":"query","user":{"orgs":["Asia"]},"entities":[{"type":"account","id":"A","org":null},{"type":"Account","id":"A","org":"Asia"}]}"#;
    let d = zuora.evaluate_json(twice, &EvalOptions::default());
    assert_eq!(d.id, Some(serde_json::json!(7)));
    assert_eq!(
        first_error(&d),
        (
            "invalid_request",
            "entities[0] and entities[1] both describe `account` `A`"
        )
    );
    // A few entities are compared pairwise, many through a map: the same answer either way.
    for (n, second) in [(5, 4), (12, 10)] {
        let mut entities: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"type":"account","id":"A{i}","org":null}}"#))
            .collect();
        entities[second] = r#"{"type":"ACCOUNT","id":"A1","org":null}"#.to_string();
        let req = format!(
            r#"{{"action":"query","user":{{"orgs":["Asia"]}},"entities":[{}]}}"#,
            entities.join(",")
        );
        let d = zuora.evaluate_json(&req, &EvalOptions::default());
        let message = format!("entities[1] and entities[{second}] both describe `account` `A1`");
        assert_eq!(first_error(&d), ("invalid_request", message.as_str()));
    }
}

#[test]
fn intake_reads_bytes_that_are_not_utf8_into_a_deny() {
    let d = Request::intake(b"{\"id\": \"\xff\"}", &Limits::DEFAULT).unwrap_err();
    assert_eq!(
        first_error(&d),
        (
            "invalid_request",
            "the request on line 1 is not valid UTF-8"
        )
    );
}

#[test]
#[ignore = "timing: run in release mode"]
fn an_unfinished_document_costs_linear_time() {
    // Issue 17: `{"body":[` then `1,` on each line was parsed from its start on every line.
    let limits = Limits {
        max_request_bytes: 64 << 20,
        ..Limits::DEFAULT
    };
    let policy = Policy::from_file_with("../../policies/zuora-multi-org.policy", limits).unwrap();
    // In process, so that pipes and scheduling do not count.
    growth::assert_linear("an unfinished document", 100_000, |lines| {
        let input = format!("{{\"body\":[\n{}", "1,\n".repeat(lines));
        let (stats, took) = growth::time(|| {
            evaluate_stream(
                &policy,
                &NoEntities,
                input.as_bytes(),
                std::io::sink(),
                BatchOptions::default(),
            )
        });
        assert_eq!(stats.unwrap().decisions as usize, lines + 1);
        took
    });
}

#[test]
fn header_spellings_merge_and_a_spelling_repeated_is_a_duplicate_key() {
    let long = format!("X-{}", "Ab".repeat(80)); // over 128 bytes: kept as text
    for name in [
        "Zuora-Org-Ids",
        "zuora-org-ids",
        "ZUORA-ORG-IDS",
        long.as_str(),
    ] {
        let other = if name == "zuora-org-ids" {
            "Zuora-Org-Ids".to_string()
        } else {
            name.to_ascii_lowercase()
        };
        let merged =
            format!(r#"{{"headers":{{"{name}":"a","{other}":["b","c"]}},"user":{{"orgs":[]}}}}"#);
        let req = Request::from_json(&merged).unwrap();
        let key = name.to_ascii_lowercase();
        let all: Vec<_> = req.headers[&key].iter().collect();
        assert_eq!(all, ["a", "b", "c"], "{name}");
        let twice = format!(
            r#"{{"headers":{{"{name}":"a","{other}":"b","{name}":"c"}},"user":{{"orgs":[]}}}}"#
        );
        let err = Request::from_json(&twice).unwrap_err().to_string();
        assert!(err.starts_with(&format!("duplicate key `{name}`")), "{err}");
    }
}

#[test]
fn a_batch_writes_whole_decisions_in_writes_under_a_pipes_64_kib() {
    // Every write as it was made.
    struct Writes(Vec<Vec<u8>>);
    impl std::io::Write for Writes {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.push(bytes.to_vec());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let policy = Policy::from_file("../../policies/zuora-multi-org.policy").unwrap();
    let line = r#"{"id":1,"method":"POST","path":"/query/jobs","headers":{"Zuora-Org-Ids":"Asia, China"},"user":{"id":"u-1","orgs":["Asia","China","Japan"]}}"#;
    let n = 5_000;
    let input = format!("{line}\n").repeat(n);
    let mut out = Writes(Vec::new());
    let reader = std::io::BufReader::with_capacity(64 * 1024, input.as_bytes());
    let stats = evaluate_stream(
        &policy,
        &NoEntities,
        reader,
        &mut out,
        BatchOptions::default(),
    )
    .unwrap();
    assert_eq!(stats.decisions, n as u64);
    // Gathered: one write per 60 KiB or so, not one per decision.
    let most = n * 300 / (60 * 1024) + 2;
    assert!((4..=most).contains(&out.0.len()), "{} writes", out.0.len());
    let one = policy.evaluate_json(line, &EvalOptions::default());
    let expected = format!("{}\n", serde_json::to_string(&one).unwrap());
    for w in &out.0 {
        assert!(w.len() < 64 * 1024, "a write of {} bytes", w.len());
        // Whole decisions only.
        assert_eq!(w.len() % expected.len(), 0);
        assert_eq!(*w, expected.repeat(w.len() / expected.len()).into_bytes());
    }
    assert_eq!(out.0.concat().len(), n * expected.len());
}
