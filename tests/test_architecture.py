"""The shape of the package, read from its code: layers, one-way imports, no shims, sizes.

The layers (docs/architecture.md), from the ground up: the base modules at the package's top
(exceptions, log, paths, files, values), then ``data``, ``analysis``, ``report``, ``claims``,
``site``; ``synth`` stands beside ``site`` and nothing but the command line imports it. A module
imports only from its own layer or the layers below, at the top of the file, and no two modules
import each other, even through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lib" / "ixathaldex"
BASE = {"exceptions", "log", "paths", "files", "values"}
RANK = {"base": 0, "data": 1, "analysis": 2, "report": 3, "claims": 4, "site": 5, "synth": 5, "cli": 6}
#: who may import a layer besides the layers above it (synth is a side branch: the site never uses it)
ONLY_FROM = {"synth": {"synth", "cli"}}
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
#: the generator's search is allowed longer functions (issue 9)
LONG_FUNCTIONS_ALLOWED = {"ixathaldex.synth.calibration", "ixathaldex.synth.cohort"}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "base"
    if len(parts) == 2 and parts[1] in BASE:
        return "base"
    if parts[1] == "cli":
        return "cli"
    return parts[1]


def modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(encoding="utf-8"), filename=str(p))
            for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")[: -node.level] if not module.endswith("__init__") else module.split(".")
    return ".".join(base + ([node.module] if node.module else []))


def own_imports(module: str, tree: ast.Module, known: set[str]):
    """(imported module, imported names, line, at top level?) for every import of the package's own
    modules, function-level ones included."""
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ixathaldex":
                    yield alias.name, [], node.lineno, id(node) in top
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, node)
            if target.split(".")[0] != "ixathaldex":
                continue
            names = [a.name for a in node.names]
            if all(f"{target}.{n}" in known for n in names):  # from package import module
                for n in names:
                    yield f"{target}.{n}", [], node.lineno, id(node) in top
            else:
                yield target, names, node.lineno, id(node) in top


@pytest.fixture(scope="module")
def graph():
    mods = modules()
    known = set(mods)
    edges = {m: [] for m in mods}
    for m, tree in mods.items():
        for target, names, line, at_top in own_imports(m, tree, known):
            edges[m].append((target, names, line, at_top))
    return mods, edges


def test_the_package_has_its_layers(graph):
    mods, _ = graph
    layers = {layer_of(m) for m in mods}
    assert {"base", "data", "analysis", "report", "claims", "site", "synth", "cli"} <= layers
    assert all(layer in RANK for layer in layers), sorted(layers - set(RANK))


def test_imports_of_the_package_are_at_the_top_of_a_file(graph):
    _, edges = graph
    deferred = [f"{m}:{line} imports {t}" for m, es in edges.items() for t, _, line, top in es if not top]
    assert not deferred, "own modules are imported at the top of a file:\n" + "\n".join(deferred)


def test_no_upward_import(graph):
    _, edges = graph
    bad = []
    for m, es in edges.items():
        for target, _, line, _ in es:
            if target == "ixathaldex":
                continue
            src, dst = layer_of(m), layer_of(target)
            if RANK[dst] > RANK[src] or (dst in ONLY_FROM and src not in ONLY_FROM[dst]) \
                    or (src == "site" and dst == "synth"):
                bad.append(f"{m}:{line} ({src}) imports {target} ({dst})")
    assert not bad, "imports run down the layers only:\n" + "\n".join(bad)


def test_no_import_cycle(graph):
    mods, edges = graph
    adj = {m: {t for t, *_ in es if t in mods and t != m} for m, es in edges.items()}
    cycles, state = [], {}

    def visit(m, stack):
        state[m] = "open"
        for t in sorted(adj[m]):
            if state.get(t) == "open":
                cycles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t, stack + [t])
        state[m] = "done"

    for m in sorted(adj):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_no_module_getattr_shims(graph):
    mods, _ = graph
    shims = [m for m, tree in mods.items()
             if any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body)]
    assert not shims


def test_no_private_name_taken_from_another_module(graph):
    _, edges = graph
    private = [f"{m}:{line} takes {n} from {t}" for m, es in edges.items() for t, names, line, _ in es
               for n in names if n.startswith("_") and t != m]
    assert not private


def test_module_and_function_sizes(graph):
    mods, _ = graph
    too_long = []
    for m, tree in mods.items():
        path = PACKAGE.parent / (m.replace(".", "/") + ".py")
        if not path.is_file():
            path = PACKAGE.parent / m.replace(".", "/") / "__init__.py"
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append((m, f"{m}: {lines} lines"))
        if m in LONG_FUNCTIONS_ALLOWED:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    too_long.append((f"{m}.{node.name}", f"{m}.{node.name}: {n} lines"))
    assert not too_long, "split by concept:\n" + "\n".join(text for _, text in too_long)


def test_the_checker_sees_a_cycle_and_an_upward_import(tmp_path):
    """The rules above can fail: a fake module graph with a cycle and an upward import is caught."""
    assert layer_of("ixathaldex.analysis.survival") == "analysis"
    assert layer_of("ixathaldex.paths") == "base"
    assert RANK[layer_of("ixathaldex.site.build")] > RANK[layer_of("ixathaldex.data.snapshot")]
    tree = ast.parse("def f():\n    from ixathaldex.site import build\n")
    found = list(own_imports("ixathaldex.data.snapshot", tree, {"ixathaldex.site.build"}))
    assert found == [("ixathaldex.site.build", [], 2, False)]
