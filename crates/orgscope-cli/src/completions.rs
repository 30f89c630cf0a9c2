//! `orgscope completions`: shell completions and the man page, generated from the clap definition.
//!
//! Both are generated at run time from the same `Cli` that parses the command line, so they can
//! never drift from it. The output goes to stdout; a reader that goes away early (`| head`) is
//! not an error.

use std::io::{self, Write};

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::Cli;

/// Arguments of `orgscope completions`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = INSTALL_HELP)]
pub struct Args {
    /// The shell to print a completion script for, or `man` for the roff man page.
    #[arg(value_enum, value_name = "SHELL")]
    target: Target,
}

/// What `orgscope completions` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Target {
    /// A bash completion script.
    Bash,
    /// A zsh completion function (`_orgscope`).
    Zsh,
    /// A fish completion script.
    Fish,
    /// A PowerShell argument completer.
    Powershell,
    /// An elvish completion script.
    Elvish,
    /// The man page, orgscope(1), in roff.
    Man,
}

const INSTALL_HELP: &str = "\
Examples:
  orgscope completions bash > ~/.local/share/bash-completion/completions/orgscope
  orgscope completions zsh > ~/.zfunc/_orgscope    # with `fpath+=~/.zfunc` before compinit
  orgscope completions fish > ~/.config/fish/completions/orgscope.fish
  orgscope completions powershell | Out-String | Invoke-Expression   # in $PROFILE
  orgscope completions elvish >> ~/.config/elvish/rc.elv
  orgscope completions man > orgscope.1 && man ./orgscope.1";

/// The binary name the scripts complete.
const BIN: &str = "orgscope";

pub fn run(args: Args) -> i32 {
    let output = match render(args.target) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: cannot render the man page: {e}");
            return 2;
        }
    };
    let mut stdout = io::stdout().lock();
    match stdout.write_all(&output).and_then(|()| stdout.flush()) {
        Ok(()) => 0,
        // A reader that went away (`orgscope completions bash | head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            2
        }
    }
}

/// The script or page for `target`, rendered into memory (clap_complete panics on a failed
/// write, so it never writes to stdout directly).
fn render(target: Target) -> io::Result<Vec<u8>> {
    let mut cmd = Cli::command();
    let shell = match target {
        Target::Bash => Shell::Bash,
        Target::Zsh => Shell::Zsh,
        Target::Fish => Shell::Fish,
        Target::Powershell => Shell::PowerShell,
        Target::Elvish => Shell::Elvish,
        Target::Man => return man_page(cmd).map(String::into_bytes),
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut out);
    Ok(out)
}

/// The roff preamble clap_mangen writes before every fragment: it defines the `\*(Aq`
/// apostrophe string that its text uses.
const PREAMBLE: [&str; 2] = [".ie \\n(.g .ds Aq \\(aq", ".el .ds Aq '"];

/// orgscope(1) as one self-contained page: `.TH` first, then the top-level NAME, SYNOPSIS,
/// DESCRIPTION and OPTIONS, then a COMMANDS section with every subcommand's description,
/// synopsis and options (clap_mangen alone would point at orgscope-check(1) and friends, pages
/// that a single stdout stream cannot carry), then VERSION.
fn man_page(mut cmd: clap::Command) -> io::Result<String> {
    // Building fills in the subcommands' bin names, so their synopses read `orgscope check ...`.
    cmd.build();
    let top = clap_mangen::Man::new(cmd.clone()).manual("orgscope manual");
    let mut page = fragment(|w| top.render_title(w))?;
    page.push_str(&PREAMBLE.join("\n"));
    page.push('\n');
    page.push_str(&fragment(|w| top.render_name_section(w))?);
    page.push_str(&fragment(|w| top.render_synopsis_section(w))?);
    page.push_str(&fragment(|w| top.render_description_section(w))?);
    page.push_str(&fragment(|w| top.render_options_section(w))?);
    page.push_str(".SH COMMANDS\n");
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_bin_name().unwrap_or_else(|| sub.get_name());
        let man = clap_mangen::Man::new(sub.clone());
        page.push_str(&format!(".SS \"{name}\"\n"));
        page.push_str(&section_body(fragment(|w| {
            man.render_description_section(w)
        })?));
        page.push_str(".PP\n");
        page.push_str(&section_body(fragment(|w| man.render_synopsis_section(w))?));
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            page.push_str(&section_body(fragment(|w| man.render_options_section(w))?));
        }
        if sub.get_after_long_help().is_some() || sub.get_after_help().is_some() {
            // The examples are laid out by hand: keep their lines unfilled.
            page.push_str(".PP\n.nf\n");
            page.push_str(&section_body(fragment(|w| man.render_extra_section(w))?));
            page.push_str(".fi\n");
        }
    }
    page.push_str(TRAILER);
    page.push_str(&fragment(|w| top.render_version_section(w))?);
    Ok(page)
}

/// The sections clap cannot derive: what the exit status means (the same for every command,
/// README and docs/diagnostics.md), a first session, and where the rest is documented.
const TRAILER: &str = r#".SH "EXIT STATUS"
.TP
.B 0
Success: every file is clean (warnings allowed), every request was answered, every test passed.
.TP
.B 1
A policy has an error (or a warning under \fB\-\-deny\-warnings\fR), a request was denied under
\fB\-\-fail\-on\-deny\fR, a policy test failed or coverage is below \fB\-\-min\-coverage\fR.
.TP
.B 2
A file could not be read, a policy does not load, or the arguments are wrong. The other files are
still processed.
.SH EXAMPLES
.nf
orgscope check policies/zuora\-multi\-org.policy
orgscope fmt \-\-check policies
orgscope eval \-\-policy policies/zuora\-multi\-org.policy requests.ndjson
orgscope test \-\-coverage policies
orgscope serve \-\-policy policies/zuora\-multi\-org.policy \-\-listen 127.0.0.1:8181
orgscope completions man > orgscope.1
.fi
.SH "SEE ALSO"
The language reference (docs/language.md), the author's guide (docs/guide.md), every checker code
(docs/diagnostics.md), the threat model (docs/security.md), the service (docs/server.md) and SQL
(docs/data.md), in the orgscope repository.
"#;

/// One clap_mangen fragment as text, without the preamble it repeats each time.
fn fragment(render: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> io::Result<String> {
    let mut out = Vec::new();
    render(&mut out)?;
    let text = String::from_utf8(out).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(text
        .lines()
        .filter(|line| !PREAMBLE.contains(line))
        .map(|line| format!("{line}\n"))
        .collect())
}

/// A fragment of a subcommand's page, nested under its `.SS` heading: its own `.SH` section
/// headings are dropped (clap_mangen emits the section's content right after them).
fn section_body(fragment: String) -> String {
    fragment
        .lines()
        .filter(|line| !line.starts_with(".SH "))
        .map(|line| format!("{line}\n"))
        .collect()
}
