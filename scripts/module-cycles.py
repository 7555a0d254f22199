#!/usr/bin/env python3
"""Import cycles between the crate's source files.

Builds the graph "file A names an item of file B" from every `crate::...`,
`super::...` and `self::...` path in src/ (in `use` trees and inline), test
code left out (`#[cfg(test)]` modules, and files compiled only for tests),
then prints each strongly connected component of more than one file: a set
of files where each one reaches every other through imports.

An edge goes to the file that defines the item: `crate::app::parse_delay`
is an edge to src/app/delay.rs, through app/mod.rs's re-export, so a
parent's `pub use child::X` and a child's `use super::Y` are no cycle unless
the parent defines Y itself. A parent's `mod child;` alone is no edge.

    python3 scripts/module-cycles.py          # the cycles, and a count line
    python3 scripts/module-cycles.py --check  # exit 1 if there is any cycle
    python3 scripts/module-cycles.py --edges  # every edge, for a diff
    python3 scripts/module-cycles.py --layers # the graph of src/'s top modules

The same is done one level up: the top modules (app, http, server, ...)
must form a graph without cycles too, each layer only looking down.
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_files():
    """{module path tuple: file} for every module file under src/."""
    files = {}
    for root, _, names in os.walk(SRC):
        for name in names:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, name), SRC)
            parts = rel[:-3].split(os.sep)
            if parts in (["lib"], ["main"]):
                module = ()
            elif parts[-1] == "mod":
                module = tuple(parts[:-1])
            else:
                module = tuple(parts)
            files[module] = "src/" + rel.replace(os.sep, "/")
    return files


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def strip_strings(text):
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def matching_brace(text, open_at):
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(text) - 1


def strip_test_modules(text):
    """Removes `#[cfg(test)] mod x { ... }`, and returns the names of
    `#[cfg(test)] mod x;` file modules (compiled for tests only)."""
    test_files = set()
    out, i = [], 0
    pattern = re.compile(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*([;{])")
    while True:
        m = pattern.search(text, i)
        if not m:
            out.append(text[i:])
            break
        out.append(text[i : m.start()])
        if m.group(2) == ";":
            test_files.add(m.group(1))
            i = m.end()
        else:
            i = matching_brace(text, m.end() - 1) + 1
    return "".join(out), test_files


def use_paths(tree, prefix=""):
    """Expands a use tree (`crate::a::{b, c::{d, e}}`) into whole paths."""
    tree = tree.strip()
    brace = tree.find("{")
    if brace < 0:
        path = (prefix + tree).strip()
        return [path] if path else []
    head = prefix + tree[:brace]
    body = tree[brace + 1 : tree.rfind("}")]
    parts, depth, start = [], 0, 0
    for i, c in enumerate(body):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    paths = []
    for part in parts:
        if part.strip() == "self":
            paths.append(head.rstrip(":"))
        elif part.strip():
            paths.extend(use_paths(part, head))
    return paths


def resolve(path, module, files, imports, depth=0):
    """The file that defines what a path names, seen from `module`; None
    outside the crate. A name a module only imports (`pub use x::Y`, or a
    private `use` a child may see) is followed to where it is defined."""
    segments = [s for s in re.split(r"\s*::\s*", path) if s]
    if not segments:
        return None
    if segments[0] == "crate":
        base, rest = (), segments[1:]
    elif segments[0] in ("super", "self"):
        base = module
        while segments and segments[0] in ("super", "self"):
            if segments[0] == "super":
                base = base[:-1]
            segments = segments[1:]
        rest = segments
    elif (module + (segments[0],)) in files:
        # `use child::X` in a parent names its own child module.
        base, rest = module, segments
    else:
        return None
    best, used = base, 0
    for i in range(1, len(rest) + 1):
        candidate = base + tuple(rest[:i])
        if candidate in files:
            best, used = candidate, i
        else:
            break
    if used < len(rest) and depth < 8:
        imported = imports.get(best, {}).get(rest[used])
        if imported:
            target = resolve(imported, best, files, imports, depth + 1)
            if target:
                return target
    return files.get(best)


def imported_names(text):
    """{name: path} for the names a module's `use` items bring in."""
    names = {}
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        for path in use_paths(m.group(1)):
            alias = re.search(r"\bas\s+(\w+)\s*$", path)
            last = path.split("::")[-1].strip()
            if last != "*":
                names[alias.group(1) if alias else last] = path.split(" as ")[0].strip()
    return names


WHY = {}


def graph():
    files = module_files()
    test_only = set()
    texts = {}
    for module, path in files.items():
        with open(os.path.join(SRC, "..", path), encoding="utf-8") as f:
            text = strip_strings(strip_comments(f.read()))
        text, test_children = strip_test_modules(text)
        for child in test_children:
            test_only.add(module + (child,))
        texts[module] = text
    # A test-only module's submodules are test-only too.
    test_only = {m for m in files if any(m[: len(t)] == t for t in test_only)}
    imports = {module: imported_names(text) for module, text in texts.items()}
    edges = {}
    for module, text in texts.items():
        if module in test_only or files[module] == "src/main.rs":
            continue
        source = files[module]
        named = [p.split(" as ")[0] for m in re.finditer(r"\buse\s+([^;]+);", text) for p in use_paths(m.group(1))]
        named += [m.group(0) for m in re.finditer(r"\b(?:crate|super|self)(?:\s*::\s*\w+)+", re.sub(r"\buse\s+[^;]+;", "", text))]
        targets = {}
        for path in named:
            target = resolve(path, module, files, imports)
            if target and target != source and target != "src/main.rs":
                targets.setdefault(target, set()).add(re.sub(r"\s+", "", path))
        edges[source] = sorted(targets)
        WHY[source] = targets
    return edges


def cycles(edges):
    """Tarjan's strongly connected components with more than one file."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out, key=lambda c: (-len(c), c))


def layers(edges):
    """The graph between src/'s top modules (src/app/*.rs is `app`)."""
    def top(path):
        return path[len("src/"):].split("/")[0].removesuffix(".rs")
    out = {}
    for source, targets in edges.items():
        for target in targets:
            if top(source) != top(target):
                out.setdefault(top(source), set()).add(top(target))
    return {k: sorted(v) for k, v in out.items()}


def main():
    edges = graph()
    if "--layers" in sys.argv:
        for layer, below in sorted(layers(edges).items()):
            print(f"{layer} -> {', '.join(below)}")
        return 0
    if "--edges" in sys.argv:
        for source in sorted(edges):
            for target in edges[source]:
                print(f"{source} -> {target}  ({', '.join(sorted(WHY[source][target]))})")
        return 0
    found = cycles(edges)
    for component in found:
        print(f"cycle of {len(component)} files:")
        for f in component:
            inside = [t for t in edges[f] if t in component]
            print(f"  {f} -> {', '.join(inside)}")
    files = sum(len(c) for c in found)
    layer_cycles = cycles(layers(edges))
    for component in layer_cycles:
        print(f"cycle between top modules: {', '.join(component)}")
    print(f"{len(found)} import cycle(s), {files} file(s) in cycles, {len(edges)} files, "
          f"{sum(len(t) for t in edges.values())} edges; {len(layer_cycles)} cycle(s) between top modules")
    if "--check" in sys.argv and (found or layer_cycles):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
