"""Planner: knowledge point -> outline -> storyboard."""

from __future__ import annotations

from c2v.agents.ask import ask
from c2v.errors import ReplyParseError
from c2v.language import language_rule
from c2v.llm.base import CallTag, LLMClient, LLMReply, Message
from c2v.llm.parsing import extract_json
from c2v.models import MAX_LECTURE_LINES, Outline, Storyboard
from c2v.prompts import render_prompt

MIN_SECTIONS, MAX_SECTIONS = 4, 6


class Planner:
    def __init__(self, llm: LLMClient, language: str = "en") -> None:
        self.llm = llm
        self.language = language

    def _messages(self, prompt: str) -> list[Message]:
        system = render_prompt("planner_system", language_rule=language_rule(self.language))
        return [Message.text("system", system), Message.text("user", prompt)]

    def outline(self, topic: str) -> tuple[Outline, list[LLMReply]]:
        prompt = render_prompt(
            "planner_outline", topic=topic, min_sections=MIN_SECTIONS, max_sections=MAX_SECTIONS
        )
        tag = CallTag(agent="planner", stage="outline", topic=topic)
        return ask(
            self.llm, tag, self._messages(prompt), lambda text: extract_json(text, Outline), schema=Outline
        )

    def storyboard(self, topic: str, outline: Outline) -> tuple[Storyboard, list[LLMReply]]:
        prompt = render_prompt(
            "planner_storyboard",
            topic=topic,
            outline_json=outline.model_dump_json(indent=2),
            max_lines=MAX_LECTURE_LINES,
            language_rule=language_rule(self.language),
        )
        tag = CallTag(agent="planner", stage="storyboard", topic=topic)

        def parse(text: str) -> Storyboard:
            board = extract_json(text, Storyboard)
            wanted = [s.id for s in outline.sections]
            got = [s.id for s in board.sections]
            if got != wanted:
                raise ReplyParseError(f"storyboard section ids {got} must match the outline's {wanted}")
            return board

        return ask(self.llm, tag, self._messages(prompt), parse, schema=Storyboard)
