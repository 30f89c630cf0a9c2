#!/usr/bin/env python3
"""Builds the fuzz inputs from the repository's own policies and requests.

    python3 fuzz/scripts/corpus.py seeds    # rewrite fuzz/seeds/<target>/ (committed, small)
    python3 fuzz/scripts/corpus.py corpus   # fill fuzz/corpus/<target>/ (gitignored, everything)
    python3 fuzz/scripts/corpus.py dict     # rewrite fuzz/dict/*.dict

Sources: policies/*.policy, tests/cases/**/*.policy, the requests of tests/acceptance/*.ndjson
(the Zuora ones with tests/acceptance/zuora-multi-org.entities.ndjson inlined as `entities`,
since the fuzz targets evaluate with no entity lookup). Files are named by content hash, so
re-running is idempotent.
"""
import glob
import hashlib
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "fuzz")
TARGETS = ["policy_check", "request_eval", "fmt_roundtrip", "batch_stream", "big_inputs"]

# Structure for `big_inputs` (fuzz/src/big.rs): (op, count, length) triples, a few bytes that
# expand to a 10,240-org chain with descendant access, a 524 KB route, 8,192 routes beside a
# 262 KB one, and a bit of everything.
BIG_SEEDS = [
    bytes([0x80, 0xA9, 0x00]),
    bytes([0x03, 0xFF, 0x00]),
    bytes([0x02, 0xB3, 0x00, 0x03, 0xEF, 0x00]),
    bytes([0x01, 0x73, 0x21, 0x88, 0x53, 0x00, 0x04, 0x1F, 0x05, 0x05, 0x63, 0x10,
           0x06, 0x53, 0x9F, 0x12, 0x43, 0x02]),
]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def policies():
    files = sorted(glob.glob(os.path.join(ROOT, "policies", "*.policy")))
    files += sorted(glob.glob(os.path.join(ROOT, "crates", "orgscope-cli", "tests", "cases", "**", "*.policy"), recursive=True))
    return [(os.path.relpath(p, ROOT), read(p)) for p in files]


def requests():
    """(policy stem, case name, request JSON object) for every acceptance case."""
    entities = []
    ent_file = os.path.join(ROOT, "crates", "orgscope-cli", "tests", "acceptance", "zuora-multi-org.entities.ndjson")
    if os.path.exists(ent_file):
        entities = [json.loads(l) for l in read(ent_file).decode().splitlines() if l.strip()]
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "crates", "orgscope-cli", "tests", "acceptance", "*.ndjson"))):
        stem = os.path.basename(path)[: -len(".ndjson")]
        if stem.endswith(".entities"):
            continue
        for line in read(path).decode().splitlines():
            if not line.strip():
                continue
            case = json.loads(line)
            req = case.get("request")
            if not isinstance(req, dict):
                continue
            if stem.startswith("zuora") and entities and "entities" not in req:
                req = dict(req, entities=entities)
            out.append((stem, case.get("case", ""), req))
    return out


def compact(req):
    return json.dumps(req, separators=(",", ":"), ensure_ascii=False).encode()


def batches(reqs):
    """Hand-made NDJSON batches: plain lines, blank and CRLF lines, junk between lines, a
    pretty-printed document, an unterminated one, invalid UTF-8, a non-object line."""
    zuora = [compact(r) for s, _, r in reqs if s.startswith("zuora")][:12]
    aep = [compact(r) for s, _, r in reqs if s.startswith("aep")][:12]
    pretty = json.dumps(reqs[0][2], indent=2).encode() if reqs else b"{}"
    return [
        b"\n".join(zuora) + b"\n",
        b"\n".join(aep) + b"\n",
        b"\r\n\r\n".join(zuora[:4]) + b"\r\n",
        b"\n  \n".join(aep[:3]) + b"\n\n",
        zuora[0] + b"\nnot json at all\n" + zuora[1] + b"\n[1,2,3]\n42\n" + zuora[2] + b"\n",
        pretty + b"\n" + zuora[0] + b"\n",
        zuora[0] + b"\n{\"method\": \"POST\",\n" + zuora[1] + b"\n",
        zuora[0] + b"\n\xff\xfe garbage \xc3\x28\n" + aep[0] + b"\n",
        b"{\"user\": {\"orgs\": [\"Asia\"]},\n \"method\": \"POST\", \"path\": \"/query/jobs\"}\n}\n",
        b"\n\n{\"id\": 7, \"user\": {\"orgs\": [\"Asia\"]}, \"bogus\": 1}\n{\"id\": 8\n",
        b"{\"user\":{\"orgs\":[]}}" * 3 + b"\n" + b"[" * 70 + b"\n" + b"{" * 70 + b"\n",
    ]


