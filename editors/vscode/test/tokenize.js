#!/usr/bin/env node
// Tokenizes orgscope policies with the TextMate grammar through the engine VS Code uses
// (vscode-textmate + vscode-oniguruma) and checks the scopes against an independent reading of
// the same text that follows crates/orgscope/src/syntax/orgscope.pest.
//
// Files: policies/*.policy, tests/cases/**/*.policy (and the `.formatted` outputs of `fmt`
// fixtures) and the ```orgscope blocks of docs/*.md.
// For each: no `invalid` scope (except in fixtures that are syntax errors on purpose); every
// comment is a comment; every string is a string (a `#` inside is not a comment); every keyword
// is a keyword; names after declaration keywords are entity names; paths, parameters, fields
// and numbers get their scopes. Then exact token lists for snippets, the Markdown injection, and
// checks that the grammar's keyword lists match the pest grammar.
//
// Usage (from editors/vscode): node test/tokenize.js [-v]. Exits 1 if anything fails; the last
// line is `N passed, N failed`.
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const EXT = path.resolve(__dirname, '..');
const ROOT = path.resolve(EXT, '..', '..');
const GRAMMAR = path.join(EXT, 'syntaxes', 'orgscope.tmLanguage.json');
const MD_GRAMMAR = path.join(EXT, 'syntaxes', 'orgscope.markdown.tmLanguage.json');
const PEST = path.join(ROOT, 'crates', 'orgscope', 'src', 'syntax', 'orgscope.pest');
const VERBOSE = process.argv.includes('-v');

// ------------------------------------------------------------------------------------ harness

const results = { passed: 0, failed: 0 };

/** Runs one named test: `body(fail)` calls `fail(message)` for each problem it finds. */
function test(name, body) {
  const problems = [];
  try {
    body((msg) => problems.push(msg));
  } catch (e) {
    problems.push(`threw: ${e && e.stack ? e.stack : e}`);
  }
  if (problems.length === 0) {
    results.passed++;
    if (VERBOSE) console.log(`ok   ${name}`);
  } else {
    results.failed++;
    console.log(`FAIL ${name}`);
    const shown = problems.slice(0, 20);
    for (const p of shown) console.log(`     ${p}`);
    if (problems.length > shown.length) console.log(`     ... and ${problems.length - shown.length} more`);
  }
}

// ------------------------------------------------------------------------------------ the pest grammar

const pest = fs.readFileSync(PEST, 'utf8');

/** Every `kw_x = @{ "word" ~ !ident_char }` of the pest grammar: word -> rule name. */
const PEST_KEYWORDS = new Map();
for (const m of pest.matchAll(/^(kw_\w+)\s*=\s*@\{\s*"([^"]+)"/gm)) PEST_KEYWORDS.set(m[2], m[1]);

function pestAlternatives(rule) {
  const m = pest.match(new RegExp(`^${rule}\\s*=\\s*_?[@$]?\\{([^\\n]*)\\}`, 'm'));
  if (!m) throw new Error(`rule \`${rule}\` not found in ${PEST}`);
  return [...m[1].matchAll(/"([A-Za-z_]+)"/g)].map((x) => x[1]);
}
const RESERVED = new Set(pestAlternatives('reserved'));
const METHODS = new Set(pestAlternatives('method'));
const FIELD_ROOTS = pestAlternatives('field_root');

// ------------------------------------------------------------------------------------ the TextMate engine

async function loadRegistry() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const onigLib = Promise.resolve({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  });
  const files = {
    'source.orgscope': GRAMMAR,
    'markdown.orgscope.codeblock': MD_GRAMMAR,
  };
  return new vsctm.Registry({
    onigLib,
    loadGrammar: async (scopeName) => {
      if (scopeName === 'text.html.markdown') {
        // A stand-in for VS Code's Markdown grammar: enough to host the injection.
        return vsctm.parseRawGrammar(
          JSON.stringify({ scopeName, patterns: [] }),
          'markdown.json',
        );
      }
      const file = files[scopeName];
      return file ? vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file) : null;
    },
    getInjections: (scopeName) =>
      scopeName === 'text.html.markdown' ? ['markdown.orgscope.codeblock'] : undefined,
  });
}

/** Tokens of `text`, line by line: `{start, end, text, scopes}` with columns in the line. */
function tokenize(grammar, text) {
  let stack = vsctm.INITIAL;
  return splitLines(text).map((line) => {
    const r = grammar.tokenizeLine(line, stack);
    stack = r.ruleStack;
    return r.tokens
      .map((t) => {
        const end = Math.min(t.endIndex, line.length);
        return { start: t.startIndex, end, text: line.slice(t.startIndex, end), scopes: t.scopes };
      })
      .filter((t) => t.end > t.start);
  });
}

function splitLines(text) {
  return text.replace(/\r\n?/g, '\n').split('\n');
}

/** The scopes of the character at `col` of a line's tokens. */
function scopesAt(lineTokens, col) {
  const t = lineTokens.find((tok) => tok.start <= col && col < tok.end);
  return t ? t.scopes : [];
}

// ------------------------------------------------------------------------------------ the reference reading

