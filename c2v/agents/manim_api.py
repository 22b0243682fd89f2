"""Manim APIs removed or renamed in Community v0.18-0.22 (``manim_api.toml``), found with ``ast``.

Renames are rewritten in place at the exact source positions of the names ``ast`` finds,
so strings and comments are never touched; removed APIs with no mechanical replacement
become findings with a hint. Names the scene defines itself are left alone.
"""

from __future__ import annotations

import ast
import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from c2v.models import CodeRewrite

#: Transform-family animations whose third positional argument is ``path_func``, not an angle.
TRANSFORMS = {"Transform", "ReplacementTransform", "TransformFromCopy", "ClockwiseTransform"}


@dataclass(frozen=True)
class Finding:
    line: int
    message: str


@dataclass(frozen=True)
class _Splice:
    start: int
    end: int
    text: str


@cache
def api_table() -> dict[str, Any]:
    raw = (resources.files("c2v.agents") / "manim_api.toml").read_text(encoding="utf-8")
    return tomllib.loads(raw)


class _Source:
    """Character offsets of ``ast`` positions (which count UTF-8 bytes within a line)."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.lines = code.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )


def _defined_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def check_api(code: str, tree: ast.Module) -> tuple[str, list[CodeRewrite], list[Finding]]:
    """Rewrite renamed APIs and report removed ones; returns (code, rewrites, findings)."""
    table = api_table()
    names = {e["old"]: e for e in table.get("name", [])}
    calls = {e["old"]: e for e in table.get("call", [])}
    methods = {e["old"]: e for e in table.get("method", [])}
    kwargs = {(o, n): e for e in table.get("kwarg", []) for o in e["owners"] for n in e["names"]}
    own = _defined_names(tree)
    src = _Source(code)
    splices: list[_Splice] = []
    rewrites: list[CodeRewrite] = []
    findings: list[Finding] = []
    done: set[int] = set()

    def rename(node: ast.AST, start: int, end: int, old: str, new: str, rule: str) -> None:
        splices.append(_Splice(start, end, new))
        rewrites.append(CodeRewrite(line=node.lineno, old=old, new=new, rule=rule))  # type: ignore[attr-defined]

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            fname = node.func.id
            if fname in calls and fname not in own:
                _rewrite_call(node, calls[fname], src, splices, findings)
                rewrites.append(
                    CodeRewrite(line=node.lineno, old=fname, new=calls[fname]["new"], rule=f"call:{fname}")
                )
                done.add(id(node.func))
            for kw in node.keywords:
                if kw.arg is not None and (fname, kw.arg) in kwargs:
                    findings.append(Finding(node.lineno, f"TypeError: {kwargs[(fname, kw.arg)]['hint']}"))
            if fname in TRANSFORMS:
                findings += _transform_misuse(node, fname)
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "CONFIG" for t in stmt.targets
                ):
                    findings.append(
                        Finding(
                            stmt.lineno,
                            "AttributeError: CONFIG dictionaries are not read by Manim Community; pass "
                            "the values as arguments or set attributes in construct()",
                        )
                    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in done and node.id in names and node.id not in own:
            entry = names[node.id]
            if "new" in entry:
                start, end = src.span(node)
                rename(node, start, end, node.id, entry["new"], f"name:{node.id}")
            else:
                findings.append(Finding(node.lineno, f"NameError: {entry['hint']}"))
        elif isinstance(node, ast.Attribute) and node.attr in methods:
            entry = methods[node.attr]
            _, end = src.span(node)
            rename(node, end - len(node.attr), end, node.attr, entry["new"], f"method:{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "manim":
            for alias in node.names:
                entry = names.get(alias.name) or calls.get(alias.name)
                if entry is None:
                    continue
                if "new" in entry:
                    start = src.offset(alias.lineno, alias.col_offset)
                    rename(
                        alias,
                        start,
                        start + len(alias.name),
                        alias.name,
                        entry["new"],
                        f"import:{alias.name}",
                    )
                else:
                    findings.append(Finding(alias.lineno, f"ImportError: {entry['hint']}"))
    out = code
    for sp in sorted(splices, key=lambda s: s.start, reverse=True):
        out = out[: sp.start] + sp.text + out[sp.end :]
    return out, sorted(rewrites, key=lambda r: r.line), findings


def _rewrite_call(
    node: ast.Call, entry: dict[str, Any], src: _Source, splices: list[_Splice], findings: list[Finding]
) -> None:
    start, end = src.span(node.func)
    splices.append(_Splice(start, end, entry["new"]))
    keyword, value = entry["keyword"], entry["default"]
    index = entry.get("positional")
    if any(kw.arg == keyword for kw in node.keywords):
        return
    if index is not None and len(node.args) > index:
        if len(node.args) != index + 1 or any(isinstance(a, ast.Starred) for a in node.args):
            findings.append(
                Finding(node.lineno, f"TypeError: {entry['old']} was removed; use {entry['new']}")
            )
            return
        arg = node.args[index]
        a_start, a_end = src.span(arg)
        text = src.code[a_start:a_end]
        if entry.get("negate"):
            text = f"-{text}" if isinstance(arg, ast.Name | ast.Attribute) else f"-({text})"
        splices.append(_Splice(a_start, a_end, f"{keyword}={text}"))
        return
    _, call_end = src.span(node)
    close = call_end - 1  # the call's closing parenthesis
    before = src.code[:close].rstrip()
    sep = "" if before.endswith("(") else " " if before.endswith(",") else ", "
    splices.append(_Splice(close, close, f"{sep}{keyword}={value}"))


def _transform_misuse(node: ast.Call, fname: str) -> list[Finding]:
    found = []
    if len(node.args) > 2:
        found.append(
            Finding(
                node.lineno,
                f"TypeError: the third positional argument of {fname} is path_func, not an angle; "
                "pass path_arc=... by keyword",
            )
        )
    for kw in node.keywords:
        value = kw.value.value if isinstance(kw.value, ast.Constant) else None
        if kw.arg == "path_arc" and isinstance(value, int | float) and abs(value) > 2 * math.pi + 1e-6:
            found.append(
                Finding(
                    node.lineno,
                    f"ValueError: path_arc={value} is in radians (more than a full turn); "
                    "use e.g. PI / 2 for a quarter turn",
                )
            )
    return found
