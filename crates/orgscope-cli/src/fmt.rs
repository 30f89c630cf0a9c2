//! `orgscope fmt`: rewrite policy files in the canonical layout, keeping every comment.
//!
//! Without flags each file's formatted text goes to stdout; `--write` rewrites changed files in
//! place (through a temporary file in the same directory, renamed over the original, so a file is
//! never left half-written); `--check` writes nothing and prints a unified diff for each file that
//! would change; `--list` (`-l`) prints only their names. A directory means every `*.policy`
//! under it, sorted. No file (or `-`) means standard input. Every file is processed even after one
//! fails. Exit status: 0 all done (or, with `--check`/`--list`, all already formatted), 1 with
//! `--check`/`--list` when some file would change, 2 when some file could not be read, does not
//! parse, or failed the formatter's self-check (such files are never written), or a directory
//! holds no policy.

use orgscope::diag::{self, escape_non_printing, Diagnose as _, Source};
use orgscope::format::FmtError;
use orgscope::parse;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

/// Arguments of `orgscope fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files to format (a directory means every `*.policy` under it); `-` or none reads
    /// standard input and writes standard output.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write nothing; print a diff for each file that is not formatted and exit 1 if any is.
    #[arg(long, conflicts_with = "write")]
    check: bool,
    /// Write nothing; print the name of each file that is not formatted and exit 1 if any is.
    #[arg(short, long, conflicts_with_all = ["check", "write"])]
    list: bool,
    /// Rewrite the files in place (only those whose layout changes).
    #[arg(long)]
    write: bool,
}

/// Exit status: everything formatted (or already formatted).
const OK: i32 = 0;
/// Exit status: `--check` or `--list` found a file that would change.
const WOULD_CHANGE: i32 = 1;
/// Exit status: a file could not be read, parsed, formatted or written.
const FAILED: i32 = 2;

/// Lines of context around each change in a diff.
const CONTEXT: usize = 3;

pub fn run(args: Args) -> i32 {
    let stdout = std::io::stdout();
    let mut stdout = stdout.lock();
    let stderr = std::io::stderr();
    let mut stderr = stderr.lock();
    let style = super::stderr_style();
    let color = stdout_color();
    let mut status = OK;
    let (files, missing) = super::policy_files(&args.files);
    for message in missing {
        let _ = writeln!(stderr, "error: {message}");
        status = FAILED;
    }
    let inputs: Vec<Option<&Path>> = if args.files.is_empty() {
        vec![None]
    } else {
        files
            .iter()
            .map(|f| (f.as_os_str() != "-").then_some(f.as_path()))
            .collect()
    };
    for input in inputs {
        let name = input.map_or_else(|| "<stdin>".to_string(), |p| p.display().to_string());
        if args.write && input.is_none() {
            let _ = writeln!(
                stderr,
                "error: `--write` needs file names; standard input is formatted to standard output without it"
            );
            status = FAILED;
            continue;
        }
        let bytes = match read(input) {
            Ok(bytes) => bytes,
            Err(e) => {
                let _ = writeln!(
                    stderr,
                    "error: cannot read `{}`: {e}",
                    escape_non_printing(&name)
                );
                status = FAILED;
                continue;
            }
        };
        let src = match parse::decode(&name, bytes) {
            Ok(src) => src,
            Err((src, e)) => {
                let _ = writeln!(stderr, "{}", e.to_diagnostic().render(&src, style));
                let _ = writeln!(
                    stderr,
                    "error: `{}` was not formatted",
                    escape_non_printing(&name)
                );
                status = FAILED;
                continue;
            }
        };
        let formatted = match orgscope::format::format(&src) {
            Ok(text) => text,
            Err(e) => {
                report(&mut stderr, &src, &e, style);
                status = FAILED;
                continue;
            }
        };
        let changed = formatted != src.text();
        if args.list {
            if changed {
                let _ = writeln!(stdout, "{}", escape_non_printing(&name));
                if status == OK {
                    status = WOULD_CHANGE;
                }
            }
        } else if args.check {
            if changed {
                let _ =
                    stdout.write_all(unified_diff(&name, src.text(), &formatted, color).as_bytes());
                if status == OK {
                    status = WOULD_CHANGE;
                }
            }
        } else if args.write {
            if let (true, Some(path)) = (changed, input) {
                if let Err(e) = write_atomically(path, &formatted) {
                    let _ = writeln!(
                        stderr,
                        "error: cannot write `{}`: {e}",
                        escape_non_printing(&name)
                    );
                    status = FAILED;
                }
            }
        } else {
            let _ = stdout.write_all(formatted.as_bytes());
        }
    }
    let _ = stdout.flush();
    status
}

