//! The hand-written parser against the pest grammar: on every policy text in the repository, on
//! mutations of them, and on large generated policies, the fast path's tree is pest's (spans
//! included), it never reads a text pest rejects, and it reads every text pest accepts.

use orgscope::ast::Policy;
use orgscope::diag::Source;
use orgscope::format::format;
use orgscope::parse::{parse, parse_fast, parse_with_pest};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod common;

/// The first difference between two trees, compared with their spans (`Debug` shows every field;
/// the trees' own `==` ignores spans).
fn difference(fast: &Policy, pest: &Policy) -> Option<String> {
    if fast.items.len() != pest.items.len() {
        return Some(format!(
            "{} items read fast, {} by pest",
            fast.items.len(),
            pest.items.len()
        ));
    }
    let items = fast.items.iter().zip(&pest.items).enumerate();
    for (i, (a, b)) in items {
        let (a, b) = (format!("{a:?}"), format!("{b:?}"));
        if a != b {
            return Some(format!("item {i}:\n fast: {a}\n pest: {b}"));
        }
    }
    let (a, b) = (format!("{:?}", fast.broken), format!("{:?}", pest.broken));
    (a != b).then(|| format!("broken:\n fast: {a}\n pest: {b}"))
}

/// Reads `text` both ways and fails unless they agree: a tree from the fast path is pest's, and
/// the fast path gives up exactly when pest reports a syntax error. Also checks that `parse`
/// returns what pest does. Returns whether the text is free of syntax errors.
fn agree(name: &str, text: &str) -> Result<bool, String> {
    let src = Source::new(name, text);
    let fast = parse_fast(&src);
    let (tree, errors) = parse_with_pest(&src);
    match &fast {
        Some(_) if !errors.is_empty() => {
            return Err(format!(
                "{name}: the fast path read a text pest rejects ({errors:?}):\n{text}"
            ))
        }
        None if errors.is_empty() => {
            return Err(format!(
                "{name}: the fast path gave up on a text pest accepts:\n{text}"
            ))
        }
        Some(ast) => {
            if let Some(d) = difference(ast, &tree) {
                return Err(format!("{name}: the trees differ, {d}\n{text}"));
            }
        }
        None => {}
    }
    let (via, via_errors) = parse(&src);
    if via_errors != errors || difference(&via, &tree).is_some() {
        return Err(format!("{name}: `parse` is not pest's answer:\n{text}"));
    }
    Ok(errors.is_empty())
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Files under `dir` (recursively) whose name satisfies `keep`, sorted.
fn files(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.expect("readable directory entry").path();
        if path.is_dir() {
            out.extend(files(&path, keep));
        } else if keep(&path) {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn is_policy(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "policy")
}

/// The ```` ```orgscope ```` blocks of a Markdown file.
fn code_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_start().starts_with("```orgscope") => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_start().starts_with("```") => {
                blocks.extend(current.take());
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    blocks
}

/// Every policy text in the repository: the shipped policies and examples, the CLI's fixtures,
/// the fuzz seeds and kept crash inputs of the policy targets, and the documentation's code
/// blocks, as `(name, text)`.
fn corpus() -> &'static [(String, String)] {
    static CORPUS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = root();
        let mut paths = Vec::new();
        for dir in ["policies", "examples", "crates/orgscope-cli/tests/cases"] {
            paths.extend(files(&root.join(dir), &is_policy));
        }
        for target in ["policy_check", "fmt_roundtrip"] {
            for dir in ["fuzz/seeds", "fuzz/regressions"] {
                paths.extend(files(&root.join(dir).join(target), &|_| true));
            }
        }
        let mut texts: Vec<(String, String)> = paths
            .iter()
            .filter_map(|p| {
                let text = String::from_utf8(std::fs::read(p).ok()?).ok()?;
                Some((p.display().to_string(), text))
            })
            .collect();
        let mut docs = files(&root.join("docs"), &|p| {
            p.extension().is_some_and(|e| e == "md")
        });
        docs.push(root.join("README.md"));
        for doc in docs {
            let markdown = std::fs::read_to_string(&doc).expect("readable documentation");
            for (i, block) in code_blocks(&markdown).into_iter().enumerate() {
                texts.push((format!("{} block {i}", doc.display()), block));
            }
        }
        texts
    })
}

