"""Static checks of a scene before any sandbox starts: cheaper failures, same shape as a render's.

``precheck(code, scene_name)`` parses the code, checks the scene class, the imports, the
Manim API table (:mod:`c2v.agents.manim_api`: renames rewritten mechanically, removed APIs
reported) and the use of the ``TeachingScene`` template (anchors A1-F6, lecture lines). A
problem comes back as a :class:`~c2v.models.PrecheckError` with a message, a traceback-like
text naming ``scene.py`` and the line, exactly what the Coder sees after a failed render.
"""

from __future__ import annotations

import ast
import re

from c2v.agents.manim_api import Finding, check_api
from c2v.models import PrecheckError, PrecheckResult

#: Modules a scene may import inside the sandbox (top-level names).
ALLOWED_MODULES = frozenset(
    {
        "__future__", "manim", "numpy", "math", "cmath", "random", "itertools", "functools",
        "operator", "typing", "collections", "dataclasses", "enum", "fractions", "decimal",
        "statistics", "string", "textwrap", "re", "copy", "colorsys", "scipy", "networkx",
        "c2v_layout", "c2v_anchors",
    }
)  # fmt: skip
#: Modules that exist but that a scene has no business with (the sandbox blocks them anyway).
FORBIDDEN_MODULES = frozenset(
    {
        "os", "sys", "subprocess", "socket", "shutil", "pathlib", "ctypes", "importlib", "pickle",
        "marshal", "urllib", "http", "requests", "httpx", "multiprocessing", "threading", "signal",
        "resource", "builtins", "io", "tempfile", "glob", "asyncio", "c2v_record", "c2v_manim",
    }
)  # fmt: skip
_ANCHOR = re.compile(r"^\s*[A-Fa-f]\s*[1-6]\s*$")
_ANCHOR_TAKERS = {"place_at", "anchor", "anchor_point"}


def _error(code: str, line: int | None, message: str, where: str = "<module>") -> PrecheckError:
    lines = code.splitlines()
    text = lines[line - 1].strip() if line and 1 <= line <= len(lines) else ""
    frame = f'  File "scene.py", line {line}, in {where}\n    {text}\n' if line else ""
    return PrecheckError(
        message=message,
        traceback=f"Traceback (most recent call last):\n{frame}{message}",
        error_line=line,
    )


def _syntax(code: str) -> tuple[ast.Module | None, PrecheckError | None]:
    try:
        return ast.parse(code, filename="scene.py"), None
    except SyntaxError as exc:
        message = f"SyntaxError: {exc.msg}"
        return None, _error(code, exc.lineno, message)


def _scene_class(tree: ast.Module, code: str, scene_name: str) -> PrecheckError | None:
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    scene = next((c for c in classes if c.name == scene_name), None)
    if scene is None:
        names = [c.name for c in classes] or "no class"
        line = classes[0].lineno if classes else 1
        return _error(
            code, line, f"NameError: the scene class must be named {scene_name}; the code defines {names}"
        )
    if not any(isinstance(n, ast.FunctionDef) and n.name == "construct" for n in scene.body):
        return _error(code, scene.lineno, f"AttributeError: {scene_name} has no construct(self) method")
    return None


def _import_findings(line: int, modules: list[str]) -> list[Finding]:
    found = []
    for module in modules:
        top = module.split(".")[0]
        if top == "manimlib":
            found.append(Finding(line, "ModuleNotFoundError: manimlib is 3b1b's Manim; import from manim"))
        elif top in FORBIDDEN_MODULES:
            found.append(Finding(line, f"ImportError: a scene may not import {top}"))
        elif top not in ALLOWED_MODULES:
            allowed = ", ".join(sorted(ALLOWED_MODULES - {"__future__"}))
            found.append(
                Finding(line, f"ModuleNotFoundError: No module named '{top}' in the sandbox ({allowed})")
            )
    return found


def _imports(tree: ast.Module) -> list[Finding]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            found.append(Finding(node.lineno, "ImportError: relative imports do not work in the sandbox"))
        elif isinstance(node, ast.ImportFrom):
            found += _import_findings(node.lineno, [node.module or ""])
        elif isinstance(node, ast.Import):
            found += _import_findings(node.lineno, [a.name for a in node.names])
    return found


def _literal_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _template_use(tree: ast.Module) -> list[Finding]:
    """Misuse of the TeachingScene API that is certain from the source alone."""
    found = []
    lecture_lines: int | None = None
    calls = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset)
    )
    for node in calls:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        anchors = []
        if name in _ANCHOR_TAKERS and node.args:
            anchors.append(node.args[0])
        anchors += [kw.value for kw in node.keywords if kw.arg == "span_to" and name == "place_at"]
        for arg in anchors:
            value = _literal_str(arg)
            if value is not None and not _ANCHOR.match(value):
                found.append(
                    Finding(
                        node.lineno,
                        f"ValueError: not an anchor name: {value!r} "
                        "(the grid is A1-F6: columns A-F, rows 1-6)",
                    )
                )
        if name == "show_lecture" and node.args:
            arg = node.args[0]
            if _literal_str(arg) is not None:
                found.append(
                    Finding(node.lineno, "TypeError: show_lecture takes a list of lines, not one string")
                )
            elif isinstance(arg, ast.List | ast.Tuple):
                lecture_lines = len(arg.elts)
        if name == "highlight_lecture" and node.args and lecture_lines is not None:
            arg = node.args[0]
            index = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, int) else None
            if index is not None and not 0 <= index < lecture_lines:
                found.append(
                    Finding(
                        node.lineno,
                        f"IndexError: highlight_lecture({index}) but show_lecture gave {lecture_lines} "
                        f"lines (indices 0-{lecture_lines - 1})",
                    )
                )
    return found


def precheck(code: str, scene_name: str) -> PrecheckResult:
    """Check (and mechanically repair) a scene before it is rendered."""
    tree, error = _syntax(code)
    if tree is None:
        return PrecheckResult(code=code, error=error)
    if error := _scene_class(tree, code, scene_name):
        return PrecheckResult(code=code, error=error)
    rewritten, rewrites, findings = check_api(code, tree)
    if rewrites:
        new_tree, error = _syntax(rewritten)
        if new_tree is None:  # never hand the model a rewrite that broke its code
            rewritten, rewrites = code, []
        else:
            tree = new_tree
    findings += _imports(tree) + _template_use(tree)
    if findings:
        findings.sort(key=lambda f: f.line)
        error = _error(rewritten, findings[0].line, findings[0].message)
        if len(findings) > 1:
            more = "\n".join(f"  line {f.line}: {f.message}" for f in findings[1:])
            error = error.model_copy(
                update={
                    "message": f"{error.message} (and {len(findings) - 1} more, see below)",
                    "traceback": f"{error.traceback}\nAlso found:\n{more}",
                }
            )
        return PrecheckResult(code=rewritten, rewrites=rewrites, error=error)
    return PrecheckResult(code=rewritten, rewrites=rewrites)
