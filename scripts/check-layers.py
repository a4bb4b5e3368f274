#!/usr/bin/env python3
"""The library's import graph, module by module: which modules import which, the cycles among
them, and imports that go up the layers.

    scripts/check-layers.py            # prints the figures; fails on an upward import
    scripts/check-layers.py --edges    # also prints every edge

A module is a file under src/ (src/x/mod.rs is `x`, src/x/y.rs is `x::y`). An edge A -> B means a
path in A names B or something defined in B: `use crate::b::…`, `crate::b::f(…)` in code,
`super::…` and `self::…` in `use` lines. Re-exports are followed one step. Test modules inside
a file, comments and string literals are left out. A cycle is a strongly connected group of two
or more modules.

The layers, bottom up: `domain` imports nothing of the crate but itself; `db` imports `domain`
and the infrastructure it runs on (`config`, `embedded_pg`), never a feature; the route table
(`router`) is the only module that imports every feature. A cycle or an upward import fails the
check, and so does a transaction or audit write in a handler module (one that uses axum's
extractors): handlers parse, call a service and render. So does a service that imports the web
layer or axum: services serve the pages, the API and the command line alike. Writes outside
services are printed.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

# What `db` may import besides itself and `domain`: the infrastructure below the features.
DB_MAY_IMPORT = {"config", "embedded_pg"}


def module_of(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts == ["lib"]:
        return "crate"
    if parts[-1] == "mod":
        parts = parts[:-1]
    return "crate::" + "::".join(parts)


def strip(text: str) -> str:
    """The code without comments, string and character literals, and inline test modules."""
    cut = re.search(r"#\[cfg\(test\)\]\s*mod \w+\s*\{", text)
    if cut:
        text = text[: cut.start()]
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i):
            i = text.find("*/", i) + 2 if "*/" in text[i:] else n
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not text[i - 1].isalnum()):
            end = text.find('"' + m.group(1), i + m.end())
            out.append('""')
            i = n if end < 0 else end + 1 + len(m.group(1))
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            out.append('""')
            i += 1
        elif c == "'" and (m := re.match(r"'(\\.[^']*|[^\\'])'", text[i:])):
            out.append("' '")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand(tree: str) -> list[str]:
    """`a::{b, c::{d as x, e}}` -> [`a::b`, `a::c::d`, `a::c::e`]."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    start = tree.find("{")
    if start < 0:
        return [tree]
    prefix, inner = tree[:start], tree[start + 1 : tree.rfind("}")]
    items, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    items.append(cur)
    out = []
    for item in filter(None, items):
        for path in expand(item):
            out.append(prefix + path if path != "self" else prefix.rstrip(":"))
    return out


def absolute(path: str, module: str) -> str | None:
    """A path in a `use` line of `module`, as a path from `crate`."""
    segments = path.split("::")
    if segments[0] == "crate":
        return path
    base = module.split("::")
    if segments[0] == "self":
        return "::".join(base + segments[1:])
    if segments[0] == "super":
        while segments and segments[0] == "super":
            base = base[:-1]
            segments = segments[1:]
        return "::".join(base + segments)
    return None


def main() -> int:
    files = {module_of(p): p for p in SRC.rglob("*.rs") if p.name != "main.rs"}
    modules = set(files)
    code = {m: strip(p.read_text()) for m, p in files.items()}

    # Re-exports: `pub use x::y;` in module m makes `m::y` stand for x::y.
    reexports = {}
    for m, text in code.items():
        for tree in re.findall(r"pub use ([^;]+);", text):
            for path in expand(tree):
                target = absolute(path, m) or absolute("self::" + path, m)
                if target:
                    reexports[m + "::" + target.split("::")[-1]] = target

    def resolve(path: str) -> str | None:
        path = reexports.get(path, path)
        segments = path.split("::")
        for n in range(len(segments), 0, -1):
            candidate = "::".join(segments[:n])
            if candidate in reexports and n < len(segments):
                return resolve(reexports[candidate] + "::" + "::".join(segments[n:]))
            if candidate in modules:
                return candidate
        return None

    edges = {m: set() for m in modules}
    for m, text in code.items():
        paths = []
        for tree in re.findall(r"\buse ([^;]+);", text):
            paths += [p for p in (absolute(t, m) for t in expand(tree)) if p]
        paths += re.findall(r"\bcrate(?:::\w+)+", text)
        for path in paths:
            target = resolve(path)
            if target and target != m:
                edges[m].add(target)

    # Strongly connected groups (Tarjan).
    index, low, stack, on, groups = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in sorted(modules):
        if v not in index:
            visit(v)

    def top(m):
        return m.split("::")[1] if m != "crate" else "crate"

    upward = []
    for m in sorted(modules):
        for t in sorted(edges[m]):
            if top(m) == "domain" and top(t) != "domain":
                upward.append((m, t))
            if top(m) == "db" and top(t) not in {"db", "domain"} | DB_MAY_IMPORT:
                upward.append((m, t))

    # A service serves every door (pages, the API, the command line): it imports neither the
    # web layer nor axum, and says what went wrong with the domain's error.
    service_to_web = []
    for m in sorted(modules):
        if not m.endswith("::service"):
            continue
        for t in sorted(edges[m]):
            if top(t) in {"web", "router"}:
                service_to_web.append((m, t))
        if re.search(r"\baxum::", code.get(m, "")):
            service_to_web.append((m, "axum"))

    # Transactions and audit writes, by the kind of file they sit in.
    # A module that takes requests apart (axum's extractors) is a handler module: it parses,
    # calls a service and renders, and holds no transaction or audit write of its own.
    writes = {"service": 0, "elsewhere": []}
    in_handlers = []
    for m, text in code.items():
        n = len(re.findall(r"\.begin\(\)|audit::record\(|insert\s+into\s+audit_log", text))
        if not n or top(m) in {"db", "crate"}:
            continue
        if m.endswith("::service"):
            writes["service"] += n
        else:
            writes["elsewhere"].append((m, n))
        if re.search(r"axum::extract|\bForm\(|\bState\(", text):
            in_handlers.append((m, n))

    if "--edges" in sys.argv:
        for m in sorted(modules):
            for t in sorted(edges[m]):
                print(f"{m} -> {t}")
    print(f"modules: {len(modules)}, imports between them: {sum(map(len, edges.values()))}")
    print(f"cycles: {len(groups)}, modules in them: {sum(map(len, groups))}")
    for g in groups:
        print(f"  {len(g)}: {', '.join(x.removeprefix('crate::') for x in g)}")
    print(f"upward imports from domain or db: {len(upward)}")
    for m, t in upward:
        print(f"  {m} -> {t}")
    print(f"services importing the web layer or axum: {len(service_to_web)}")
    for m, t in service_to_web:
        print(f"  {m} -> {t}")
    elsewhere = sorted(writes["elsewhere"], key=lambda x: -x[1])
    print(
        f"transactions and audit writes: {writes['service']} in services, "
        f"{sum(n for _, n in elsewhere)} elsewhere"
    )
    for m, n in elsewhere:
        print(f"  {m}: {n}")
    print(f"transactions and audit writes in handler modules: {sum(n for _, n in in_handlers)}")
    for m, n in sorted(in_handlers):
        print(f"  {m}: {n}")
    return 1 if upward or groups or in_handlers or service_to_web else 0


if __name__ == "__main__":
    sys.exit(main())