// What the pest grammar says each piece of text is, found without the TextMate grammar. Lexemes
// carry `line`/`col` (0-based) and `len`; none spans lines.

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BARE_HEADER_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const PCHAR = "A-Za-z0-9\\-_.:~%@!$&'()*+,;=";
const PATH_RE = new RegExp(
  `/(?:\\{[A-Za-z_][A-Za-z0-9_]*\\}|(?:(?!->)[${PCHAR}])+)?` +
    `(?:/(?:\\{[A-Za-z_][A-Za-z0-9_]*\\}|(?:(?!->)[${PCHAR}])+)?)*`,
  'y',
);
const FIELD_RE = new RegExp(`(${FIELD_ROOTS.join('|')})((?:\\.[A-Za-z0-9_-]+)+)`, 'y');

function lex(text) {
  const lines = splitLines(text);
  const out = [];
  lines.forEach((line, ln) => {
    let i = 0;
    const push = (kind, start, end, extra = {}) =>
      out.push({ kind, line: ln, col: start, len: end - start, text: line.slice(start, end), ...extra });
    const sticky = (re) => {
      re.lastIndex = i;
      return re.exec(line);
    };
    while (i < line.length) {
      const c = line[i];
      let m;
      if (c === ' ' || c === '\t') {
        i++;
      } else if (c === '#') {
        push('comment', i, line.length);
        i = line.length;
      } else if (c === '"') {
        let j = i + 1;
        const escapes = [];
        while (j < line.length && line[j] !== '"') {
          if (line[j] === '\\' && j + 1 < line.length) {
            escapes.push({ col: j, valid: '"\\nt'.includes(line[j + 1]) });
            j += 2;
          } else j++;
        }
        const closed = j < line.length;
        push('string', i, closed ? j + 1 : j, { closed, escapes });
        i = closed ? j + 1 : j;
      } else if (c === '/' && (m = sticky(PATH_RE))) {
        const params = [...m[0].matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((p) => ({
          col: i + p.index + 1,
          len: p[1].length,
        }));
        push('path', i, i + m[0].length, { params });
        i += m[0].length;
      } else if (line.startsWith('->', i)) {
        push('arrow', i, i + 2);
        i += 2;
      } else if ((m = sticky(FIELD_RE))) {
        const keys = [];
        let k = i + m[1].length;
        for (const key of m[2].split('.').slice(1)) {
          keys.push({ col: k + 1, len: key.length });
          k += key.length + 1;
        }
        push('field', i, i + m[0].length, { root: m[1], keys });
        i += m[0].length;
      } else if ((m = sticky(/user\.orgs(?![A-Za-z0-9_])/y))) {
        push('user_orgs', i, i + m[0].length);
        i += m[0].length;
      } else if ((m = sticky(/[A-Za-z_][A-Za-z0-9_]*(?:-(?!>)[A-Za-z0-9_]*)*/y))) {
        push('word', i, i + m[0].length);
        i += m[0].length;
      } else if ((m = sticky(/[0-9]+/y))) {
        push('number', i, i + m[0].length);
        i += m[0].length;
      } else {
        push('punct', i, i + 1);
        i++;
      }
    }
  });
  return out;
}

/** What pest's grammar makes of each word: a keyword, a method, or a name (and which kind). */
function classify(lexemes) {
  const sig = lexemes.filter((l) => l.kind !== 'comment');
  const NAME_AFTER = {
    object: 'type',
    inherit: 'type',
    org: 'org',
    parent: 'org',
    service: 'service',
    header: 'header',
  };
  const LOCATION_NAME = { path: 'path_param', query: 'member', body: 'member', header: 'header' };
  const ACTIONS = new Set(['query', 'create', 'read', 'update', 'delete']);
  sig.forEach((l, k) => {
    if (l.kind !== 'word') return;
    const prev = sig[k - 1];
    const prev2 = sig[k - 2];
    const next = sig[k + 1];
    const prevWord = prev && prev.kind === 'word' && prev.role === 'keyword' ? prev.text : null;
    const isIdent = IDENT_RE.test(l.text) && !RESERVED.has(l.text);
    let name = null;
    if (prevWord && prev2 && prev2.text === 'org_id' && LOCATION_NAME[prevWord]) {
      if (BARE_HEADER_RE.test(l.text)) name = LOCATION_NAME[prevWord];
    } else if (prevWord === 'header') {
      if (BARE_HEADER_RE.test(l.text)) name = 'header';
    } else if (prevWord && NAME_AFTER[prevWord]) {
      if (isIdent) name = NAME_AFTER[prevWord];
    } else if (prevWord && ACTIONS.has(prevWord) && prev2 && prev2.kind === 'arrow') {
      const option = ['type', 'id', 'objects'].includes(l.text) && next && next.kind === 'field';
      if (isIdent && !option) name = 'type';
    }
    if (name) {
      l.role = 'name';
      l.nameKind = name;
    } else if (PEST_KEYWORDS.has(l.text)) {
      l.role = 'keyword';
    } else if (METHODS.has(l.text)) {
      l.role = 'method';
    } else {
      l.role = 'other';
    }
  });
  return lexemes;
}

// ------------------------------------------------------------------------------------ checks of one file

const NAME_SCOPES = {
  type: 'entity.name.type.object.orgscope',
  org: 'entity.name.namespace.org.orgscope',
  service: 'entity.name.namespace.service.orgscope',
  header: 'entity.name.tag.header.orgscope',
  path_param: 'variable.parameter.path.orgscope',
  member: 'variable.other.member.orgscope',
};
const KEYWORD_SCOPE_RE = /^(keyword|storage\.type|storage\.modifier|constant\.language)\./;

function checkFile(grammar, label, text, { expectValid }) {
  const tokens = tokenize(grammar, text);
  const lexemes = classify(lex(text));
  const lines = splitLines(text);
  const where = (l, col = l.col) => `${label}:${l.line + 1}:${col + 1}`;
  const show = (scopes) => scopes.filter((s) => s !== 'source.orgscope').join(' ') || '(none)';

  /** Every character of `[col, col+len)` on `l.line` satisfies `pred(scopes)`. */
  const every = (l, col, len, pred, what, fail) => {
    for (let c = col; c < col + len; c++) {
      const scopes = scopesAt(tokens[l.line], c);
      if (!pred(scopes)) {
        const text = lines[l.line].slice(col, col + len);
        fail(`${where(l, c)}: \`${text}\` should be ${what}, but \`${lines[l.line][c]}\` has: ${show(scopes)}`);
        return;
      }
    }
  };
  const has = (scope) => (scopes) => scopes.includes(scope);
  const count = (kind, role) => lexemes.filter((l) => l.kind === kind && (!role || l.role === role)).length;

  if (expectValid) {
    test(`${label}: no invalid scopes`, (fail) => {
      tokens.forEach((line, ln) => {
        for (const t of line) {
          const bad = t.scopes.find((s) => s.startsWith('invalid'));
          if (bad) fail(`${label}:${ln + 1}:${t.start + 1}: \`${t.text}\` is ${bad}`);
        }
      });
    });
  }

  test(`${label}: ${count('comment')} comments are comments`, (fail) => {
    for (const l of lexemes.filter((x) => x.kind === 'comment')) {
      every(l, l.col, 1, has('punctuation.definition.comment.orgscope'), 'the comment mark', fail);
      every(l, l.col, l.len, has('comment.line.number-sign.orgscope'), 'a comment', fail);
    }
  });

  test(`${label}: ${count('string')} strings are strings`, (fail) => {
    for (const l of lexemes.filter((x) => x.kind === 'string')) {
      if (!l.closed && expectValid) fail(`${where(l)}: the reference lexer found an unclosed string`);
      const isString = (s) => s.includes('string.quoted.double.orgscope') && !s.some((x) => x.startsWith('comment'));
      every(l, l.col, l.len, isString, 'a string (and not a comment)', fail);
      for (const e of l.escapes) {
        const scope = e.valid ? 'constant.character.escape.orgscope' : 'invalid.illegal.unrecognized-escape.orgscope';
        every(l, e.col, 2, has(scope), scope, fail);
      }
    }
  });

  test(`${label}: ${count('word', 'keyword')} keywords are keywords`, (fail) => {
    for (const l of lexemes.filter((x) => x.kind === 'word' && x.role === 'keyword')) {
      every(l, l.col, l.len, (s) => s.some((x) => KEYWORD_SCOPE_RE.test(x)) && !s.some((x) => x.startsWith('entity')), 'a keyword', fail);
    }
    for (const l of lexemes.filter((x) => x.kind === 'word' && x.role === 'method')) {
      every(l, l.col, l.len, has('constant.language.http-method.orgscope'), 'an HTTP method', fail);
    }
  });

  test(`${label}: ${count('word', 'name')} declared and referenced names are names`, (fail) => {
    for (const l of lexemes.filter((x) => x.kind === 'word' && x.role === 'name')) {
      const scope = NAME_SCOPES[l.nameKind];
      every(l, l.col, l.len, has(scope), scope, fail);
    }
  });

  test(`${label}: ${count('path')} paths, their parameters, ${count('field')} fields, numbers, arrows`, (fail) => {
    for (const l of lexemes) {
      if (l.kind === 'path') {
        every(l, l.col, l.len, has('string.unquoted.path.orgscope'), 'a path', fail);
        for (const p of l.params) every(l, p.col, p.len, has('variable.parameter.path.orgscope'), 'a path parameter', fail);
      } else if (l.kind === 'field') {
        every(l, l.col, l.root.length, has('variable.language.field-root.orgscope'), 'a field root', fail);
        for (const k of l.keys) every(l, k.col, k.len, has('variable.other.member.orgscope'), 'a field key', fail);
      } else if (l.kind === 'user_orgs') {
        every(l, l.col, l.len, has('variable.language.user-orgs.orgscope'), '`user.orgs`', fail);
      } else if (l.kind === 'number' && l.len <= 18) {
        every(l, l.col, l.len, has('constant.numeric.integer.decimal.orgscope'), 'a number', fail);
      } else if (l.kind === 'arrow') {
        every(l, l.col, l.len, has('keyword.operator.arrow.orgscope'), 'the arrow', fail);
      }
    }
  });

  return lexemes;
}

// ------------------------------------------------------------------------------------ inputs

function listPolicies() {
  const files = [];
  const policiesDir = path.join(ROOT, 'policies');
  for (const f of fs.readdirSync(policiesDir).sort()) {
    if (f.endsWith('.policy')) files.push({ file: path.join(policiesDir, f), fixture: false });
  }
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      // `.formatted`: the expected output of `orgscope fmt`, a policy as well.
      else if (/\.(policy|formatted)$/.test(e.name)) files.push({ file: p, fixture: true });
    }
  };
  walk(path.join(ROOT, 'tests', 'cases'));
  return files;
}

