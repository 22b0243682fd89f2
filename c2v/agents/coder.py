"""Coder: one Manim scene per storyboard section, and the fixes of the repair loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from c2v.agents.ask import ask
from c2v.agents.edits import apply_reply
from c2v.core.language import language_rule
from c2v.core.prompts import render_prompt
from c2v.core.tiers import layout_hint
from c2v.llm.base import CallTag, LLMClient, LLMReply, Message
from c2v.llm.parsing import extract_python, scene_class
from c2v.models import RenderResult, SectionImage, StoryboardSection
from sandbox.render import manim_version

CONTEXT_LINES = 3
#: A Coder reply that cannot be used is re-asked once with the error quoted; a second
#: unusable reply moves the section to the next rung of the repair ladder instead.
CODER_PARSE_RETRIES = 1


def scene_name_for(section_id: str) -> str:
    return "Section" + "".join(ch if ch.isalnum() else "_" for ch in section_id)


@dataclass(frozen=True)
class FailingLines:
    """The lines around a failure, verbatim (no prefixes), so the model can quote them."""

    line: int
    text: str
    first: int
    last: int
    context: str


def failing_lines(code: str, line: int, radius: int = CONTEXT_LINES) -> FailingLines | None:
    lines = code.splitlines()
    if not 1 <= line <= len(lines):
        return None
    lo, hi = max(1, line - radius), min(len(lines), line + radius)
    return FailingLines(line, lines[line - 1], lo, hi, "\n".join(lines[lo - 1 : hi]))


def _whole_file(scene_name: str) -> Callable[[str], str]:
    """Parser for replies that carry the whole scene file."""

    def parse(text: str) -> str:
        code = extract_python(text, scene_name)
        scene_class(code, scene_name)
        return code

    return parse


def _edits_to(code: str, scene_name: str) -> Callable[[str], str]:
    """Parser for replies that carry SEARCH/REPLACE edits of ``code`` (or the whole new file)."""

    def parse(text: str) -> str:
        return apply_reply(code, text, scene_name).code

    return parse


class Coder:
    def __init__(self, llm: LLMClient, language: str = "en", orientation: str = "landscape") -> None:
        self.llm = llm
        self.language = language
        self.orientation = orientation

    def _messages(self, prompt: str) -> list[Message]:
        system = render_prompt(
            "coder_system",
            manim_version=manim_version(),
            language_rule=language_rule(self.language),
            layout_hint=layout_hint(self.orientation),
        )
        return [Message.text("system", system), Message.text("user", prompt)]

    def write(
        self,
        topic: str,
        section: StoryboardSection,
        total_sections: int,
        previous_failure: str | None = None,
        attempt: int | None = None,
        images: list[SectionImage] | None = None,
    ) -> tuple[str, list[LLMReply]]:
        """First code for a section, or (with ``previous_failure``) a regeneration.

        ``images``: the icon files the render's ``assets/`` folder will hold.
        """
        name = scene_name_for(section.id)
        prompt = render_prompt(
            "coder_section",
            topic=topic,
            section=section,
            total_sections=total_sections,
            scene_name=name,
            min_seconds=8,
            max_seconds=25,
            previous_failure=previous_failure,
            images=images or [],
        )
        stage = "code" if previous_failure is None else "regenerate"
        tag = CallTag(agent="coder", stage=stage, topic=topic, section=section.id, attempt=attempt)

        return ask(self.llm, tag, self._messages(prompt), _whole_file(name), CODER_PARSE_RETRIES)

    def fix_lines(
        self, topic: str, section_id: str, code: str, failure: RenderResult, attempt: int
    ) -> tuple[str, list[LLMReply]]:
        """Targeted fix: the model edits only the failing lines (SEARCH/REPLACE)."""
        where = failing_lines(code, failure.error_line or 0)
        prompt = render_prompt(
            "coder_fix_lines",
            section_id=section_id,
            manim_version=manim_version(),
            message=failure.message,
            error_line=where.line if where else 0,
            failing_line=where.text if where else "",
            context_first=where.first if where else 0,
            context_last=where.last if where else 0,
            context=where.context if where else "",
            traceback="\n".join(failure.traceback.splitlines()[-12:]),
        )
        tag = CallTag(agent="coder", stage="fix_lines", topic=topic, section=section_id, attempt=attempt)
        name = scene_name_for(section_id)

        return ask(self.llm, tag, self._messages(prompt), _edits_to(code, name), CODER_PARSE_RETRIES)

    def fix_file(
        self, topic: str, section_id: str, code: str, failure: RenderResult, attempt: int
    ) -> tuple[str, list[LLMReply]]:
        """Whole-file fix: the model rewrites the scene with the error quoted."""
        name = scene_name_for(section_id)
        prompt = render_prompt(
            "coder_fix_file",
            section_id=section_id,
            manim_version=manim_version(),
            status=failure.status.value,
            message=failure.message,
            traceback="\n".join(failure.traceback.splitlines()[-12:]),
            code=code,
            scene_name=name,
        )
        tag = CallTag(agent="coder", stage="fix_file", topic=topic, section=section_id, attempt=attempt)

        return ask(self.llm, tag, self._messages(prompt), _whole_file(name), CODER_PARSE_RETRIES)

    def revise(
        self, topic: str, section_id: str, code: str, issues: list[str], round_: int
    ) -> tuple[str, list[LLMReply]]:
        """Layout revision asked for by the critic loop: edits quoting every open issue."""
        prompt = render_prompt("coder_revise", section_id=section_id, issues=issues, code=code)
        tag = CallTag(agent="coder", stage="revise", topic=topic, section=section_id, attempt=round_)
        name = scene_name_for(section_id)

        return ask(self.llm, tag, self._messages(prompt), _edits_to(code, name), CODER_PARSE_RETRIES)
