"""Scripted vision judges on the real wires: Gemini ``generateContent`` (video inline) and
OpenAI Chat Completions (video as image frames), served by :class:`tests.llm_fakes.FakeProvider`.

The judge reads each request as a model would see it: the quiz question and the options in
the order shown, whether the unlearning instruction is there, and whether a video (Gemini:
an ``inlineData`` part of type video/mp4) or frames (OpenAI: ``image_url`` parts) came with
it. A policy function decides the reply text; the key file tells it which shown letter is
right. AES prompts get the reply of ``aes_policy``.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.llm_fakes import Action, Recorded, Reply, gemini_reply, openai_chat

_QUESTION = re.compile(r"^Question: (.+)$", re.MULTILINE)
_OPTION = re.compile(r"^([A-D])\. (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class QuizAsk:
    """One quiz request, as the judge saw it."""

    stage: str  # plain | unlearned | video
    topic: str
    index: int  # the question's index in its topic's list
    options: dict[str, str]  # shown letter -> text
    correct: str  # the shown letter of the right answer
    media: int  # video parts (Gemini) or image frames (OpenAI) attached
    schema: Any  # the structured-output schema sent, if any

    def wrong(self) -> str:
        return next(k for k in "ABCD" if k != self.correct)


def right(ask: QuizAsk) -> str:
    return json.dumps({"answer": ask.correct})


def aes_reply(score: int = 14, reason: str = "clear") -> str:
    dims = ("element_layout", "attractiveness", "logic_flow", "accuracy_depth", "visual_consistency")
    return json.dumps({d: {"score": score, "reason": reason} for d in dims})


@dataclass
class ScriptedJudge:
    """A responder for FakeProvider: ``wire`` is "gemini" or "openai"."""

    questions: dict[str, list[dict[str, Any]]]
    policy: Callable[[QuizAsk], str] = right
    aes_policy: Callable[[int], str] = lambda n: aes_reply()
    wire: str = "gemini"
    model: str = ""
    asked: list[QuizAsk] = field(default_factory=list)
    aes_calls: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- reading the request ---------------------------------------------------------------
    def _parts(self, body: dict[str, Any]) -> tuple[str, int, Any]:
        if self.wire == "gemini":
            texts, media = [], 0
            for content in body.get("contents", []):
                for part in content.get("parts", []):
                    if "text" in part:
                        texts.append(part["text"])
                    elif "inlineData" in part:
                        inline = part["inlineData"]  # the SDK writes mime_type; the REST docs say mimeType
                        mime = inline.get("mimeType") or inline.get("mime_type") or ""
                        media += int(mime.startswith("video/"))
            return "\n".join(texts), media, body.get("generationConfig", {}).get("responseJsonSchema")
        texts, media = [], 0
        for message in body.get("messages", []):
            if message["role"] != "user":
                continue
            content = message["content"]
            if isinstance(content, str):
                texts.append(content)
                continue
            for part in content:
                if part.get("type") == "text":
                    texts.append(part["text"])
                elif part.get("type") == "image_url":
                    media += 1
        return "\n".join(texts), media, body.get("response_format")

    def _quiz(self, text: str, media: int, schema: Any) -> QuizAsk:
        question = _QUESTION.search(text)
        options = dict(_OPTION.findall(text))
        if question is None or len(options) != 4:
            raise LookupError("not a quiz prompt")
        for topic, items in self.questions.items():
            for index, item in enumerate(items):
                if item["question"] == question.group(1).strip():
                    truth = item["options"][item["answer"]]
                    correct = next(k for k, v in options.items() if v.strip() == truth)
                    if media:
                        stage = "video"
                    elif "never learned" in text:
                        stage = "unlearned"
                    else:
                        stage = "plain"
                    return QuizAsk(stage, topic, index, options, correct, media, schema)
        raise LookupError(f"unknown question {question.group(1)!r}")

    # -- answering -------------------------------------------------------------------------
    def _wrap(self, text: str) -> Reply:
        if self.wire == "gemini":
            return Reply(body=gemini_reply(text, model=self.model or "gemini-2.5-flash", usage=(300, 12)))
        return Reply(body=openai_chat(text, model=self.model or "judge-vl", usage=(300, 12)))

    def __call__(self, rec: Recorded) -> Action:
        text, media, schema = self._parts(rec.json or {})
        with self._lock:
            self.counts["requests"] += 1
        if "five dimensions" in text:
            with self._lock:
                self.aes_calls += 1
                n = self.aes_calls
            return self._wrap(self.aes_policy(n))
        try:
            ask = self._quiz(text, media, schema)
        except LookupError as exc:
            return Reply(400, {"error": {"code": 400, "message": str(exc), "status": "INVALID_ARGUMENT"}})
        with self._lock:
            self.asked.append(ask)
        return self._wrap(self.policy(ask))