/// Reads a file, or standard input for `None`.
fn read(input: Option<&Path>) -> std::io::Result<Vec<u8>> {
    match input {
        Some(path) => std::fs::read(path),
        None => {
            let mut bytes = Vec::new();
            std::io::stdin().lock().read_to_end(&mut bytes)?;
            Ok(bytes)
        }
    }
}

/// Writes why a file was not formatted to stderr.
fn report(out: &mut impl std::io::Write, src: &Source, e: &FmtError, style: diag::Style) {
    if let FmtError::Syntax(errors) = e {
        for err in errors {
            let _ = writeln!(out, "{}", err.to_diagnostic().render(src, style));
        }
        let _ = writeln!(
            out,
            "error: `{}` was not formatted",
            escape_non_printing(src.name())
        );
    } else {
        let _ = writeln!(out, "error: `{}`: {e}", escape_non_printing(src.name()));
    }
}

/// Replaces `path`'s contents with `text` by writing a temporary file next to it and renaming it
/// over the original: readers see the old file or the new one, never a mix. A symbolic link is
/// followed (its target is rewritten), and the file keeps its permissions.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{file_name}.orgscope-fmt-{}.tmp",
        std::process::id()
    ));
    let permissions = std::fs::metadata(&target)?.permissions();
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.set_permissions(permissions)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Whether to colour the diff: stdout is a terminal and `NO_COLOR` is not set.
fn stdout_color() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

// ------------------------------------------------------------------------------------ line diff

/// A unified diff (`diff -u` style, three lines of context) from `old` to `new`, both called
/// `name`. Empty when they are equal. Lines are shown with their non-printing characters
/// escaped, like every text for people.
fn unified_diff(name: &str, old: &str, new: &str, color: bool) -> String {
    let diff = similar::TextDiff::configure()
        // Past this the diff is still correct, just not minimal.
        .timeout(std::time::Duration::from_secs(2))
        .diff_lines(old, new);
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    for (k, hunk) in diff
        .unified_diff()
        .context_radius(CONTEXT)
        .iter_hunks()
        .enumerate()
    {
        if k == 0 {
            out.push_str(&paint(
                "1",
                &format!(
                    "--- {name}\n+++ {name} (formatted)\n",
                    name = escape_non_printing(name)
                ),
            ));
        }
        out.push_str(&paint("36", &hunk.header().to_string()));
        out.push('\n');
        for change in hunk.iter_changes() {
            let (sign, code) = match change.tag() {
                similar::ChangeTag::Equal => (' ', ""),
                similar::ChangeTag::Delete => ('-', "31"),
                similar::ChangeTag::Insert => ('+', "32"),
            };
            let line = change.value();
            let body = line.strip_suffix('\n').unwrap_or(line);
            let text = format!("{sign}{}", escape_non_printing(body));
            out.push_str(&if code.is_empty() {
                text
            } else {
                paint(code, &text)
            });
            out.push('\n');
            if change.missing_newline() {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unified_diff;

    #[test]
    fn diff_of_equal_texts_is_empty() {
        assert_eq!(unified_diff("p", "a\nb\n", "a\nb\n", false), "");
    }

    #[test]
    fn diff_shows_changes_with_context() {
        let old = "1\n2\n3\n4\nx\n5\n6\n7\n8\n";
        let new = "1\n2\n3\n4\ny\n5\n6\n7\n8\n";
        assert_eq!(
            unified_diff("p", old, new, false),
            "--- p\n+++ p (formatted)\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-x\n+y\n 5\n 6\n 7\n"
        );
    }

    #[test]
    fn far_apart_changes_make_two_hunks() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new: String = (1..=20)
            .map(|i| match i {
                2 => "two\n".to_string(),
                19 => "nineteen\n".to_string(),
                i => format!("{i}\n"),
            })
            .collect();
        let diff = unified_diff("p", &old, &new, false);
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(
            diff.contains("@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n"),
            "{diff}"
        );
        assert!(diff.contains("@@ -16,5 +16,5 @@\n"), "{diff}");
        // Six unchanged lines between two changes (twice the context) make one hunk.
        let near: String = (1..=20)
            .map(|i| {
                if i == 2 || i == 9 {
                    "x\n".to_string()
                } else {
                    format!("{i}\n")
                }
            })
            .collect();
        let diff = unified_diff("p", &old, &near, false);
        assert_eq!(diff.matches("@@ -").count(), 1, "{diff}");
        assert!(diff.contains("@@ -1,12 +1,12 @@\n"), "{diff}");
    }

    #[test]
    fn insertion_into_empty_and_missing_newline() {
        assert_eq!(
            unified_diff("p", "", "a\n", false),
            "--- p\n+++ p (formatted)\n@@ -0,0 +1 @@\n+a\n"
        );
        assert_eq!(
            unified_diff("p", "a", "a\n", false),
            "--- p\n+++ p (formatted)\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n"
        );
    }
}
