//! `orgscope completions` through the real binary: every shell's script, the man page, bad shells.

mod common;

use std::process::{Command, Output, Stdio};

const SUBCOMMANDS: [&str; 7] = [
    "check",
    "eval",
    "fmt",
    "test",
    "completions",
    "lint",
    "import",
];

fn orgscope(args: &[&str]) -> Output {
    common::run(args, b"")
}

fn stdout_of(args: &[&str]) -> String {
    let out = orgscope(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "orgscope {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "orgscope {args:?} wrote to stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_shell_gets_a_script_that_knows_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        for sub in SUBCOMMANDS {
            assert!(
                script.contains(sub),
                "{shell}: script never mentions `{sub}`"
            );
        }
        // Options of the subcommands are completed too, not just their names.
        assert!(
            script.contains("fail-on-deny"),
            "{shell}: no `eval --fail-on-deny`"
        );
    }
}

#[test]
fn each_script_is_the_shell_s_own_format() {
    let markers = [
        ("bash", "complete -F _orgscope"),
        ("zsh", "#compdef orgscope"),
        ("fish", "complete -c orgscope"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "set edit:completion:arg-completer[orgscope]"),
    ];
    for (shell, marker) in markers {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: no `{marker}`");
    }
}

/// The bash script is valid bash, and completing `orgscope <TAB>` and
/// `orgscope completions <TAB>` offers the subcommands and the shells.
#[test]
fn bash_script_parses_and_completes() {
    let script = stdout_of(&["completions", "bash"]);
    let probe = format!(
        "{script}\n\
         COMP_WORDS=(orgscope ''); COMP_CWORD=1; _orgscope orgscope '' orgscope\n\
         echo \"top: ${{COMPREPLY[*]}}\"\n\
         COMP_WORDS=(orgscope completions ''); COMP_CWORD=2; _orgscope orgscope '' completions\n\
         echo \"completions: ${{COMPREPLY[*]}}\"\n"
    );
    let out = match Command::new("bash").args(["--norc", "-c", &probe]).output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run bash: {e}");
            return;
        }
    };
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let top = text.lines().find(|l| l.starts_with("top: ")).unwrap();
    for sub in SUBCOMMANDS {
        assert!(
            top.split(' ').any(|w| w == sub),
            "`{sub}` not offered: {top}"
        );
    }
    let shells = text
        .lines()
        .find(|l| l.starts_with("completions: "))
        .unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish", "man"] {
        assert!(
            shells.split(' ').any(|w| w == shell),
            "`{shell}` not offered: {shells}"
        );
    }
}

#[test]
fn man_page_is_roff_and_documents_every_subcommand() {
    let page = stdout_of(&["completions", "man"]);
    assert!(page.starts_with(".TH orgscope 1 "), "{}", &page[..80]);
    assert_eq!(page.matches("\n.TH ").count(), 0, "one page, one title");
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS"] {
        assert!(
            page.contains(&format!("\n.SH {section}\n")),
            "no {section} section"
        );
    }
    // What clap cannot derive, after the commands and before VERSION.
    let trailer = [
        "\n.SH \"EXIT STATUS\"\n",
        "\n.SH EXAMPLES\n",
        "\n.SH \"SEE ALSO\"\n",
        "\n.SH VERSION\n",
    ];
    let at: Vec<usize> = trailer
        .iter()
        .map(|s| page.find(s).unwrap_or_else(|| panic!("no {s:?}")))
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]) && page.find("\n.SH COMMANDS\n") < Some(at[0]),
        "{at:?}"
    );
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("\n.SS \"orgscope {sub}\"\n")),
            "no subsection for `{sub}`"
        );
    }
    // Subcommand options are in the page, not only in pages it points to.
    assert!(
        page.contains("fail\\-on\\-deny"),
        "no `eval --fail-on-deny`"
    );
    // The apostrophe string clap_mangen uses is defined once, after the title.
    assert_eq!(page.matches(".ds Aq").count(), 2);
    // Pages that a single stream cannot carry are not referred to.
    assert!(!page.contains("orgscope\\-check(1)"));
}

/// When groff is installed, it renders the page without a single warning.
#[test]
fn man_page_renders_cleanly_with_groff() {
    let page = stdout_of(&["completions", "man"]);
    let dir = std::env::temp_dir().join(format!("orgscope-man-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("orgscope.1");
    std::fs::write(&file, &page).unwrap();
    let out = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&file)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(out) => {
            assert!(out.status.success());
            assert!(
                out.stderr.is_empty(),
                "groff: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Err(e) => eprintln!("skipped: cannot run groff: {e}"),
    }
}

#[test]
fn output_is_deterministic() {
    for target in ["bash", "zsh", "fish", "powershell", "elvish", "man"] {
        assert_eq!(
            stdout_of(&["completions", target]),
            stdout_of(&["completions", target]),
            "{target}"
        );
    }
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = orgscope(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("invalid value 'tcsh' for '<SHELL>'"),
        "unclear error: {err}"
    );
    assert!(
        err.contains("[possible values: bash, zsh, fish, powershell, elvish, man]"),
        "{err}"
    );
}

#[test]
fn missing_shell_is_a_usage_error() {
    let out = orgscope(&["completions"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("<SHELL>"), "{err}");
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orgscope"))
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
