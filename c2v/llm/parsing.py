"""Parsers for model replies: JSON in any of the shapes models send it, and fenced code.

Models answer with bare JSON, fenced JSON (with or without a language tag), JSON wrapped in
prose, JSON with trailing commas or ``//`` and ``/* */`` comments (read with ``json5``), and
code in ```python, ```py or ```python3 fences, sometimes several. A reply that cannot be
used raises :class:`ReplyParseError` with a message written to be quoted back to the model.
SEARCH/REPLACE edits live in :mod:`c2v.agents.edits`.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, TypeVar

import json5
from pydantic import BaseModel, ValidationError

from c2v.errors import ReplyParseError, first_error

M = TypeVar("M", bound=BaseModel)

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
_JSON_LANGS = {"json", "jsonc", "json5", "", "javascript", "js"}
_PYTHON_LANGS = {"python", "py", "python3", "py3", ""}
_CODE_START = re.compile(r"^(?:from \w|import \w|class \w)", re.MULTILINE)


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


def _load(raw: str) -> Any:
    """Strict JSON first; then JSON5 (comments, trailing commas, single quotes)."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as strict:
        try:
            return json5.loads(raw)
        except ValueError:
            raise ReplyParseError(
                f"invalid JSON: {strict.msg} at line {strict.lineno} column {strict.colno}"
            ) from None


def json_candidates(text: str) -> list[str]:
    """The texts in a reply that may hold the JSON answer, most likely first."""
    candidates = [body for lang, body in fenced_blocks(text) if lang in _JSON_LANGS]
    candidates += [span for span in _balanced_objects(text) if span not in candidates]
    return candidates


def _decoded(text: str) -> tuple[list[dict[str, Any]], str]:
    """Every JSON object the reply's candidates decode to, and why the last one failed."""
    candidates = json_candidates(text)
    if not candidates:
        return [], "the reply contains no JSON object; answer with one ```json block"
    objects: list[dict[str, Any]] = []
    last_error = ""
    for raw in candidates:
        try:
            data = _load(raw)
        except ReplyParseError as exc:
            last_error = str(exc)
            continue
        if isinstance(data, dict):
            objects.append(data)
        else:
            last_error = "the JSON value is not an object"
    return objects, last_error


def extract_json_object(text: str, key: str | None = None) -> dict[str, Any]:
    """The JSON object a reply carries (the first with ``key``, if any has it), not yet validated."""
    objects, error = _decoded(text)
    if not objects:
        raise ReplyParseError(error)
    return next((o for o in objects if key is not None and key in o), objects[0])


def validation_message(exc: ValidationError, model: type[BaseModel]) -> str:
    """One line naming the first field that failed and why, for the re-ask."""
    first = first_error(exc)
    return f"JSON does not match the {model.__name__} schema at {first.where or '(top level)'}: {first.msg}"


def extract_json(text: str, model: type[M]) -> M:
    """Find the JSON object in a reply (fenced, bare or in prose) and validate it as ``model``."""
    objects, error = _decoded(text)
    for data in objects:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            error = validation_message(exc, model)
    raise ReplyParseError(error)


def _defines(code: str, scene_name: str | None) -> bool:
    if scene_name is not None:
        return re.search(rf"^\s*class\s+{re.escape(scene_name)}\b", code, re.MULTILINE) is not None
    return "class " in code and "def construct" in code


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def extract_python(text: str, scene_name: str | None = None) -> str:
    """The scene file in a reply.

    Of several fenced blocks, the one that defines the scene class (``scene_name`` when
    given, else any class with ``construct``) wins, the longest of those. With no fence,
    the reply is taken from its first ``from``/``import``/``class`` line when that parses.
    """
    blocks = [body for lang, body in fenced_blocks(text) if lang in _PYTHON_LANGS]
    if blocks:
        scenes = [b for b in blocks if _defines(b, scene_name)] or [b for b in blocks if _defines(b, None)]
        code = max(scenes or blocks, key=len)
    else:
        start = _CODE_START.search(text)
        code = text
        if start is not None and not _parses(text) and _parses(text[start.start() :]):
            code = text[start.start() :]
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