/** A fixture is a syntax error on purpose when its expected `check` output says so. */
function isSyntaxErrorFixture(file) {
  const expected = file.replace(/\.policy$/, '.expected');
  return fs.existsSync(expected) && /error\[syntax\]/.test(fs.readFileSync(expected, 'utf8'));
}

/** The ```orgscope blocks of a Markdown file (`orgscope fragment` and `orgscope layout` too):
 * `{line (1-based, of the fence), text}`. */
function markdownBlocks(text) {
  const blocks = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(/^(\s*)(`{3,}|~{3,})\s*orgscope(\s+[\w-]+)*\s*$/);
    if (!open) continue;
    const body = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*(`{3,}|~{3,})\s*$/.test(lines[j]); j++) body.push(lines[j].slice(open[1].length));
    blocks.push({ line: i + 1, text: body.join('\n') });
    i = j;
  }
  return blocks;
}

// ------------------------------------------------------------------------------------ exact tokens

// Each snippet's tokens, whitespace left out: [text, innermost scope].
const SNIPPETS = [
  {
    src: 'route GET|POST /v1/accounts/{accountId} -> read account id path.accountId # r',
    tokens: [
      ['route', 'keyword.declaration.route.orgscope'],
      ['GET', 'constant.language.http-method.orgscope'],
      ['|', 'punctuation.separator.method.orgscope'],
      ['POST', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['v1', 'string.unquoted.path.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['accounts', 'string.unquoted.path.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['{', 'punctuation.definition.parameter.begin.orgscope'],
      ['accountId', 'variable.parameter.path.orgscope'],
      ['}', 'punctuation.definition.parameter.end.orgscope'],
      ['->', 'keyword.operator.arrow.orgscope'],
      ['read', 'keyword.other.action.orgscope'],
      ['account', 'entity.name.type.object.orgscope'],
      ['id', 'keyword.other.property.id.orgscope'],
      ['path', 'variable.language.field-root.orgscope'],
      ['.', 'punctuation.accessor.orgscope'],
      ['accountId', 'variable.other.member.orgscope'],
      ['#', 'punctuation.definition.comment.orgscope'],
      [' r', 'comment.line.number-sign.orgscope'],
    ],
  },
  {
    src: 'route POST /v1/action/create -> create type body.type objects body.objects',
    tokens: [
      ['route', 'keyword.declaration.route.orgscope'],
      ['POST', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['v1', 'string.unquoted.path.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['action', 'string.unquoted.path.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['create', 'string.unquoted.path.orgscope'],
      ['->', 'keyword.operator.arrow.orgscope'],
      ['create', 'keyword.other.action.orgscope'],
      ['type', 'keyword.other.property.type.orgscope'],
      ['body', 'variable.language.field-root.orgscope'],
      ['.', 'punctuation.accessor.orgscope'],
      ['type', 'variable.other.member.orgscope'],
      ['objects', 'keyword.other.property.objects.orgscope'],
      ['body', 'variable.language.field-root.orgscope'],
      ['.', 'punctuation.accessor.orgscope'],
      ['objects', 'variable.other.member.orgscope'],
    ],
  },
  {
    // Keywords that are not reserved can name an object type.
    src: 'object label { inherit query via body.parent_id optional }',
    tokens: [
      ['object', 'keyword.declaration.object.orgscope'],
      ['label', 'entity.name.type.object.orgscope'],
      ['{', 'punctuation.section.block.begin.orgscope'],
      ['inherit', 'keyword.other.property.inherit.orgscope'],
      ['query', 'entity.name.type.object.orgscope'],
      ['via', 'keyword.other.property.via.orgscope'],
      ['body', 'variable.language.field-root.orgscope'],
      ['.', 'punctuation.accessor.orgscope'],
      ['parent_id', 'variable.other.member.orgscope'],
      ['optional', 'storage.modifier.optional.orgscope'],
      ['}', 'punctuation.section.block.end.orgscope'],
    ],
  },
  {
    src: 'justification "see #42 \\"quoted\\" \\\\ done" # a comment',
    tokens: [
      ['justification', 'keyword.other.property.justification.orgscope'],
      ['"', 'punctuation.definition.string.begin.orgscope'],
      ['see #42 ', 'string.quoted.double.orgscope'],
      ['\\"', 'constant.character.escape.orgscope'],
      ['quoted', 'string.quoted.double.orgscope'],
      ['\\"', 'constant.character.escape.orgscope'],
      ['\\\\', 'constant.character.escape.orgscope'],
      [' done', 'string.quoted.double.orgscope'],
      ['"', 'punctuation.definition.string.end.orgscope'],
      ['#', 'punctuation.definition.comment.orgscope'],
      [' a comment', 'comment.line.number-sign.orgscope'],
    ],
  },
  {
    src: 'header Zuora-Org-Ids { role visibility list subset_of user.orgs max_items 100 }',
    tokens: [
      ['header', 'keyword.declaration.header.orgscope'],
      ['Zuora-Org-Ids', 'entity.name.tag.header.orgscope'],
      ['{', 'punctuation.section.block.begin.orgscope'],
      ['role', 'keyword.other.property.role.orgscope'],
      ['visibility', 'constant.language.role.orgscope'],
      ['list', 'storage.modifier.list.orgscope'],
      ['subset_of', 'keyword.other.property.subset-of.orgscope'],
      ['user', 'variable.language.user-orgs.orgscope'],
      ['.', 'punctuation.accessor.orgscope'],
      ['orgs', 'variable.language.user-orgs.orgscope'],
      ['max_items', 'keyword.other.property.max-items.orgscope'],
      ['100', 'constant.numeric.integer.decimal.orgscope'],
      ['}', 'punctuation.section.block.end.orgscope'],
    ],
  },
  {
    src: 'multi_org { default disabled when_disabled ignore lookalike_headers reject }',
    tokens: [
      ['multi_org', 'keyword.declaration.multi-org.orgscope'],
      ['{', 'punctuation.section.block.begin.orgscope'],
      ['default', 'keyword.other.property.default.orgscope'],
      ['disabled', 'constant.language.disabled.orgscope'],
      ['when_disabled', 'keyword.other.property.when-disabled.orgscope'],
      ['ignore', 'constant.language.ignore.orgscope'],
      ['lookalike_headers', 'keyword.other.property.lookalike-headers.orgscope'],
      ['reject', 'constant.language.reject.orgscope'],
      ['}', 'punctuation.section.block.end.orgscope'],
    ],
  },
  {
    src: 'orgs { descendant_access on org France id "7f1c" parent Emea org "North America" }',
    tokens: [
      ['orgs', 'keyword.declaration.orgs.orgscope'],
      ['{', 'punctuation.section.block.begin.orgscope'],
      ['descendant_access', 'keyword.other.property.descendant-access.orgscope'],
      ['on', 'constant.language.on.orgscope'],
      ['org', 'keyword.declaration.org.orgscope'],
      ['France', 'entity.name.namespace.org.orgscope'],
      ['id', 'keyword.other.property.id.orgscope'],
      ['"', 'punctuation.definition.string.begin.orgscope'],
      ['7f1c', 'string.quoted.double.orgscope'],
      ['"', 'punctuation.definition.string.end.orgscope'],
      ['parent', 'keyword.other.property.parent.orgscope'],
      ['Emea', 'entity.name.namespace.org.orgscope'],
      ['org', 'keyword.declaration.org.orgscope'],
      ['"', 'punctuation.definition.string.begin.orgscope'],
      ['North America', 'string.quoted.double.orgscope'],
      ['"', 'punctuation.definition.string.end.orgscope'],
      ['}', 'punctuation.section.block.end.orgscope'],
    ],
  },
  {
    src: 'legacy service billing { endpoint GET /v1/invoices { org_id header Organization-ID } }',
    tokens: [
      ['legacy', 'keyword.declaration.legacy.orgscope'],
      ['service', 'keyword.declaration.service.orgscope'],
      ['billing', 'entity.name.namespace.service.orgscope'],
      ['{', 'punctuation.section.block.begin.orgscope'],
      ['endpoint', 'keyword.declaration.endpoint.orgscope'],
      ['GET', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['v1', 'string.unquoted.path.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['invoices', 'string.unquoted.path.orgscope'],
      ['{', 'punctuation.section.block.begin.orgscope'],
      ['org_id', 'keyword.other.property.org-id.orgscope'],
      ['header', 'constant.language.location.header.orgscope'],
      ['Organization-ID', 'entity.name.tag.header.orgscope'],
      ['}', 'punctuation.section.block.end.orgscope'],
      ['}', 'punctuation.section.block.end.orgscope'],
    ],
  },
  {
    src: 'endpoint POST /v1/reports:run { org_id path organizationId unscoped }',
    tokens: [
      ['endpoint', 'keyword.declaration.endpoint.orgscope'],
      ['POST', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['v1', 'string.unquoted.path.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['reports:run', 'string.unquoted.path.orgscope'],
      ['{', 'punctuation.section.block.begin.orgscope'],
      ['org_id', 'keyword.other.property.org-id.orgscope'],
      ['path', 'constant.language.location.path.orgscope'],
      ['organizationId', 'variable.parameter.path.orgscope'],
      ['unscoped', 'storage.modifier.unscoped.orgscope'],
      ['}', 'punctuation.section.block.end.orgscope'],
    ],
  },
  {
    src: 'fallback working_org, default_org, single_org, unlabeled',
    tokens: [
      ['fallback', 'keyword.declaration.fallback.orgscope'],
      ['working_org', 'constant.language.fallback.orgscope'],
      [',', 'punctuation.separator.comma.orgscope'],
      ['default_org', 'constant.language.fallback.orgscope'],
      [',', 'punctuation.separator.comma.orgscope'],
      ['single_org', 'constant.language.fallback.orgscope'],
      [',', 'punctuation.separator.comma.orgscope'],
      ['unlabeled', 'constant.language.fallback.orgscope'],
    ],
  },
  {
    // `default -> ...` is the catch-all route; a path may run into the arrow.
    src: 'default -> query    route GET /x->delete thing id query.x',
    tokens: [
      ['default', 'keyword.declaration.default.orgscope'],
      ['->', 'keyword.operator.arrow.orgscope'],
      ['query', 'keyword.other.action.orgscope'],
      ['route', 'keyword.declaration.route.orgscope'],
      ['GET', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['x', 'string.unquoted.path.orgscope'],
      ['->', 'keyword.operator.arrow.orgscope'],
      ['delete', 'keyword.other.action.orgscope'],
      ['thing', 'entity.name.type.object.orgscope'],
      ['id', 'keyword.other.property.id.orgscope'],
      ['query', 'variable.language.field-root.orgscope'],
      ['.', 'punctuation.accessor.orgscope'],
      ['x', 'variable.other.member.orgscope'],
    ],
  },
  {
    // A `#` ends a path: the rest is a comment.
    src: 'route GET /a#b -> query',
    tokens: [
      ['route', 'keyword.declaration.route.orgscope'],
      ['GET', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['a', 'string.unquoted.path.orgscope'],
      ['#', 'punctuation.definition.comment.orgscope'],
      ['b -> query', 'comment.line.number-sign.orgscope'],
    ],
  },
  {
    // What is wrong is marked: an unknown escape, an unclosed string, a number over 18 digits.
    src: 'org X id "a\\qb" max_length 1234567890123456789 alias "open',
    tokens: [
      ['org', 'keyword.declaration.org.orgscope'],
      ['X', 'entity.name.namespace.org.orgscope'],
      ['id', 'keyword.other.property.id.orgscope'],
      ['"', 'punctuation.definition.string.begin.orgscope'],
      ['a', 'string.quoted.double.orgscope'],
      ['\\q', 'invalid.illegal.unrecognized-escape.orgscope'],
      ['b', 'string.quoted.double.orgscope'],
      ['"', 'punctuation.definition.string.end.orgscope'],
      ['max_length', 'keyword.other.property.max-length.orgscope'],
      ['1234567890123456789', 'invalid.illegal.number-too-large.orgscope'],
      ['alias', 'keyword.other.property.alias.orgscope'],
      ['"', 'punctuation.definition.string.begin.orgscope'],
      ['open', 'invalid.illegal.unclosed-string.orgscope'],
    ],
  },
  {
    // Names may follow their keyword on a later line, after a comment.
    src: 'object # the type:\n  invoice_item {\n  inherit\n    invoice via body.invoiceId }',
    tokens: [
      ['object', 'keyword.declaration.object.orgscope'],
      ['#', 'punctuation.definition.comment.orgscope'],
      [' the type:', 'comment.line.number-sign.orgscope'],
      ['invoice_item', 'entity.name.type.object.orgscope'],
      ['{', 'punctuation.section.block.begin.orgscope'],
      ['inherit', 'keyword.other.property.inherit.orgscope'],
      ['invoice', 'entity.name.type.object.orgscope'],
      ['via', 'keyword.other.property.via.orgscope'],
      ['body', 'variable.language.field-root.orgscope'],
      ['.', 'punctuation.accessor.orgscope'],
      ['invoiceId', 'variable.other.member.orgscope'],
      ['}', 'punctuation.section.block.end.orgscope'],
    ],
  },
  {
    // Keywords are whole words; identifiers that contain them are not keywords.
    src: 'object orgs_v2\nobject listing\nroute GET /x -> query org_units',
    tokens: [
      ['object', 'keyword.declaration.object.orgscope'],
      ['orgs_v2', 'entity.name.type.object.orgscope'],
      ['object', 'keyword.declaration.object.orgscope'],
      ['listing', 'entity.name.type.object.orgscope'],
      ['route', 'keyword.declaration.route.orgscope'],
      ['GET', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['x', 'string.unquoted.path.orgscope'],
      ['->', 'keyword.operator.arrow.orgscope'],
      ['query', 'keyword.other.action.orgscope'],
      ['org_units', 'entity.name.type.object.orgscope'],
    ],
  },
  {
    // Without an object type, `id FIELD` is the option, not a type named `id`.
    src: 'route DELETE /x/{xId} -> delete id path.xId',
    tokens: [
      ['route', 'keyword.declaration.route.orgscope'],
      ['DELETE', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['x', 'string.unquoted.path.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['{', 'punctuation.definition.parameter.begin.orgscope'],
      ['xId', 'variable.parameter.path.orgscope'],
      ['}', 'punctuation.definition.parameter.end.orgscope'],
      ['->', 'keyword.operator.arrow.orgscope'],
      ['delete', 'keyword.other.action.orgscope'],
      ['id', 'keyword.other.property.id.orgscope'],
      ['path', 'variable.language.field-root.orgscope'],
      ['.', 'punctuation.accessor.orgscope'],
      ['xId', 'variable.other.member.orgscope'],
    ],
  },
  {
    // Every character a path literal may hold; `{p}` is a parameter only as a whole segment.
    src: "route GET /v1/a.b~c:d@e!f$g&h'i(j)k*l+m,n;o=p%20-_/{p} -> query",
    tokens: [
      ['route', 'keyword.declaration.route.orgscope'],
      ['GET', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['v1', 'string.unquoted.path.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ["a.b~c:d@e!f$g&h'i(j)k*l+m,n;o=p%20-_", 'string.unquoted.path.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['{', 'punctuation.definition.parameter.begin.orgscope'],
      ['p', 'variable.parameter.path.orgscope'],
      ['}', 'punctuation.definition.parameter.end.orgscope'],
      ['->', 'keyword.operator.arrow.orgscope'],
      ['query', 'keyword.other.action.orgscope'],
    ],
  },
  {
    // A dashed word is a header name wherever it is; the keywords inside it are not keywords.
    src: 'max_items list-of-orgs single',
    tokens: [
      ['max_items', 'keyword.other.property.max-items.orgscope'],
      ['list-of-orgs', 'entity.name.tag.header.orgscope'],
      ['single', 'storage.modifier.single.orgscope'],
    ],
  },
  {
    // A route's object type and an org ID's name may be on the next line too.
    src: 'route POST /a ->\n  create # what\n  account\nendpoint GET /b { org_id\n  path\n  organizationId }',
    tokens: [
      ['route', 'keyword.declaration.route.orgscope'],
      ['POST', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['a', 'string.unquoted.path.orgscope'],
      ['->', 'keyword.operator.arrow.orgscope'],
      ['create', 'keyword.other.action.orgscope'],
      ['#', 'punctuation.definition.comment.orgscope'],
      [' what', 'comment.line.number-sign.orgscope'],
      ['account', 'entity.name.type.object.orgscope'],
      ['endpoint', 'keyword.declaration.endpoint.orgscope'],
      ['GET', 'constant.language.http-method.orgscope'],
      ['/', 'punctuation.separator.path.orgscope'],
      ['b', 'string.unquoted.path.orgscope'],
      ['{', 'punctuation.section.block.begin.orgscope'],
      ['org_id', 'keyword.other.property.org-id.orgscope'],
      ['path', 'constant.language.location.path.orgscope'],
      ['organizationId', 'variable.parameter.path.orgscope'],
      ['}', 'punctuation.section.block.end.orgscope'],
    ],
  },
];

function checkSnippets(grammar) {
  for (const { src, tokens: expected } of SNIPPETS) {
    test(`snippet: ${src.split('\n')[0]}`, (fail) => {
      const actual = tokenize(grammar, src)
        .flat()
        .filter((t) => t.text.trim() !== '')
        .map((t) => [t.text, t.scopes[t.scopes.length - 1]]);
      const n = Math.max(actual.length, expected.length);
      for (let i = 0; i < n; i++) {
        const a = actual[i];
        const e = expected[i];
        if (!a || !e || a[0] !== e[0] || a[1] !== e[1]) {
          fail(`token ${i}: expected ${e ? `\`${e[0]}\` ${e[1]}` : 'nothing'}, got ${a ? `\`${a[0]}\` ${a[1]}` : 'nothing'}`);
          break;
        }
      }
    });
  }
}

// ------------------------------------------------------------------------------------ the grammar itself

function checkGrammarFiles(grammar) {
  const raw = JSON.parse(fs.readFileSync(GRAMMAR, 'utf8'));

  test('grammar: every regular expression compiles with Oniguruma', (fail) => {
    const walk = (node, where) => {
      if (Array.isArray(node)) return node.forEach((x, i) => walk(x, `${where}[${i}]`));
      if (!node || typeof node !== 'object') return;
      for (const key of ['match', 'begin', 'end', 'while']) {
        if (typeof node[key] !== 'string') continue;
        try {
          new oniguruma.OnigScanner([node[key]]).dispose();
        } catch (e) {
          fail(`${where}.${key}: ${e.message}`);
        }
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${where}.${k}`);
    };
    walk(raw, 'grammar');
  });

  test('grammar: every `#include` names a repository rule, and every rule is used', (fail) => {
    const used = new Set();
    const walk = (node) => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== 'object') return;
      if (typeof node.include === 'string' && node.include.startsWith('#')) {
        const name = node.include.slice(1);
        used.add(name);
        if (!raw.repository[name]) fail(`#${name} is not in the repository`);
      }
      Object.values(node).forEach(walk);
    };
    walk(raw);
    for (const name of Object.keys(raw.repository)) if (!used.has(name)) fail(`repository rule \`${name}\` is never included`);
  });

  test('grammar: each pest keyword, alone, is scoped as a keyword', (fail) => {
    if (PEST_KEYWORDS.size < 40) fail(`only ${PEST_KEYWORDS.size} keywords read from ${PEST}`);
    for (const [word, rule] of PEST_KEYWORDS) {
      const line = tokenize(grammar, word)[0];
      const scopes = scopesAt(line, 0);
      const isKeyword = word === 'user.orgs' ? scopes.includes('variable.language.user-orgs.orgscope') : scopes.some((s) => KEYWORD_SCOPE_RE.test(s));
      if (!isKeyword || (line.length !== 1 && word !== 'user.orgs')) fail(`\`${word}\` (${rule}): ${line.map((t) => `\`${t.text}\` ${t.scopes.join(' ')}`).join(', ')}`);
    }
    for (const method of METHODS) {
      const scopes = scopesAt(tokenize(grammar, method)[0], 0);
      if (!scopes.includes('constant.language.http-method.orgscope')) fail(`method \`${method}\`: ${scopes.join(' ')}`);
    }
  });

  test('grammar: its reserved words and methods are the pest grammar\'s', (fail) => {
    const text = JSON.stringify(raw);
    const lists = [...text.matchAll(/\(\?:((?:[a-z_]+\|)+[a-z_]+)\)\(\?!\[A-Za-z0-9_\]\)/g)].map((m) => m[1].split('|'));
    const reserved = lists.find((l) => l.includes('multi_org') && l.includes('endpoint'));
    if (!reserved) fail('no reserved-word list in the grammar');
    else if ([...reserved].sort().join() !== [...RESERVED].sort().join()) fail(`grammar reserves ${reserved.join(' ')}; pest: ${[...RESERVED].join(' ')}`);
    for (const method of METHODS) if (!text.includes(`|${method}|`) && !text.includes(`(${method}|`) && !text.includes(`|${method})`)) fail(`method ${method} missing`);
  });

  test('extension: package.json and language configuration agree with the grammar', (fail) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(EXT, 'package.json'), 'utf8'));
    const lang = (pkg.contributes.languages || []).find((l) => l.id === 'orgscope');
    if (!lang) return fail('no language `orgscope`');
    if (!(lang.extensions || []).includes('.policy')) fail('`.policy` is not an extension of the language');
    const g = (pkg.contributes.grammars || []).find((x) => x.language === 'orgscope');
    if (!g || g.scopeName !== raw.scopeName || path.resolve(EXT, g.path) !== GRAMMAR) fail('grammar contribution does not point at the grammar');
    const injection = (pkg.contributes.grammars || []).find((x) => x.scopeName === 'markdown.orgscope.codeblock');
    if (!injection || path.resolve(EXT, injection.path) !== MD_GRAMMAR) fail('no Markdown injection contribution');
    const conf = JSON.parse(fs.readFileSync(path.resolve(EXT, lang.configuration), 'utf8'));
    if (conf.comments.lineComment !== '#') fail('line comments are not `#`');
    if (!conf.autoClosingPairs.some((p) => p.open === '"')) fail('quotes do not auto-close');
    if (!conf.brackets.some(([o, c]) => o === '{' && c === '}')) fail('braces are not brackets');
  });
}

// ------------------------------------------------------------------------------------ Markdown

async function checkMarkdown(registry) {
  const md = await registry.loadGrammar('text.html.markdown');
  const file = path.join(ROOT, 'docs', 'language.md');
  if (!fs.existsSync(file)) return;
  test('markdown: ```orgscope blocks in docs/language.md are highlighted, and only they', (fail) => {
    const text = fs.readFileSync(file, 'utf8');
    const lines = splitLines(text);
    const tokens = tokenize(md, text);
    let inBlock = false;
    let fence = null;
    let embeddedLines = 0;
    lines.forEach((line, ln) => {
      const embedded = tokens[ln].some((t) => t.scopes.includes('meta.embedded.block.orgscope'));
      if (!inBlock && /^\s*```orgscope(\s+[\w-]+)*\s*$/.test(line)) {
        inBlock = true;
        fence = line.match(/^\s*/)[0];
        return;
      }
      if (inBlock && new RegExp(`^${fence}\`\`\`\\s*$`).test(line)) {
        inBlock = false;
        return;
      }
      if (inBlock && line.trim() !== '' && !embedded) fail(`docs/language.md:${ln + 1}: not highlighted as orgscope: ${line}`);
      if (!inBlock && embedded) fail(`docs/language.md:${ln + 1}: highlighted as orgscope outside a block: ${line}`);
      if (inBlock && embedded) embeddedLines++;
      if (inBlock && line.trim().startsWith('#') && !tokens[ln].some((t) => t.scopes.includes('comment.line.number-sign.orgscope'))) {
        fail(`docs/language.md:${ln + 1}: comment not scoped`);
      }
    });
    if (embeddedLines === 0) fail('no orgscope block found');
  });
}

// ------------------------------------------------------------------------------------ main

async function main() {
  const registry = await loadRegistry();
  const grammar = await registry.loadGrammar('source.orgscope');
  if (!grammar) throw new Error(`cannot load ${GRAMMAR}`);

  checkGrammarFiles(grammar);

  const totals = { files: 0, lexemes: 0 };
  for (const { file, fixture } of listPolicies()) {
    const label = path.relative(ROOT, file);
    const expectValid = !fixture || !isSyntaxErrorFixture(file);
    const lexemes = checkFile(grammar, label, fs.readFileSync(file, 'utf8'), { expectValid });
    totals.files++;
    totals.lexemes += lexemes.length;
  }
  for (const doc of fs.existsSync(path.join(ROOT, 'docs')) ? fs.readdirSync(path.join(ROOT, 'docs')).sort() : []) {
    if (!doc.endsWith('.md')) continue;
    for (const block of markdownBlocks(fs.readFileSync(path.join(ROOT, 'docs', doc), 'utf8'))) {
      const lexemes = checkFile(grammar, `docs/${doc} block at line ${block.line}`, block.text, { expectValid: true });
      totals.files++;
      totals.lexemes += lexemes.length;
    }
  }
  console.log(`tokenized ${totals.files} policies and doc blocks (${totals.lexemes} tokens checked)`);

  checkSnippets(grammar);
  await checkMarkdown(registry);

  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exitCode = results.failed === 0 ? 0 : 1;
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  console.log(`${results.passed} passed, ${results.failed + 1} failed`);
  process.exitCode = 1;
});