#[test]
fn every_policy_in_the_repository_reads_the_same_both_ways() {
    let mut accepted = 0;
    let mut failures = Vec::new();
    for (name, text) in corpus() {
        match agree(name, text) {
            Ok(ok) => accepted += usize::from(ok),
            Err(e) => failures.push(e),
        }
        // The formatter's output is a policy too, laid out differently.
        if let Ok(formatted) = format(&Source::new(name.as_str(), text.as_str())) {
            if let Err(e) = agree(&format!("{name} formatted"), &formatted) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The corpus is real: most of it parses, and some of it does not.
    assert!(accepted >= 100, "only {accepted} texts parse");
    assert!(accepted < corpus().len(), "no text with a syntax error");
}

#[test]
fn the_shipped_policies_take_the_fast_path() {
    let shipped = files(&root().join("policies"), &is_policy);
    let examples = files(&root().join("examples"), &is_policy);
    assert!(shipped.len() >= 2, "policies/ holds the shipped policies");
    for path in shipped.iter().chain(&examples) {
        let text = std::fs::read_to_string(path).expect("readable policy");
        let src = Source::new(path.display().to_string(), text);
        assert!(
            parse_fast(&src).is_some(),
            "{} is read by pest",
            path.display()
        );
        assert!(parse_with_pest(&src).1.is_empty());
    }
}

/// A policy with every construct of the grammar, in odd but valid layouts.
const EVERY_CONSTRUCT: &str = r#"# every construct
multi_org{default disabled when_disabled ignore lookalike_headers reject}
orgs {
  descendant_access on
  org Root id "r-1" id"r\"2\\" # two ids
  org "Asia Pacific" parent Root
  org id parent "Asia Pacific" id "x\ty\n"
}
header "X-Org" { role org_id single member_of user.orgs max_length 00 }
header Zuora-Org-Ids {role visibility list subset_of   user.orgs max_items 123456789012345678}
header W_1 { role working_org }
object account { label body.organization_Label-1 shared alias "Account", "acct\\" fallback unlabeled }
object invoice{inherit account via body.a.b-c optional fallback working_org,default_org , single_org}
object type
object id {
}
fallback working_org
route GET|POST | PUT /v1/{accountId}/x-y->read account id path.accountId
route PATCH /a-b/c.d:e~f%20@!$&'()*+,;=/ -> update type query.t.u
route DELETE // -> delete id
route HEAD / -> query objects
route OPTIONS /{_p} -> create type body.type objects body.items id body.id
route GET /x -> read type
route GET /y -> read id body.x objects query.o
default -> query
default->create account
legacy service billing {
  endpoint GET /v1/orgs/{orgId} { org_id path orgId }
  endpoint POST|PUT /v1/x{ org_id header "Organization-ID" justification "a \"b\"" unscoped }
  endpoint DELETE /v1/y
}
service s{endpoint GET /{unscoped}}
service empty {}
"#;

#[test]
fn every_construct_reads_the_same_both_ways() {
    assert_eq!(agree("every.policy", EVERY_CONSTRUCT), Ok(true));
    let crlf = EVERY_CONSTRUCT.replace('\n', "\r\n");
    assert_eq!(agree("crlf.policy", &crlf), Ok(true));
    let unicode = EVERY_CONSTRUCT.replace("# two ids", "# deux identifiants, 日本 é\u{2003}");
    let unicode = unicode.replace("\"r-1\"", "\"ré-1 日本\"");
    assert_eq!(agree("unicode.policy", &unicode), Ok(true));
    // Pest rejects these; the fast path must give up on them.
    for bad in [
        "object a {",
        "object a { label body }",
        "route GET /a -> read x id",
        "route GET /a{b} -> query",
        "header X { max_items 1234567890123456789 }",
        "orgs { org a id \"\\x\" }",
        "object org",
        "fallback working_org,",
        "\u{feff}object a",
        "object a\u{b}",
        "legacy object a",
    ] {
        assert_eq!(agree("bad.policy", bad), Ok(false), "{bad}");
    }
}

/// Large generated policies, each above the pest path's 64 KiB chunk: issue 13's shape (object
/// types with a label and a parent, routes, a large org directory) and many copies of every
/// construct.
#[test]
fn large_generated_policies_read_the_same_both_ways() {
    let text = common::many_types(10_000);
    assert!(text.len() > 1 << 20);
    assert_eq!(agree("generated.policy", &text), Ok(true));
    let many = EVERY_CONSTRUCT.repeat(200);
    assert!(many.len() > 1 << 17);
    assert_eq!(agree("many.policy", &many), Ok(true));
    // Declarations that go on across a line starting with a top-level keyword (where pest's path
    // cuts its 64 KiB chunks), placed across each cut.
    let across = "multi_org {\ndefault enabled\n}\nheader\nobject {\n list\n}\n\
        service s {\n endpoint GET /a {\n  org_id header\nheader\n }\n}\n";
    let mut text = String::new();
    for i in 0..3_000 {
        text.push_str(&format!("object t{i} {{ label body.organizationLabel }}\n"));
        if i % 100 == 0 {
            text.push_str(across);
        }
    }
    assert!(text.len() > 1 << 17);
    assert_eq!(agree("across.policy", &text), Ok(true));
}

/// An edit of a policy text: bytes and tokens deleted, inserted or replaced, lines swapped or
/// duplicated, the layout changed throughout.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, &'static str),
    Replace(usize, usize, &'static str),
    SwapLines(usize, usize),
    DuplicateLine(usize),
    Crlf,
    Tabs,
    CommentEveryLine,
    Squeeze,
}

/// What the edits insert: every keyword and punctuation of the grammar, tokens that are almost
/// right, odd whitespace and characters. The first [`NOT_NAMES`] are no name: the reserved
/// words, and what is no identifier.
#[rustfmt::skip]
const TOKENS: &[&str] = &[
    "multi_org", "orgs", "org", "header", "object", "fallback", "route", "default", "legacy",
    "service", "endpoint", "9a", "-a", "a-b", "\"a", "enabled", "disabled", "when_disabled",
    "lookalike_headers", "reject", "ignore", "descendant_access", "on", "off", "id", "parent",
    "role", "visibility", "working_org", "org_id", "list", "single", "subset_of", "member_of",
    "user.orgs", "max_items", "max_length", "label", "inherit", "via", "optional", "shared",
    "alias", "default_org", "single_org", "unlabeled", "query", "create", "read", "update",
    "delete", "type", "objects", "unscoped", "justification", "path", "body", "GET", "POST", "PUT",
    "PATCH", "DELETE", "HEAD", "OPTIONS", "get", "{", "}", "->", "-", ">", "|", ",", ".", "/",
    "\"", "\\", "#", " ", "\t", "\n", "\r\n", "\r", "\u{b}", "\u{c}", "\0", "é", "日本", "\u{2003}",
    "\u{feff}", "# note\n", "# \"#\n", "/{x}", "{x}", "{", "body.a", "path.x-y", "query.q.r",
    "body.", "user.org", "0", "123", "1234567890123456789", "\"a\\\"b\"", "\"\\n\\t\"", "\"\\x\"",
    "\"\n\"", "_", "x_1", "a-b", "Zuora-Org-Ids", "account",
];

fn edit() -> impl Strategy<Value = Edit> {
    let token = prop::sample::select(TOKENS);
    prop_oneof![
        (any::<usize>(), 1..8usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), token.clone()).prop_map(|(at, t)| Edit::Insert(at, t)),
        (any::<usize>(), 1..6usize, token).prop_map(|(at, n, t)| Edit::Replace(at, n, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        Just(Edit::Crlf),
        Just(Edit::Tabs),
        Just(Edit::CommentEveryLine),
        Just(Edit::Squeeze),
    ]
}

/// The char boundary at or before `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut t = text.to_string();
    match *edit {
        Edit::Delete(at, n) => {
            let a = boundary(&t, at);
            let b = boundary(&t, (a + n).min(t.len()));
            t.replace_range(a..b.max(a), "");
        }
        Edit::Insert(at, tok) => t.insert_str(boundary(&t, at), tok),
        Edit::Replace(at, n, tok) => {
            let a = boundary(&t, at);
            let b = boundary(&t, (a + n).min(t.len()));
            t.replace_range(a..b.max(a), tok);
        }
        Edit::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let n = lines.len();
                lines.swap(a % n, b % n);
            }
            t = lines.concat();
        }
        Edit::DuplicateLine(a) => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if !lines.is_empty() {
                let line = lines[a % lines.len()];
                lines.insert(a % lines.len(), line);
            }
            t = lines.concat();
        }
        Edit::Crlf => t = t.replace('\n', "\r\n"),
        Edit::Tabs => t = t.replace(' ', "\t"),
        Edit::CommentEveryLine => t = t.replace('\n', " # c \"#\n"),
        Edit::Squeeze => {
            for (from, to) in [
                (" {", "{"),
                ("{ ", "{"),
                (" }", "}"),
                (" ->", "->"),
                ("-> ", "->"),
            ] {
                t = t.replace(from, to);
            }
        }
    }
    t
}

