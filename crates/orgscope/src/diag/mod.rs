//! Diagnostics: the one shape every stage's problems take, rendered rustc-style or as JSON.

use crate::syntax::ast::Span;
use serde::Serialize;
use std::fmt::Write as _;
use std::sync::OnceLock;

mod diagnose;
mod escape;

// The conversion of stage errors and the escaping helper serve tools built on the syntax (the
// CLI); embedders get diagnostics as data and `Diagnostic::render`.
#[cfg(not(feature = "unstable-syntax"))]
pub(crate) use diagnose::Diagnose;
#[cfg(feature = "unstable-syntax")]
pub use diagnose::Diagnose;
#[cfg(feature = "unstable-syntax")]
pub use escape::escape_non_printing;
pub(crate) use escape::is_non_printing;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The policy cannot be used.
    Error,
    /// The policy works but breaks a *should* of the guideline.
    Warning,
}

/// One problem found in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code.
    pub code: &'static str,
    /// Lowercase message, user input in backticks, no final period.
    pub message: String,
    /// Where it points.
    pub span: Span,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// Rendered the way rustc does, against the policy text it points into: header, location,
    /// source line, caret, help. Non-printing characters are shown escaped.
    pub fn render(&self, src: &Source, style: Style) -> String {
        render(self, src, style)
    }

    /// Whether this diagnostic is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by position, errors before warnings at the same place.
pub(crate) fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.span.start, a.severity, a.code, &a.message).cmp(&(
            b.span.start,
            b.severity,
            b.code,
            &b.message,
        ))
    });
}

/// A policy file's text with a line index, for turning byte offsets into lines and columns.
#[derive(Debug, Clone)]
pub struct Source {
    name: String,
    text: String,
    /// Built on first use: loading a well-formed ASCII policy never asks for a line or column
    /// (its reader counts them as it goes), and a large policy's index weighs a third of its
    /// text, at the peak of the load.
    index: OnceLock<LineIndex>,
    /// All ASCII (the usual case): a column is a byte distance, no characters to count.
    ascii: bool,
}

/// Where each line starts, and column checkpoints.
#[derive(Debug, Clone)]
struct LineIndex {
    line_starts: Vec<usize>,
    /// `(byte offset, column)` every [`CHECKPOINT_BYTES`] or so: columns count characters, and
    /// counting from the line start would make every span on a long line cost its length.
    checkpoints: Vec<(usize, usize)>,
}

/// Distance between column checkpoints: bounds the characters counted per `line_col` call.
const CHECKPOINT_BYTES: usize = 256;

impl LineIndex {
    fn new(text: &str) -> Self {
        // Sized first: a large policy's index would otherwise carry a growing vector's slack.
        let mut line_starts = Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count() + 1);
        line_starts.push(0);
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut checkpoints = Vec::with_capacity(text.len() / CHECKPOINT_BYTES + 1);
        let mut col = 0;
        let mut next = CHECKPOINT_BYTES;
        for (i, c) in text.char_indices() {
            if i >= next {
                checkpoints.push((i, col));
                next = i + CHECKPOINT_BYTES;
            }
            col = if c == '\n' { 0 } else { col + 1 };
        }
        LineIndex {
            line_starts,
            checkpoints,
        }
    }
}

impl Source {
    /// Wraps `text`, read from the file called `name`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        Source {
            name: name.into(),
            ascii: text.is_ascii(),
            text,
            index: OnceLock::new(),
        }
    }

    fn index(&self) -> &LineIndex {
        self.index.get_or_init(|| LineIndex::new(&self.text))
    }

    /// The file name diagnostics and decisions use.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The span of `start..end`, with its line and column.
    pub(crate) fn span(&self, start: usize, end: usize) -> Span {
        let (line, col) = self.line_col(start);
        Span {
            start,
            end,
            line,
            col,
        }
    }

    /// 1-based line and column (in characters) where `span` ends: just past its last character.
    pub fn end_of(&self, span: Span) -> (u32, u32) {
        self.line_col(span.end.max(span.start))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.text.len());
        let index = self.index();
        let line = index
            .line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = index.line_starts.get(line).copied().unwrap_or(0);
        if self.ascii {
            return (to_u32(line + 1), to_u32(offset - start + 1));
        }
        // Count characters from the last checkpoint on this line, or from the line start.
        let checkpoint = index
            .checkpoints
            .partition_point(|&(b, _)| b <= offset)
            .checked_sub(1)
            .and_then(|i| index.checkpoints.get(i))
            .filter(|(b, _)| *b >= start);
        let (from, base) = checkpoint.copied().unwrap_or((start, 0));
        let col = base + self.text.get(from..offset).map_or(0, |s| s.chars().count());
        (to_u32(line + 1), to_u32(col + 1))
    }

    /// Byte offsets of a line's first character and of its end (before `\r\n` or `\n`).
    fn line_bounds(&self, line: u32) -> (usize, usize) {
        let i = (line as usize).saturating_sub(1);
        let line_starts = &self.index().line_starts;
        let start = line_starts.get(i).copied().unwrap_or(self.text.len());
        let end = line_starts
            .get(i + 1)
            .map_or(self.text.len(), |&e| e.saturating_sub(1))
            .max(start);
        let text = self.text.get(start..end).unwrap_or("");
        (start, start + text.trim_end_matches('\r').len())
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// How to render diagnostics as text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Use ANSI colours.
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Renders a diagnostic the way rustc does: header, location, source line, caret, help.
fn render(d: &Diagnostic, src: &Source, style: Style) -> String {
    let (word, colour) = match d.severity {
        Severity::Error => ("error", "1;31"),
        Severity::Warning => ("warning", "1;33"),
    };
    let line = d.span.line;
    let gutter = " ".repeat(line.to_string().len());
    let (text, indent, width) = excerpt(src, d);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}{}",
        style.paint(colour, &format!("{word}[{}]", d.code)),
        style.paint("1", &format!(": {}", printable(&d.message)))
    );
    let blue = |s: &str| style.paint("1;34", s);
    let _ = writeln!(
        out,
        "{gutter}{} {}:{}:{}",
        blue("-->"),
        printable(src.name()),
        line,
        d.span.col
    );
    let _ = writeln!(out, "{gutter} {}", blue("|"));
    let _ = writeln!(out, "{} {}", blue(&format!("{line} |")), text);
    let _ = writeln!(
        out,
        "{gutter} {} {}{}",
        blue("|"),
        " ".repeat(indent),
        style.paint(colour, &"^".repeat(width))
    );
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{gutter} {} help: {}", blue("="), printable(help));
    }
    out
}

