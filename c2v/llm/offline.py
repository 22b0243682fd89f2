"""The ``offline`` provider: replays bundled transcripts, so c2v runs with no API key.

Replies are raw model-style text and go through the same parsers as real replies. Token
counts are estimated from the prompt and reply lengths, so accounting works end to end.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from c2v.errors import TranscriptError, UnknownTopicError
from c2v.llm.base import LLMReply, LLMRequest, estimate_tokens
from c2v.models import TokenUsage


@dataclass(frozen=True)
class Transcript:
    slug: str
    topic: str
    aliases: tuple[str, ...]
    language: str
    folder: Path

    def reply(self, key: str) -> str:
        path = self.folder / f"{key}.md"
        if not path.is_file():
            raise TranscriptError(f"offline transcript {self.slug!r} has no reply for call {key!r}")
        return path.read_text(encoding="utf-8")


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\W_]+", " ", text).strip()


def transcripts_root() -> Path:
    return Path(str(resources.files("c2v.llm"))) / "transcripts"


@cache
def bundled_transcripts() -> tuple[Transcript, ...]:
    found = []
    for meta in sorted(transcripts_root().glob("*/topic.json")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        found.append(
            Transcript(
                slug=meta.parent.name,
                topic=data["topic"],
                aliases=tuple(data.get("aliases", [])),
                language=data.get("language", "en"),
                folder=meta.parent,
            )
        )
    return tuple(found)


def find_transcript(topic: str) -> Transcript:
    wanted = _norm(topic)
    for t in bundled_transcripts():
        if wanted in {_norm(t.topic), _norm(t.slug), *(_norm(a) for a in t.aliases)}:
            return t
    names = ", ".join(repr(t.topic) for t in bundled_transcripts())
    raise UnknownTopicError(f"the offline provider has no transcript for {topic!r}; bundled topics: {names}")


class OfflineLLM:
    provider = "offline"
    model = "offline-transcript"

    def complete(self, request: LLMRequest) -> LLMReply:
        started = time.monotonic()
        transcript = find_transcript(request.tag.topic)
        text = transcript.reply(request.tag.key)
        prompt = "\n".join(m.plain_text() for m in request.messages)
        return LLMReply(
            text=text,
            usage=TokenUsage(input=estimate_tokens(prompt), output=estimate_tokens(text)),
            provider=self.provider,
            model=self.model,
            latency_s=round(time.monotonic() - started, 4),
        )