/// The seeds of the mutations: the texts of the corpus that parse, and the one above.
fn seeds() -> &'static [String] {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds: Vec<String> = corpus()
            .iter()
            .filter(|(_, text)| {
                parse_with_pest(&Source::new("seed", text.as_str()))
                    .1
                    .is_empty()
            })
            .map(|(_, text)| text.clone())
            .collect();
        seeds.push(EVERY_CONSTRUCT.to_string());
        seeds
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn mutated_policies_read_the_same_both_ways(
        seed in any::<usize>(),
        edits in prop::collection::vec(edit(), 1..5),
    ) {
        let seeds = seeds();
        let mut text = seeds[seed % seeds.len()].clone();
        for e in &edits {
            text = apply(&text, e);
        }
        if let Err(e) = agree("mutated.policy", &text) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// Random choices, read one at a time (zeros once they run out).
struct Choices<'a>(&'a [u32]);

impl Choices<'_> {
    fn below(&mut self, n: usize) -> usize {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first as usize % n.max(1)
    }

    fn pick(&mut self, from: &[&'static str]) -> &'static str {
        from[self.below(from.len())]
    }
}

/// A policy written from the grammar with random names, fields, paths and layout, where one slot
/// (the `tricky`th word or separator, if there are that many) is filled with something almost
/// right: a reserved word where a name goes, a field without a key, a path that does not close,
/// no space at all. One defect per text: with more, the first would hide the others.
struct Writer<'a> {
    c: Choices<'a>,
    tricky: usize,
    out: String,
}

