"""Reading a judge's answer letter, structured reply first, then a strict fallback.

Code2Video took the first standalone A-D in the reply, so "A video would show ..." counted
as A. Here a letter counts only when the reply is a JSON object with ``"answer"``, when the
whole reply is the letter, or when an explicit phrase names it ("the answer is C",
"Answer: (C)", "option C"). Replies that name two different letters, or none, are unusable.
"""

from __future__ import annotations

import json
import re

from c2v.evaluation.models import LETTERS, Letter
from c2v.llm.parsing import fenced_blocks

_ALONE = re.compile(r"^\W*\(?\s*([A-D])\s*\)?\W*$")
_PHRASES = (
    re.compile(r"(?i:\banswer)\s*(?:(?i:is|would be|should be)\s*)?[:=\-]?\s*\(?\*{0,2}([A-D])\b(?!['’\-])"),
    re.compile(r"(?i:\b(?:option|choice))\s+\(?([A-D])\b(?!['’\-])"),
)


def _json_objects(text: str) -> list[object]:
    found: list[object] = []
    candidates = [body for lang, body in fenced_blocks(text) if lang in {"json", ""}]
    candidates += re.findall(r"\{[^{}]*\}", text)
    for raw in candidates:
        try:
            found.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return found


def parse_answer(text: str) -> Letter | None:
    """The letter the reply chose, or None when it cannot be read without guessing."""
    for data in _json_objects(text):
        if isinstance(data, dict) and "answer" in data:
            value = data["answer"]
            if isinstance(value, str) and value.strip().upper() in LETTERS:
                return value.strip().upper()  # type: ignore[return-value]
            return None  # null, or something that is not a letter: the judge could not tell
    if m := _ALONE.match(text.strip()):
        return m.group(1)  # type: ignore[return-value]
    letters = {m.group(1) for pattern in _PHRASES for m in pattern.finditer(text)}
    if len(letters) == 1:
        return letters.pop()  # type: ignore[return-value]
    return None