def name(data):
    return hashlib.sha1(data).hexdigest()[:16]


def write_all(folder, items, clear):
    os.makedirs(folder, exist_ok=True)
    if clear:
        for f in os.listdir(folder):
            os.remove(os.path.join(folder, f))
    for data in items:
        with open(os.path.join(folder, name(data)), "wb") as f:
            f.write(data)


def seeds():
    pols = policies()
    shipped = [d for p, d in pols if p.startswith("policies/")]
    fmt = [d for p, d in pols if "/fmt/" in p]
    check = [d for p, d in pols if "/check/" in p]
    # A spread of checker fixtures: every 3rd, so each kind of rule is represented.
    policy_seeds = shipped + fmt + check[::3]
    fmt_seeds = shipped + fmt + check[::6]
    reqs = requests()
    seen, req_seeds = set(), []
    # Requests: a spread over both policies (every 4th case), at most 30.
    for stem, _, r in reqs[::4]:
        data = compact(r)
        if data not in seen:
            seen.add(data)
            req_seeds.append(data)
    req_seeds = req_seeds[:30]
    out = {
        "policy_check": policy_seeds,
        "request_eval": req_seeds,
        "fmt_roundtrip": fmt_seeds,
        "batch_stream": batches(reqs),
        "big_inputs": BIG_SEEDS,
    }
    for t in TARGETS:
        write_all(os.path.join(FUZZ, "seeds", t), out[t], clear=True)
        print(f"seeds/{t}: {len(out[t])} files")


def corpus():
    pols = [d for _, d in policies()]
    reqs = requests()
    everything = {
        "policy_check": pols,
        "fmt_roundtrip": pols,
        "request_eval": [compact(r) for _, _, r in reqs],
        "batch_stream": batches(reqs),
        "big_inputs": [],
    }
    for t in TARGETS:
        seed_dir = os.path.join(FUZZ, "seeds", t)
        items = everything[t] + [read(os.path.join(seed_dir, f)) for f in sorted(os.listdir(seed_dir))]
        write_all(os.path.join(FUZZ, "corpus", t), items, clear=False)
        print(f"corpus/{t}: {len(os.listdir(os.path.join(FUZZ, 'corpus', t)))} files")


def dictionaries():
    grammar = read(os.path.join(ROOT, "crates", "orgscope", "src", "syntax", "orgscope.pest")).decode()
    words = re.findall(r'"((?:[^"\\]|\\.)+)"', grammar)
    # Keywords, methods and punctuation; not prose from the grammar's comments.
    policy = sorted(set(w for w in words if " " not in w or w == " "))
    policy += ["->", "{", "}", ",", "|", "\"", "#", "user.orgs", "body.", "path.", "query.", "{id}", "\n", "\r\n"]
    keys = ["id", "method", "path", "headers", "query", "body", "user", "orgs", "default_org",
            "tenant", "multi_org", "action", "object", "entities", "type", "org", "objects",
            "accountId", "invoiceId", "productId", "organizationLabel", "organizationId",
            "organizationIds", "Zuora-Org-Ids", "Zuora-Working-Org", "Organization-ID",
            "X-Tenant", "tenantId", "appId", "Asia", "China", "Japan", "Europe", "A-1",
            "Account", "account", "invoice", "invoice_item", "product", "custom_object",
            "query", "create", "read", "update", "delete", "GET", "POST", "PUT", "DELETE",
            "/query/jobs", "/v1/accounts", "/v1/accounts/", "/v1/invoices", "/v1/action/create",
            "/v1/organizations/", "/products", "/v1/reports:run", "/v1/organizations",
            "/v1/healthz", "o-1", "o-2"]
    json_tokens = ["\":\"", "\":[", "\":{", "\",\"", "null", "true", "false", "\\u0000", "\\\"", "\n"]
    os.makedirs(os.path.join(FUZZ, "dict"), exist_ok=True)

    def esc(s):
        return "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "\\x%02x" % ord(c) for c in s)

    def write(fname, tokens):
        seen, lines = set(), []
        for t in tokens:
            if t and t not in seen:
                seen.add(t)
                lines.append('"%s"' % esc(t))
        with open(os.path.join(FUZZ, "dict", fname), "w") as f:
            f.write("\n".join(lines) + "\n")
        print(f"dict/{fname}: {len(lines)} tokens")

    write("policy.dict", policy)
    write("request.dict", ['"%s"' % k for k in keys] + keys + json_tokens)


if __name__ == "__main__":
    what = sys.argv[1:] or ["corpus"]
    for w in what:
        {"seeds": seeds, "corpus": corpus, "dict": dictionaries}[w]()
