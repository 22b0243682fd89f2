"""The one LLM interface: messages (text, images, video) in; text plus token usage out."""

from __future__ import annotations

import base64
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from c2v.models import TokenUsage


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextPart(_Part):
    type: Literal["text"] = "text"
    text: str


class ImagePart(_Part):
    type: Literal["image"] = "image"
    mime: str = "image/png"
    data_b64: str

    @classmethod
    def from_bytes(cls, data: bytes, mime: str = "image/png") -> ImagePart:
        return cls(mime=mime, data_b64=base64.b64encode(data).decode("ascii"))


class VideoPart(_Part):
    type: Literal["video"] = "video"
    mime: str = "video/mp4"
    data_b64: str


Part = Annotated[TextPart | ImagePart | VideoPart, Field(discriminator="type")]


class Message(_Part):
    role: Literal["system", "user", "assistant"]
    parts: list[Part]

    @classmethod
    def text(cls, role: Literal["system", "user", "assistant"], text: str) -> Message:
        return cls(role=role, parts=[TextPart(text=text)])

    def plain_text(self) -> str:
        return "\n".join(p.text for p in self.parts if isinstance(p, TextPart))


class CallTag(_Part):
    """Who asks and why: used for token accounting, logs and transcript replay."""

    agent: str
    stage: str
    topic: str
    section: str | None = None
    attempt: int | None = None

    @property
    def key(self) -> str:
        parts = [self.agent, self.stage]
        if self.section is not None:
            parts.append(self.section)
        if self.attempt is not None:
            parts.append(str(self.attempt))
        return ".".join(parts)


class LLMRequest(_Part):
    messages: list[Message]
    tag: CallTag
    temperature: float | None = None


class LLMReply(_Part):
    text: str
    usage: TokenUsage
    provider: str
    model: str
    latency_s: float = 0.0


class LLMClient(Protocol):
    """A provider. Implementations translate their SDK's errors into :class:`LLMError`."""

    provider: str
    model: str

    def complete(self, request: LLMRequest) -> LLMReply: ...


def estimate_tokens(text: str) -> int:
    """Rough token count (4 characters a token) for providers that report none."""
    return max(1, (len(text) + 3) // 4)
