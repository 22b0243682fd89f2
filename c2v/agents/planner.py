"""Planner: knowledge point -> outline -> storyboard."""

from __future__ import annotations

from c2v.agents.ask import ask
from c2v.agents.storyboard import MAX_SECTIONS, MIN_SECTIONS, normalise_outline, normalise_storyboard
from c2v.core.language import language_rule
from c2v.core.prompts import render_prompt
from c2v.errors import ReplyParseError
from c2v.llm.base import CallTag, LLMClient, LLMReply, Message
from c2v.llm.parsing import extract_json_object
from c2v.models import MAX_LECTURE_LINES, Outline, PlannedOutline, PlannedStoryboard, Storyboard

__all__ = ["MAX_SECTIONS", "MIN_SECTIONS", "Planner"]


class Planner:
    def __init__(self, llm: LLMClient, language: str = "en") -> None:
        self.llm = llm
        self.language = language

    def _messages(self, prompt: str) -> list[Message]:
        system = render_prompt("planner_system", language_rule=language_rule(self.language))
        return [Message.text("system", system), Message.text("user", prompt)]

    def outline_with_notes(self, topic: str) -> tuple[Outline, list[str], list[LLMReply]]:
        """The outline, what was normalised in it (for the manifest), and every reply."""
        prompt = render_prompt(
            "planner_outline", topic=topic, min_sections=MIN_SECTIONS, max_sections=MAX_SECTIONS
        )
        tag = CallTag(agent="planner", stage="outline", topic=topic)
        (outline, notes), replies = ask(
            self.llm,
            tag,
            self._messages(prompt),
            lambda text: normalise_outline(extract_json_object(text, "sections")),
            schema=Outline,
        )
        return outline, notes, replies

    def outline(self, topic: str) -> tuple[Outline, list[LLMReply]]:
        outline, _, replies = self.outline_with_notes(topic)
        return outline, replies

    def storyboard_with_notes(
        self, topic: str, outline: Outline
    ) -> tuple[Storyboard, list[str], list[LLMReply]]:
        """The storyboard, what was normalised in it (for the manifest), and every reply."""
        prompt = render_prompt(
            "planner_storyboard",
            topic=topic,
            outline_json=outline.model_dump_json(indent=2),
            max_lines=MAX_LECTURE_LINES,
            language_rule=language_rule(self.language),
        )
        tag = CallTag(agent="planner", stage="storyboard", topic=topic)
        wanted = [s.id for s in outline.sections]

        def parse(text: str) -> tuple[Storyboard, list[str]]:
            board, notes = normalise_storyboard(
                extract_json_object(text, "sections"), max_sections=len(wanted)
            )
            got = [s.id for s in board.sections]
            if got != wanted:
                raise ReplyParseError(f"storyboard section ids {got} must match the outline's {wanted}")
            return board, notes

        (board, notes), replies = ask(self.llm, tag, self._messages(prompt), parse, schema=Storyboard)
        return board, notes, replies

    def storyboard(self, topic: str, outline: Outline) -> tuple[Storyboard, list[LLMReply]]:
        board, _, replies = self.storyboard_with_notes(topic, outline)
        return board, replies

    # -- the pipeline's calls: one journaled value each, notes included ---------------------
    def planned_outline(self, topic: str) -> tuple[PlannedOutline, list[LLMReply]]:
        outline, notes, replies = self.outline_with_notes(topic)
        return PlannedOutline(outline=outline, notes=notes), replies

    def planned_storyboard(self, topic: str, outline: Outline) -> tuple[PlannedStoryboard, list[LLMReply]]:
        board, notes, replies = self.storyboard_with_notes(topic, outline)
        return PlannedStoryboard(storyboard=board, notes=notes), replies
