//! `orgscope fmt`: rewrite policy files in the canonical layout, keeping every comment.
//!
//! Without flags each file's formatted text goes to stdout; `--write` rewrites changed files in
//! place (through a temporary file in the same directory, renamed over the original, so a file is
//! never left half-written); `--check` writes nothing and prints a unified diff for each file that
//! would change. No file (or `-`) means standard input. Every file is processed even after one
//! fails. Exit status: 0 all done (or, with `--check`, all already formatted), 1 with `--check`
//! when some file would change, 2 when some file could not be read, does not parse, or failed the
//! formatter's self-check (such files are never written).

use orgscope::diag::{self, Diagnose as _, Source};
use orgscope::format::FmtError;
use orgscope::parse;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

/// Arguments of `orgscope fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files to format; `-` or none reads standard input and writes standard output.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Write nothing; print a diff for each file that is not formatted and exit 1 if any is.
    #[arg(long, conflicts_with = "write")]
    check: bool,
    /// Rewrite the files in place (only those whose layout changes).
    #[arg(long)]
    write: bool,
}

/// Exit status: everything formatted (or already formatted).
const OK: i32 = 0;
/// Exit status: `--check` found a file that would change.
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
    let inputs: Vec<Option<&Path>> = if args.files.is_empty() {
        vec![None]
    } else {
        args.files
            .iter()
            .map(|f| (f.as_os_str() != "-").then_some(f.as_path()))
            .collect()
    };
    let mut status = OK;
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
                let _ = writeln!(stderr, "error: cannot read `{name}`: {e}");
                status = FAILED;
                continue;
            }
        };
        let src = match parse::decode(&name, bytes) {
            Ok(src) => src,
            Err((src, e)) => {
                let _ = writeln!(stderr, "{}", diag::render(&e.to_diagnostic(), &src, style));
                let _ = writeln!(stderr, "error: `{name}` was not formatted");
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
        if args.check {
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
                    let _ = writeln!(stderr, "error: cannot write `{name}`: {e}");
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
            let _ = writeln!(out, "{}", diag::render(&err.to_diagnostic(), src, style));
        }
        let _ = writeln!(out, "error: `{}` was not formatted", src.name());
    } else {
        let _ = writeln!(out, "error: `{}`: {e}", src.name());
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

/// One step of an edit script over lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// The old line `.0` equals the new line `.1`.
    Same(usize, usize),
    /// The old line is removed.
    Del(usize),
    /// The new line is added.
    Add(usize),
}

/// Above this many LCS cells (after the common prefix and suffix are set aside) the middle is
/// shown as one replacement instead: still a correct diff, just not a minimal one.
const MAX_LCS_CELLS: usize = 16_000_000;

/// An edit script turning `old` into `new`: longest common subsequence over lines.
fn edit_script(old: &[&str], new: &[&str]) -> Vec<Op> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(old.len().min(new.len()) - prefix)
        .take_while(|(a, b)| a == b)
        .count();
    let (n, m) = (old.len() - prefix - suffix, new.len() - prefix - suffix);
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    let a = old.get(prefix..prefix + n).unwrap_or_default();
    let b = new.get(prefix..prefix + m).unwrap_or_default();
    if n.saturating_mul(m) > MAX_LCS_CELLS {
        ops.extend((0..n).map(|i| Op::Del(prefix + i)));
        ops.extend((0..m).map(|j| Op::Add(prefix + j)));
    } else {
        // lcs[i * (m + 1) + j]: the LCS length of a[i..] and b[j..].
        let w = m + 1;
        let mut lcs = vec![0u32; (n + 1) * w];
        let at = |lcs: &[u32], i: usize, j: usize| lcs.get(i * w + j).copied().unwrap_or(0);
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                let v = if a.get(i) == b.get(j) {
                    at(&lcs, i + 1, j + 1) + 1
                } else {
                    at(&lcs, i + 1, j).max(at(&lcs, i, j + 1))
                };
                if let Some(cell) = lcs.get_mut(i * w + j) {
                    *cell = v;
                }
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && a.get(i) == b.get(j) {
                ops.push(Op::Same(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < n && (j == m || at(&lcs, i + 1, j) >= at(&lcs, i, j + 1)) {
                ops.push(Op::Del(prefix + i));
                i += 1;
            } else {
                ops.push(Op::Add(prefix + j));
                j += 1;
            }
        }
    }
    let (old_end, new_end) = (prefix + n, prefix + m);
    ops.extend((0..suffix).map(|k| Op::Same(old_end + k, new_end + k)));
    ops
}

/// A unified diff (`diff -u` style, three lines of context) from `old` to `new`, both called
/// `name`. Empty when they are equal.
fn unified_diff(name: &str, old: &str, new: &str, color: bool) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = edit_script(&old_lines, &new_lines);
    let changes: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(k, _)| k)
        .collect();
    let Some(&first) = changes.first() else {
        return String::new();
    };
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    out.push_str(&paint(
        "1",
        &format!("--- {name}\n+++ {name} (formatted)\n"),
    ));
    // Group changes into hunks: a gap of more than twice the context starts a new hunk.
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    let mut start = first;
    let mut end = first;
    for &k in changes.iter().skip(1) {
        if k - end > 2 * CONTEXT + 1 {
            hunks.push((start, end));
            start = k;
        }
        end = k;
    }
    hunks.push((start, end));
    for (s, e) in hunks {
        let lo = s.saturating_sub(CONTEXT);
        let hi = (e + CONTEXT + 1).min(ops.len());
        let hunk = ops.get(lo..hi).unwrap_or_default();
        let (mut old_start, mut new_start) = (None, None);
        let (mut old_len, mut new_len) = (0, 0);
        // Where the hunk starts in each file, even when it has no line of that file.
        let (mut old_pos, mut new_pos) = (0, 0);
        for op in ops.get(..lo).unwrap_or_default() {
            match op {
                Op::Same(..) => {
                    old_pos += 1;
                    new_pos += 1;
                }
                Op::Del(_) => old_pos += 1,
                Op::Add(_) => new_pos += 1,
            }
        }
        for op in hunk {
            match *op {
                Op::Same(i, j) => {
                    old_start.get_or_insert(i);
                    new_start.get_or_insert(j);
                    old_len += 1;
                    new_len += 1;
                }
                Op::Del(i) => {
                    old_start.get_or_insert(i);
                    old_len += 1;
                }
                Op::Add(j) => {
                    new_start.get_or_insert(j);
                    new_len += 1;
                }
            }
        }
        let range = |start: Option<usize>, pos: usize, len: usize| {
            let first = if len == 0 {
                pos
            } else {
                start.unwrap_or(pos) + 1
            };
            if len == 1 {
                format!("{first}")
            } else {
                format!("{first},{len}")
            }
        };
        out.push_str(&paint(
            "36",
            &format!(
                "@@ -{} +{} @@",
                range(old_start, old_pos, old_len),
                range(new_start, new_pos, new_len)
            ),
        ));
        out.push('\n');
        for op in hunk {
            let (sign, line, code) = match *op {
                Op::Same(i, _) => (' ', old_lines.get(i), ""),
                Op::Del(i) => ('-', old_lines.get(i), "31"),
                Op::Add(j) => ('+', new_lines.get(j), "32"),
            };
            let line = line.copied().unwrap_or("");
            let body = line.strip_suffix('\n').unwrap_or(line);
            let text = format!("{sign}{body}");
            out.push_str(&if code.is_empty() {
                text
            } else {
                paint(code, &text)
            });
            out.push('\n');
            if !line.ends_with('\n') {
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
