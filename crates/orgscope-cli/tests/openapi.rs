//! `orgscope lint openapi` and `import openapi` beyond the fixtures: the fixtures are valid
//! OpenAPI (checked by `openapi-spec-validator`), imports check clean and show no drift, SARIF's
//! shape, and real public APIs' documents from registry packages (tests/openapi/setup.sh
//! installs them and the validator; `BLESS=1` rewrites tests/openapi/real.expected).

mod common;

use common::{orgscope, ROOT};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

const CASES: &str = "crates/orgscope-cli/tests/cases/openapi";
const DOCS: &str = "target/openapi-docs/node_modules";

/// Installs the validator and the documents once per test binary.
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let status = Command::new("bash")
            .arg("crates/orgscope-cli/tests/openapi/setup.sh")
            .current_dir(ROOT)
            .status()
            .expect("run tests/openapi/setup.sh");
        assert!(status.success(), "tests/openapi/setup.sh failed");
    });
}

fn documents(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join(dir))
        .expect("read cases")
        .filter_map(Result::ok)
        .map(|e| dir.join(e.file_name()))
        .collect();
    entries.sort();
    for p in entries {
        if Path::new(ROOT).join(&p).is_dir() {
            if p.file_name().is_some_and(|n| n != "invalid") {
                documents(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "json") {
            out.push(p);
        }
    }
}

#[test]
fn fixtures_are_valid_openapi() {
    setup();
    let mut docs = Vec::new();
    documents(Path::new(CASES), &mut docs);
    assert!(docs.len() >= 15, "fixtures missing: {docs:?}");
    for doc in docs {
        let out = Command::new("openapi-spec-validator")
            .arg(&doc)
            .current_dir(ROOT)
            .output()
            .expect("run openapi-spec-validator");
        assert!(
            out.status.success(),
            "{} is not valid OpenAPI:\n{}{}",
            doc.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn imported_declarations_check_clean_and_show_no_drift() {
    let doc = format!("{CASES}/clean.yaml");
    let out = orgscope()
        .args(["import", "openapi", &doc])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let policy =
        std::env::temp_dir().join(format!("orgscope-import-{}.policy", std::process::id()));
    std::fs::write(&policy, &out.stdout).expect("write policy");
    let check = orgscope()
        .args(["check", "--deny-warnings"])
        .arg(&policy)
        .output()
        .expect("run");
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let fmt = orgscope()
        .args(["fmt", "--check"])
        .arg(&policy)
        .output()
        .expect("run");
    assert_eq!(
        fmt.status.code(),
        Some(0),
        "import is not in the canonical layout"
    );
    let lint = orgscope()
        .args(["lint", "openapi", "--policy"])
        .arg(&policy)
        .arg(&doc)
        .output()
        .expect("run");
    let _ = std::fs::remove_file(&policy);
    assert_eq!(
        lint.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn sarif_is_a_2_1_0_log_with_every_finding() {
    let doc = format!("{CASES}/multiple_locations.yaml");
    let run = |format: &str| {
        orgscope()
            .args(["lint", "openapi", "--format", format, &doc])
            .output()
            .expect("run")
    };
    let sarif: Value = serde_json::from_slice(&run("sarif").stdout).expect("sarif is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let json = run("json");
    let lines: Vec<Value> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(results.len(), lines.len());
    assert!(!results.is_empty());
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    for (r, l) in results.iter().zip(&lines) {
        assert_eq!(r["ruleId"], l["code"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert_eq!(region["startLine"], l["line"]);
        assert_eq!(region["startColumn"], l["column"]);
        let i = r["ruleIndex"].as_u64().expect("rule index") as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
}

/// The real documents, and the arguments they are linted with.
const REAL: [(&str, &str, &[&str]); 4] = [
    (
        "github",
        "@octokit/openapi/generated/api.github.com.json",
        &[],
    ),
    (
        "github (configured)",
        "@octokit/openapi/generated/api.github.com.json",
        &["--config", "crates/orgscope-cli/tests/openapi/github.yaml"],
    ),
    ("directus", "@directus/specs/dist/openapi.json", &[]),
    ("blockfrost", "@blockfrost/openapi/openapi.yaml", &[]),
];

#[test]
fn real_public_apis() {
    setup();
    let mut report = String::new();
    for (name, doc, args) in REAL {
        let path = Path::new(DOCS).join(doc);
        assert!(Path::new(ROOT).join(&path).exists(), "{doc} not installed");
        let out = orgscope()
            .args(["lint", "openapi", "--format", "json"])
            .args(args)
            .arg(&path)
            .output()
            .expect("run");
        let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
        let mut first: BTreeMap<String, String> = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let v: Value = serde_json::from_str(line).expect("json line");
            let code = v["code"].as_str().unwrap_or("").to_string();
            *by_code.entry(code.clone()).or_default() += 1;
            first.entry(code).or_insert_with(|| {
                format!(
                    "{}:{} {}",
                    v["line"],
                    v["column"],
                    v["message"].as_str().unwrap_or("")
                )
            });
        }
        report += &format!("{name}: exit {}\n", out.status.code().unwrap_or(-1));
        for (code, n) in &by_code {
            report += &format!("  {code}: {n} (first: {})\n", first[code]);
        }
    }
    let expected_path = Path::new(ROOT).join("crates/orgscope-cli/tests/openapi/real.expected");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&expected_path, &report).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    assert_eq!(expected, report, "BLESS=1 to accept");
}
