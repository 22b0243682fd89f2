"""What the Planner produces: outline, storyboard sections, visual elements, narration."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from c2v.models.base import (
    MAX_LECTURE_LINES,
    MAX_LINE_CJK_CHARS,
    MAX_LINE_WORDS,
    MAX_NARRATION_CHARS,
    MAX_VISUAL_ELEMENTS,
    SectionId,
    Strict,
)


# --- planning --------------------------------------------------------------------------
class OutlineSection(Strict):
    id: SectionId
    title: str = Field(min_length=1, max_length=120)
    content: str = Field(min_length=1)
    example: str = ""


class Outline(Strict):
    topic: str
    audience: str = ""
    sections: list[OutlineSection] = Field(min_length=1, max_length=12)

    @field_validator("sections")
    @classmethod
    def _unique_ids(cls, sections: list[OutlineSection]) -> list[OutlineSection]:
        ids = [s.id for s in sections]
        if len(set(ids)) != len(ids):
            raise ValueError(f"section ids must be unique, got {ids}")
        return sections


_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    """True when ``text`` has Chinese, Japanese or Korean characters (measured in characters)."""
    return _CJK.search(text) is not None


def line_too_long(line: str) -> str | None:
    """Why a lecture line is too long, or None.

    Code2Video's "about 10 words" means nothing in Chinese, which has no spaces: a line
    with CJK characters is measured in characters (at most MAX_LINE_CJK_CHARS, spaces
    not counted), any other line in words (at most MAX_LINE_WORDS).
    """
    if _CJK.search(line):
        chars = sum(1 for ch in line if not ch.isspace())
        if chars > MAX_LINE_CJK_CHARS:
            return f"lecture line has {chars} characters, more than {MAX_LINE_CJK_CHARS}: {line!r}"
        return None
    words = len(line.split())
    if words > MAX_LINE_WORDS:
        return f"lecture line has more than {MAX_LINE_WORDS} words: {line!r}"
    return None


class VisualElement(Strict):
    """A picture the Planner asks for ("magnifying glass"), resolved to an icon file before coding."""

    name: str = Field(min_length=1, max_length=60, pattern=r"[A-Za-z]")
    purpose: str = Field(default="", max_length=160)


class StoryboardSection(Strict):
    id: SectionId
    title: str = Field(min_length=1, max_length=120)
    lecture_lines: list[str] = Field(min_length=1, max_length=MAX_LECTURE_LINES)
    animations: list[str] = Field(min_length=1)
    #: What the narrator says while each lecture line is highlighted (one entry per line);
    #: empty in storyboards written before narration existed: such a section is silent.
    narration: list[Annotated[str, Field(max_length=MAX_NARRATION_CHARS)]] = Field(default_factory=list)
    #: Optional, so storyboards written before icons existed still load.
    visual_elements: list[VisualElement] = Field(default_factory=list, max_length=MAX_VISUAL_ELEMENTS)

    @field_validator("lecture_lines")
    @classmethod
    def _short_lines(cls, lines: list[str]) -> list[str]:
        for line in lines:
            if reason := line_too_long(line):
                raise ValueError(reason)
        return lines

    @model_validator(mode="after")
    def _narration_per_line(self) -> StoryboardSection:
        if self.narration and len(self.narration) != len(self.lecture_lines):
            raise ValueError(
                f"section {self.id}: {len(self.narration)} narration entries for "
                f"{len(self.lecture_lines)} lecture lines (one per line)"
            )
        return self


class Storyboard(Strict):
    topic: str
    sections: list[StoryboardSection] = Field(min_length=1, max_length=12)

    def section(self, section_id: str) -> StoryboardSection:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)


class PlannedOutline(Strict):
    """An outline as the planner's call returns it: with what was normalised in the reply."""

    outline: Outline
    notes: list[str] = Field(default_factory=list)


class PlannedStoryboard(Strict):
    """A storyboard as the planner's call returns it: with what was normalised in the reply."""

    storyboard: Storyboard
    notes: list[str] = Field(default_factory=list)
