"""Outlines and storyboards that break the limits: normalised where that is safe, else refused.

Models plan nine sections when asked for six, write a 200-character lecture line, or give a
section no animation steps. Where a change keeps the teaching content (merge two adjacent
sections, wrap a long line into several, draw each lecture line when no step was given),
it is made and said in a note for the manifest; where it would lose content (more lecture
lines than fit), the reply is refused with a message precise enough for the re-ask.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import ValidationError

from c2v.agents.elements import fix_elements
from c2v.errors import ReplyParseError
from c2v.llm.parsing import validation_message
from c2v.models import (
    MAX_LECTURE_LINES,
    MAX_LINE_CJK_CHARS,
    MAX_LINE_WORDS,
    Outline,
    Storyboard,
    has_cjk,
    line_too_long,
)

MIN_SECTIONS, MAX_SECTIONS = 4, 6
MAX_TITLE = 120
_BREAK_AFTER = re.compile(r"[，。；：、,;:！？!?）)]")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list):
        return []
    return [str(v).strip() for v in value if str(v).strip()]


def wrap_line(line: str) -> list[str]:
    """Split a too-long lecture line into the fewest even pieces that each fit."""
    if not line_too_long(line):
        return [line]
    if has_cjk(line):
        text = line.replace(" ", "")
        pieces = math.ceil(len(text) / MAX_LINE_CJK_CHARS)
        out, rest = [], text
        for left in range(pieces, 1, -1):
            cut = math.ceil(len(rest) / left)
            near = [m.end() for m in _BREAK_AFTER.finditer(rest, 0, cut + 1) if m.end() >= cut - 4]
            cut = near[-1] if near else cut
            out.append(rest[:cut])
            rest = rest[cut:]
        return [*out, rest]
    words = line.split()
    pieces = math.ceil(len(words) / MAX_LINE_WORDS)
    size = math.ceil(len(words) / pieces)
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


def _merge_pairs(
    sections: list[dict[str, Any]], limit: int, what: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """Merge adjacent sections, the smallest pair first, until at most ``limit`` remain."""
    notes: list[str] = []
    while len(sections) > limit:
        best: tuple[int, int] | None = None
        for i in range(len(sections) - 1):
            a, b = sections[i], sections[i + 1]
            lines = len(_as_list(a.get("lecture_lines"))) + len(_as_list(b.get("lecture_lines")))
            if lines > MAX_LECTURE_LINES:
                continue
            size = len(str(a.get("content", ""))) + len(str(b.get("content", ""))) + 40 * lines
            if best is None or size < best[1]:
                best = (i, size)
        if best is None:
            raise ReplyParseError(
                f"the {what} has {len(sections)} sections; plan at most {limit}, each with at most "
                f"{MAX_LECTURE_LINES} lecture lines"
            )
        i = best[0]
        a, b = sections[i], sections[i + 1]
        merged: dict[str, Any] = {"id": a.get("id")}
        for key in a.keys() | b.keys():
            if key == "id":
                continue
            x, y = a.get(key), b.get(key)
            if isinstance(x, list) or isinstance(y, list):
                merged[key] = _as_list(x) + _as_list(y)
            else:
                merged[key] = "; ".join(str(v).strip() for v in (x, y) if v and str(v).strip())
        notes.append(f"{what}: merged sections {a.get('id')} and {b.get('id')} (at most {limit} sections)")
        sections = [*sections[:i], merged, *sections[i + 2 :]]
    return sections, notes


def _renumber(sections: list[dict[str, Any]], original: list[str]) -> None:
    """Ids stay "1", "2", ... when they were that before the merge."""
    if original == [str(n) for n in range(1, len(original) + 1)]:
        for n, section in enumerate(sections, 1):
            section["id"] = str(n)


def _fit_count(
    sections: list[dict[str, Any]], limit: int, what: str
) -> tuple[list[dict[str, Any]], list[str]]:
    ids = [str(s.get("id", "")) for s in sections]
    merged, notes = _merge_pairs(sections, limit, what)
    if notes:
        _renumber(merged, ids)
    return merged, notes


def _cut_title(section: dict[str, Any], what: str, notes: list[str]) -> None:
    title = str(section.get("title", "")).strip()
    if len(title) > MAX_TITLE:
        cut = title[: MAX_TITLE - 1].rsplit(" ", 1)[0].rstrip(" ;,")
        section["title"] = cut + "…"
        notes.append(f"{what} section {section.get('id')}: title shortened to {MAX_TITLE} characters")


def _sections(data: dict[str, Any], what: str) -> list[dict[str, Any]]:
    sections = data.get("sections")
    if not isinstance(sections, list) or not all(isinstance(s, dict) for s in sections):
        raise ReplyParseError(f'the {what} needs a "sections" list of objects')
    return [dict(s) for s in sections]


def normalise_outline(data: dict[str, Any], max_sections: int = MAX_SECTIONS) -> tuple[Outline, list[str]]:
    """An Outline from a reply's JSON object, with the notes of what was changed."""
    sections, notes = _fit_count(_sections(data, "outline"), max_sections, "outline")
    for section in sections:
        _cut_title(section, "outline", notes)
    try:
        return Outline.model_validate({**data, "sections": sections}), notes
    except ValidationError as exc:
        raise ReplyParseError(validation_message(exc, Outline)) from None


def _fix_section(section: dict[str, Any], notes: list[str]) -> None:
    sid = section.get("id")
    lines = _as_list(section.get("lecture_lines"))
    if len(lines) > MAX_LECTURE_LINES:
        raise ReplyParseError(
            f"storyboard section {sid} has {len(lines)} lecture lines; give at most {MAX_LECTURE_LINES}"
        )
    wrapped: list[str] = []
    for n, line in enumerate(lines, 1):
        pieces = wrap_line(line)
        if len(pieces) > 1:
            notes.append(f"storyboard section {sid}: lecture line {n} wrapped into {len(pieces)} lines")
        wrapped += pieces
    if len(wrapped) > MAX_LECTURE_LINES:
        reason = next(r for line in lines if (r := line_too_long(line)))
        raise ReplyParseError(
            f"storyboard section {sid}: {reason}; keep each line short (at most {MAX_LINE_WORDS} words, "
            f"or {MAX_LINE_CJK_CHARS} characters in Chinese) and at most {MAX_LECTURE_LINES} lines"
        )
    section["lecture_lines"] = wrapped
    animations = _as_list(section.get("animations"))
    if not animations and wrapped:
        animations = [f"Illustrate “{line}” with a diagram in the animation area" for line in wrapped]
        notes.append(f"storyboard section {sid}: no animation steps given; one drawn per lecture line")
    section["animations"] = animations
    fix_elements(section, notes)
    _cut_title(section, "storyboard", notes)


def normalise_storyboard(
    data: dict[str, Any], max_sections: int = MAX_SECTIONS
) -> tuple[Storyboard, list[str]]:
    """A Storyboard from a reply's JSON object, with the notes of what was changed."""
    sections, notes = _fit_count(_sections(data, "storyboard"), max_sections, "storyboard")
    for section in sections:
        _fix_section(section, notes)
    try:
        return Storyboard.model_validate({**data, "sections": sections}), notes
    except ValidationError as exc:
        raise ReplyParseError(validation_message(exc, Storyboard)) from None
