"""Critic: a vision model reviews keyframes (anchor grid drawn on) and answers in anchors."""

from __future__ import annotations

import base64
import re

from pydantic import ValidationError

from c2v.agents.ask import ask
from c2v.core.language import LANGUAGE_NAMES
from c2v.core.prompts import render_prompt
from c2v.core.tiers import layout_hint
from c2v.errors import ReplyParseError
from c2v.llm.base import CallTag, ImagePart, LLMClient, LLMReply, Message, TextPart, VideoPart
from c2v.llm.parsing import extract_json_object, validation_message
from c2v.models import CriticReport, LayoutIssue, StoryboardSection

_PLACE = re.compile(r"place_at\(\s*[\"']([A-Fa-f][1-6])[\"']")
_ANCHOR = re.compile(r"^[A-Fa-f][1-6]$")


def parse_report(text: str) -> CriticReport:
    """The critic's JSON; an anchor outside A1-F6 is dropped from its issue, which is kept.

    The problem a model saw is still worth fixing when it names a cell the grid lacks
    ("G7"); the fix text says which anchor was dropped so the Coder is not misled.
    """
    data = extract_json_object(text, "issues")
    issues = data.get("issues")
    if isinstance(issues, list):
        for issue in issues:
            anchor = issue.get("anchor") if isinstance(issue, dict) else None
            if isinstance(anchor, str) and not _ANCHOR.match(anchor.strip()):
                issue["anchor"] = None
                note = f"(anchor {anchor[:8]!r} is outside the grid A1-F6)"
                issue["fix"] = f"{issue.get('fix') or ''} {note}".strip()
            elif isinstance(anchor, str):
                issue["anchor"] = anchor.strip().upper()
    try:
        return CriticReport.model_validate(data)
    except ValidationError as exc:
        raise ReplyParseError(validation_message(exc, CriticReport)) from None


def placements(code: str) -> list[tuple[int, str]]:
    """(line, stripped source) of every place_at call: the table the critic answers against."""
    return [(n, line.strip()[:120]) for n, line in enumerate(code.splitlines(), 1) if _PLACE.search(line)]


class Critic:
    def __init__(self, llm: LLMClient, language: str = "en", orientation: str = "landscape") -> None:
        self.llm = llm
        self.language = language
        self.orientation = orientation

    def review(
        self,
        topic: str,
        section: StoryboardSection,
        code: str,
        lint: list[LayoutIssue],
        keyframes: list[bytes],
        video: bytes | None,
        round_: int,
    ) -> tuple[CriticReport, list[LLMReply]]:
        with_video = video is not None and bool(getattr(self.llm, "accepts_video", False))
        prompt = render_prompt(
            "critic_review",
            topic=topic,
            section=section,
            placements=placements(code),
            lint=lint,
            with_video=with_video,
            language_name=LANGUAGE_NAMES[self.language],
            layout_hint=layout_hint(self.orientation),
        )
        parts: list[TextPart | ImagePart | VideoPart] = [TextPart(text=prompt)]
        parts += [ImagePart.from_bytes(png) for png in keyframes]
        if with_video and video is not None:
            parts.append(VideoPart(data_b64=base64.b64encode(video).decode("ascii")))
        messages = [Message.text("system", render_prompt("critic_system")), Message(role="user", parts=parts)]
        tag = CallTag(agent="critic", stage="review", topic=topic, section=section.id, attempt=round_)
        return ask(self.llm, tag, messages, parse_report, schema=CriticReport)
