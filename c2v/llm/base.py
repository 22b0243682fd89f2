"""The one LLM interface: messages (text, images, video) in; text plus token usage out."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field

from c2v.models import TokenUsage


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextPart(_Part):
    type: Literal["text"] = "text"
    text: str


class _MediaPart(_Part):
    mime: str
    data_b64: str

    @classmethod
    def from_bytes(cls, data: bytes, mime: str | None = None) -> Self:
        fields = {"data_b64": base64.b64encode(data).decode("ascii")}
        if mime is not None:
            fields["mime"] = mime
        return cls.model_validate(fields)

    def raw(self) -> bytes:
        return base64.b64decode(self.data_b64)

    def data_url(self) -> str:
        return f"data:{self.mime};base64,{self.data_b64}"


class ImagePart(_MediaPart):
    type: Literal["image"] = "image"
    mime: str = "image/png"


class VideoPart(_MediaPart):
    type: Literal["video"] = "video"
    mime: str = "video/mp4"


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


class ResponseSchema(_Part):
    """The JSON schema a reply should follow, for providers that can enforce one.

    Built by :func:`c2v.llm.schema.response_schema` from a pydantic model. Providers that
    cannot enforce it ignore it; replies are validated with pydantic either way.
    """

    name: str
    json_schema: dict[str, Any]


class LLMRequest(_Part):
    messages: list[Message]
    tag: CallTag
    temperature: float | None = None
    response_schema: ResponseSchema | None = None


class LLMReply(_Part):
    text: str
    usage: TokenUsage
    provider: str
    model: str
    latency_s: float = 0.0
    #: The model stopped at its output token limit: the text is incomplete.
    truncated: bool = False


class LLMClient(Protocol):
    """A provider. Implementations translate their SDK's errors into :class:`LLMError`."""

    provider: str
    model: str

    def complete(self, request: LLMRequest) -> LLMReply: ...


def estimate_tokens(text: str) -> int:
    """Rough token count (4 characters a token) for providers that report none."""
    return max(1, (len(text) + 3) // 4)


#: What one image or video costs in input tokens, roughly, for rate-limit reservations.
MEDIA_PART_TOKENS = 1000


def estimate_request_tokens(request: LLMRequest) -> int:
    """Rough input tokens of a whole request: its text plus a flat amount per image or video."""
    text = "\n".join(m.plain_text() for m in request.messages)
    media = sum(1 for m in request.messages for p in m.parts if not isinstance(p, TextPart))
    return estimate_tokens(text) + MEDIA_PART_TOKENS * media
