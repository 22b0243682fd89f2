"""One question to a model, with bounded re-asking when the reply cannot be parsed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from c2v.errors import ReplyParseError
from c2v.llm.base import CallTag, LLMClient, LLMReply, LLMRequest, Message
from c2v.prompts import render_prompt

T = TypeVar("T")

MAX_PARSE_RETRIES = 2


def ask(
    llm: LLMClient,
    tag: CallTag,
    messages: list[Message],
    parse: Callable[[str], T],
    max_parse_retries: int = MAX_PARSE_RETRIES,
) -> tuple[T, list[LLMReply]]:
    """Send ``messages``; parse the reply; on a parse error quote it back, at most N times.

    Every reply, including the unusable ones, is returned so that its tokens are counted.
    """
    replies: list[LLMReply] = []
    convo = list(messages)
    for round_ in range(max_parse_retries + 1):
        reply = llm.complete(LLMRequest(messages=convo, tag=tag))
        replies.append(reply)
        try:
            return parse(reply.text), replies
        except ReplyParseError as exc:
            if round_ == max_parse_retries:
                raise ReplyParseError(f"{tag.key}: unusable reply after {round_ + 1} tries: {exc}") from exc
            convo += [
                Message.text("assistant", reply.text),
                Message.text("user", render_prompt("reply_repair", error=str(exc))),
            ]
    raise AssertionError("unreachable")