/// Lines longer than this many characters are shown as a window around the caret.
const MAX_SHOWN: usize = 200;
/// How many characters of a long line are shown before the caret.
const CONTEXT_BEFORE: usize = 80;

/// The source line to show for `d` (printable, windowed when long), the caret's indent and its
/// width, both in display columns. Works on byte offsets, so that each diagnostic costs the
/// same however long its line is.
fn excerpt(src: &Source, d: &Diagnostic) -> (String, usize, usize) {
    let text = src.text();
    let (ls, le) = src.line_bounds(d.span.line);
    let line = text.get(ls..le).unwrap_or("");
    // Where the caret goes, in bytes into `line`, plus columns past the end of the line.
    let (mut at, past_end) = if (ls..=le).contains(&d.span.start) {
        (d.span.start - ls, 0)
    } else {
        // A span whose offset is not on its line (made up by a caller): trust the column.
        let col = (d.span.col.max(1) as usize) - 1;
        match line.char_indices().nth(col) {
            Some((i, _)) => (i, 0),
            None => (line.len(), col.saturating_sub(line.chars().count())),
        }
    };
    while at > 0 && !line.is_char_boundary(at) {
        at -= 1;
    }
    let (before, after) = line.split_at(at);
    let long = line.len() > MAX_SHOWN && line.chars().nth(MAX_SHOWN).is_some();
    let (from, to) = if long {
        let from = before
            .char_indices()
            .rev()
            .take(CONTEXT_BEFORE)
            .last()
            .map_or(before.len(), |(i, _)| i);
        let shown_before = before.get(from..).map_or(0, |b| b.chars().count());
        let to = after
            .char_indices()
            .nth(MAX_SHOWN.saturating_sub(shown_before))
            .map_or(after.len(), |(i, _)| i);
        (from, to)
    } else {
        (0, after.len())
    };
    let before = before.get(from..).unwrap_or("");
    let after = after.get(..to).unwrap_or("");
    let (left, right) = (from > 0, to < line.len() - at);
    let mut shown = String::new();
    if left {
        shown.push_str("...");
    }
    shown.push_str(&printable(before));
    shown.push_str(&printable(after));
    if right {
        shown.push_str("...");
    }
    let indent =
        usize::from(left) * 3 + before.chars().map(display_width).sum::<usize>() + past_end;
    // The caret runs to the end of the span, or of the shown line when the span goes on past it.
    let span_len = d.span.end.saturating_sub(d.span.start.max(ls + at));
    let width = after
        .char_indices()
        .take_while(|(i, _)| *i < span_len)
        .map(|(_, c)| display_width(c))
        .sum::<usize>()
        .max(1);
    (shown, indent, width)
}

/// How many columns a character of a source line takes when rendered.
fn display_width(c: char) -> usize {
    if c == '\t' {
        4
    } else {
        1
    }
}

/// Text safe to print on a terminal: tabs become four spaces and other non-printing characters
/// (a policy file may contain anything, escape sequences included) become U+FFFD, one column
/// each so that the caret stays under its span.
fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let (c, n) = match c {
                '\t' => (' ', 4),
                c if is_non_printing(c) => (char::REPLACEMENT_CHARACTER, 1),
                c => (c, 1),
            };
            std::iter::repeat_n(c, n)
        })
        .collect()
}

/// Joins words as "`a`, `b` or `c`".
pub(crate) fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