impl Writer<'_> {
    /// Whether the next word or separator is the tricky one.
    fn tricky(&mut self) -> bool {
        self.tricky = self.tricky.wrapping_sub(1);
        self.tricky == 0
    }

    /// One slot: from `good`, or from `bad` when it is the tricky one.
    fn slot(&mut self, good: &[&'static str], bad: &[&'static str]) {
        let tricky = self.tricky();
        let word = self.c.pick(if tricky { bad } else { good });
        self.out.push_str(word);
        let sep = if self.tricky() {
            self.c.pick(&["", "\u{b}", "\u{feff}", "#", "é"])
        } else {
            self.c.pick(&[
                " ",
                " ",
                " ",
                "\n  ",
                "\t",
                "\r\n",
                "  # note \"#\"\n",
                "\n\n",
            ])
        };
        self.out.push_str(sep);
    }

    fn word(&mut self, w: &'static str) {
        self.slot(&[w], TOKENS);
    }

    fn name(&mut self) {
        self.slot(NAMES, &TOKENS[..NOT_NAMES]);
    }

    fn string(&mut self) {
        self.slot(STRINGS, &["\"\\x\"", "\"a", "\"\n\"", "a"]);
    }

    fn field(&mut self) {
        self.slot(
            FIELDS,
            &[
                "body", "body.", "bodyx.a", "path.a.", ".a", "query..a", "id",
            ],
        );
    }

    fn path(&mut self) {
        self.slot(PATHS, &["a", "/a{b}", "/{x", "/{1}", "/{x}y", "/a b", "/é"]);
    }

    fn methods(&mut self) {
        self.slot(
            &["GET", "POST|PUT", "GET | POST", "PATCH|DELETE|HEAD|OPTIONS"],
            &["get", "GET|", "GETX", "|GET", "GET||PUT"],
        );
    }

    fn repeat(&mut self, most: usize, mut f: impl FnMut(&mut Self)) {
        for _ in 0..self.c.below(most + 1) {
            f(self);
        }
    }

    fn list(&mut self, f: impl Fn(&mut Self)) {
        f(self);
        self.repeat(2, |w| {
            w.word(",");
            f(w);
        });
    }

    fn sources(&mut self) {
        self.list(|w| {
            w.slot(
                &["working_org", "default_org", "single_org", "unlabeled"],
                TOKENS,
            )
        });
    }

    fn target(&mut self) {
        self.slot(&["query", "create", "read", "update", "delete"], TOKENS);
        match self.c.below(4) {
            0 => {}
            1 => {
                self.word("type");
                self.field();
            }
            _ => self.name(),
        }
        self.repeat(2, |w| {
            w.slot(&["id", "objects"], TOKENS);
            w.field();
        });
    }

    fn block(&mut self, most: usize, f: impl FnMut(&mut Self)) {
        self.word("{");
        self.repeat(most, f);
        self.word("}");
    }

    fn item(&mut self) {
        match self.c.below(9) {
            0 => {
                self.word("multi_org");
                self.block(3, |w| match w.c.below(3) {
                    0 => {
                        w.word("default");
                        w.slot(&["enabled", "disabled"], TOKENS);
                    }
                    1 => {
                        w.word("when_disabled");
                        w.slot(&["reject", "ignore"], TOKENS);
                    }
                    _ => {
                        w.word("lookalike_headers");
                        w.slot(&["reject", "ignore"], TOKENS);
                    }
                });
            }
            1 => {
                self.word("orgs");
                self.block(4, |w| {
                    if w.c.below(4) == 0 {
                        w.word("descendant_access");
                        w.slot(&["on", "off"], TOKENS);
                        return;
                    }
                    w.word("org");
                    w.name();
                    w.repeat(2, |w| {
                        if w.c.below(2) == 0 {
                            w.word("id");
                            w.string();
                        } else {
                            w.word("parent");
                            w.name();
                        }
                    });
                });
            }
            2 => {
                self.word("header");
                self.slot(
                    &["Zuora-Org-Ids", "X_1", "\"Organization-ID\"", "a"],
                    TOKENS,
                );
                self.block(4, |w| match w.c.below(6) {
                    0 => {
                        w.word("role");
                        w.slot(&["visibility", "working_org", "org_id"], TOKENS);
                    }
                    1 => w.slot(&["list", "single"], TOKENS),
                    2 => {
                        w.slot(&["subset_of", "member_of"], TOKENS);
                        w.word("user.orgs");
                    }
                    _ => {
                        w.slot(&["max_items", "max_length"], TOKENS);
                        w.slot(
                            &["0", "42", "123456789012345678"],
                            &["1234567890123456789", "1a", "-1"],
                        );
                    }
                });
            }
            3 | 4 => {
                self.word("object");
                self.name();
                if self.c.below(3) > 0 {
                    self.block(3, |w| match w.c.below(5) {
                        0 => {
                            w.word("label");
                            w.field();
                        }
                        1 => {
                            w.word("inherit");
                            w.name();
                            w.word("via");
                            w.field();
                            if w.c.below(2) == 0 {
                                w.word("optional");
                            }
                        }
                        2 => w.word("shared"),
                        3 => {
                            w.word("fallback");
                            w.sources();
                        }
                        _ => {
                            w.word("alias");
                            w.list(|w| w.string());
                        }
                    });
                }
            }
            5 => {
                self.word("fallback");
                self.sources();
            }
            6 | 7 => {
                if self.c.below(4) == 0 {
                    self.word("default");
                } else {
                    self.word("route");
                    self.methods();
                    self.path();
                }
                self.word("->");
                self.target();
            }
            _ => {
                if self.c.below(2) == 0 {
                    self.word("legacy");
                }
                self.word("service");
                self.name();
                self.block(2, |w| {
                    w.word("endpoint");
                    w.methods();
                    w.path();
                    if w.c.below(2) == 0 {
                        w.block(2, |w| match w.c.below(3) {
                            0 => {
                                w.word("org_id");
                                w.slot(&["path", "query", "body", "header"], TOKENS);
                                w.slot(&["orgId", "Organization-ID", "\"Org Id\""], TOKENS);
                            }
                            1 => w.word("unscoped"),
                            _ => {
                                w.word("justification");
                                w.string();
                            }
                        });
                    }
                });
            }
        }
    }
}

