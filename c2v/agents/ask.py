"""One question to a model, with bounded re-asking when the reply cannot be used."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from c2v.core.prompts import render_prompt
from c2v.errors import ReplyParseError
from c2v.llm.base import CallTag, LLMClient, LLMReply, LLMRequest, Message
from c2v.llm.schema import response_schema

T = TypeVar("T")

MAX_PARSE_RETRIES = 2


def ask(
    llm: LLMClient,
    tag: CallTag,
    messages: list[Message],
    parse: Callable[[str], T],
    max_parse_retries: int = MAX_PARSE_RETRIES,
    schema: type[BaseModel] | None = None,
) -> tuple[T, list[LLMReply]]:
    """Send ``messages``; parse the reply; on a parse error quote it back, at most N times.

    With ``schema``, providers that support structured output are asked for JSON of that
    shape; the reply is still parsed and validated by ``parse``. A reply cut off at the
    output token limit is never parsed (a prefix of a scene can look complete): the model
    is asked for the whole answer again, within the same bound. Every reply, including
    the unusable ones, is returned so that its tokens are counted.
    """
    replies: list[LLMReply] = []
    convo = list(messages)
    wanted = response_schema(schema) if schema is not None else None
    for round_ in range(max_parse_retries + 1):
        reply = llm.complete(LLMRequest(messages=convo, tag=tag, response_schema=wanted))
        replies.append(reply)
        try:
            if reply.truncated:
                raise ReplyParseError("the reply was cut off at the output token limit")
            return parse(reply.text), replies
        except ReplyParseError as exc:
            if round_ == max_parse_retries:
                message = f"{tag.key}: unusable reply after {round_ + 1} tries: {exc}"
                raise ReplyParseError(message, replies) from exc
            follow_up = (
                render_prompt("reply_truncated")
                if reply.truncated
                else render_prompt("reply_repair", error=str(exc))
            )
            convo += [Message.text("assistant", reply.text), Message.text("user", follow_up)]
    raise AssertionError("unreachable")
