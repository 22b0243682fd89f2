"""The import graph: no cycle between modules, and every import points down the layers."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("c2v", "cluster", "sandbox")

#: Bottom to top; a module may import its own layer and the layers below, never above.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("runtime", ("sandbox.runtime",)),
    ("core", ("c2v.errors", "c2v.models", "c2v.core", "c2v.__init__")),
    ("llm", ("c2v.llm",)),
    ("speech", ("c2v.speech", "c2v.assets")),
    ("review", ("c2v.review", "c2v.media", "c2v.subtitles")),
    ("sandbox", ("sandbox",)),
    ("agents", ("c2v.agents",)),
    ("cluster", ("cluster",)),
    ("case", ("c2v.case", "c2v.tokens", "c2v.repair", "c2v.config")),
    ("pipeline", ("c2v.pipeline", "c2v.testing")),
    ("batch", ("c2v.batch", "c2v.storage")),
    ("evaluation", ("c2v.evaluation", "c2v.report")),
    ("service", ("c2v.service", "c2v.store", "c2v.client", "c2v.studio")),
    ("app", ("c2v.app", "c2v.__main__")),
]


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts)


def _layer(module: str) -> int:
    best, found = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found >= 0, f"{module} belongs to no layer: add it to LAYERS (and to the README's drawing)"
    return found


def _graph() -> nx.DiGraph:
    modules = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                hit = target if target in modules else target.removesuffix(".__init__")
                if hit in modules and hit != name:
                    graph.add_edge(name, hit)
                elif f"{target}.__init__" in modules and f"{target}.__init__" != name:
                    graph.add_edge(name, f"{target}.__init__")
    return graph


def test_no_module_imports_itself_back():
    cycles = list(nx.simple_cycles(_graph()))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_every_import_points_down_the_layers():
    upward = [
        f"{a} ({LAYERS[_layer(a)][0]}) imports {b} ({LAYERS[_layer(b)][0]})"
        for a, b in _graph().edges
        if _layer(b) > _layer(a)
    ]
    assert not upward, "\n".join(upward)


def test_the_readme_draws_these_layers_in_this_order():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    drawing = text.split("## Architecture", 1)[1].split("```", 2)[1]
    drawn = [line.split()[0] for line in drawing.splitlines() if line and not line[0].isspace()]
    assert drawn == [name for name, _ in reversed(LAYERS)], "README's architecture drawing is out of date"
    for _, prefixes in LAYERS:
        for prefix in prefixes:
            path = prefix.replace(".", "/").removesuffix("/__init__")
            shown = (path + "/") if (ROOT / path).is_dir() else f"{path}.py"
            if not prefix.endswith("__init__"):
                assert shown in drawing, f"{shown} is in LAYERS but not in the README's drawing"