/// Names: plain identifiers, strings where a string may stand, and words that are keywords
/// somewhere but not reserved (valid names).
const NAMES: &[&str] = &[
    "account",
    "a",
    "_x",
    "t9",
    "id",
    "type",
    "objects",
    "label",
    "query",
    "via",
    "optional",
    "user",
    "on",
    "\"Asia Pacific\"",
    "\"\"",
];
/// How many of [`TOKENS`] are no name.
const NOT_NAMES: usize = 15;

const STRINGS: &[&str] = &[
    "\"r-1\"",
    "\"\"",
    "\"a\\\"b\\\\\"",
    "\"\\n\\t\"",
    "\"日本 é\"",
    "\"#\"",
];
const FIELDS: &[&str] = &[
    "body.a",
    "path.x-y",
    "query.q.r",
    "body.a_b.c-d.9",
    "body.-",
];
const PATHS: &[&str] = &[
    "/",
    "/a",
    "//",
    "/a/",
    "/{x}",
    "/v1/{accountId}/x-y",
    "/a-",
    "/c.d:e~f%20@!$&'()*+,;=",
    "/{_p}/q",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn generated_policies_read_the_same_both_ways(
        tricky in 0..200usize,
        choices in prop::collection::vec(any::<u32>(), 0..400),
    ) {
        let mut w = Writer { c: Choices(&choices), tricky, out: String::new() };
        while !w.c.0.is_empty() {
            w.item();
        }
        if let Err(e) = agree("generated.policy", &w.out) {
            prop_assert!(false, "{}", e);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Any text of the grammar's characters (and a few others): both parsers agree, nothing
    /// panics.
    #[test]
    fn arbitrary_texts_read_the_same_both_ways(text in "[a-z_{}/.>|,\"#\\\\ \t\r\n0-9A-Zé\u{0}-]{0,200}") {
        if let Err(e) = agree("arbitrary.policy", &text) {
            prop_assert!(false, "{}", e);
        }
    }
}
