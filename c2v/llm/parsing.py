"""Parsers for model replies: JSON inside prose, fenced code, SEARCH/REPLACE edits.

A reply that cannot be parsed raises :class:`ReplyParseError` with a message written to be
quoted back to the model.
"""

from __future__ import annotations

import ast
import json
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from c2v.errors import ReplyParseError

M = TypeVar("M", bound=BaseModel)

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:\n```|\Z)", re.DOTALL)
_EDIT = re.compile(
    r"<{5,9} ?SEARCH[^\n]*\n(.*?)\n?={5,9}[ \t]*\n(.*?)\n?>{5,9} ?REPLACE",
    re.DOTALL,
)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block, in order."""
    return [(m.group(1).lower(), m.group(2)) for m in _FENCE.finditer(text)]


def _balanced_objects(text: str) -> list[str]:
    """Every top-level ``{...}`` span in ``text``, respecting strings and escapes."""
    spans, depth, start, in_str, esc = [], 0, -1, False, False
    for i, ch in enumerate(text):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"' and depth > 0:
            in_str = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    return spans


def extract_json(text: str, model: type[M]) -> M:
    """Find the JSON object in a reply (fenced or in prose) and validate it as ``model``."""
    candidates = [body for lang, body in fenced_blocks(text) if lang in {"json", "", "javascript"}]
    candidates += _balanced_objects(text)
    if not candidates:
        raise ReplyParseError("the reply contains no JSON object; answer with one ```json block")
    last_error = ""
    for raw in candidates:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            last_error = f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            continue
        if not isinstance(data, dict):
            last_error = "the JSON value is not an object"
            continue
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top level)"
            last_error = f"JSON does not match the {model.__name__} schema at {where}: {first['msg']}"
    raise ReplyParseError(last_error)


def extract_python(text: str) -> str:
    """The Python code in a reply: the longest ```python block, else the whole reply."""
    blocks = [body for lang, body in fenced_blocks(text) if lang in {"python", "py", "python3", ""}]
    code = max(blocks, key=len) if blocks else text
    code = code.strip("\n") + "\n"
    if "class " not in code or "def construct" not in code:
        raise ReplyParseError("the reply has no Manim scene: send the full file in one ```python block")
    return code


def scene_class(code: str, expected: str) -> str:
    """Check that ``code`` parses and defines ``expected``; return its name.

    A SyntaxError is not raised here: the render step reports it like any other
    traceback, so the repair loop treats it the same way.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return expected
    names = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    if expected not in names:
        raise ReplyParseError(
            f"the scene class must be named {expected}; the code defines {names or 'no class'}"
        )
    return expected


def apply_search_replace(code: str, reply: str) -> str:
    """Apply every SEARCH/REPLACE block in ``reply`` to ``code``.

    Each SEARCH text must occur in the code exactly once (after trimming trailing
    whitespace on each line), otherwise the edit is ambiguous and rejected.
    """
    edits = _EDIT.findall(reply)
    if not edits:
        raise ReplyParseError("the reply has no SEARCH/REPLACE block")
    out = code
    for search, replace in edits:
        if not search.strip():
            raise ReplyParseError("a SEARCH block is empty")
        count = out.count(search)
        if count == 0:
            norm_lines = [ln.rstrip() for ln in out.splitlines()]
            want = [ln.rstrip() for ln in search.splitlines()]
            idx = [i for i in range(len(norm_lines)) if norm_lines[i : i + len(want)] == want]
            if len(idx) != 1:
                raise ReplyParseError(
                    f"SEARCH text not found exactly once in the file: {search.splitlines()[0]!r}"
                )
            lines = out.splitlines()
            lines[idx[0] : idx[0] + len(want)] = replace.splitlines()
            out = "\n".join(lines) + "\n"
        elif count > 1:
            raise ReplyParseError(
                f"SEARCH text occurs {count} times; include more context: {search.splitlines()[0]!r}"
            )
        else:
            out = out.replace(search, replace, 1)
    return out
