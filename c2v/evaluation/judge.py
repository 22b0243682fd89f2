"""The judge: one vision model behind the generation providers, with a journal of its answers.

Messages are built only when the journal has no answer (a video may need sampling into
frames). Every answer is stored under ``PATH/eval/calls/<key>.json`` (the same call record and
atomic writes as a case's ``calls/``) before it is used, so a rerun reads it back and asks
nothing again. The key digests everything that decides the answer: the provider and model,
the prompt, the options' order and the video's hash.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from c2v.agents.ask import ask
from c2v.case import CallRecord, CaseDir
from c2v.errors import ConfigError, ReplyParseError
from c2v.llm.base import CallTag, LLMClient, LLMReply, LLMRequest, Message, Part, VideoPart
from c2v.llm.frames import without_video
from c2v.llm.ratelimit import LocalRateGate
from c2v.llm.registry import make_llm
from c2v.llm.schema import response_schema
from c2v.llm.settings import ProviderKind, ProviderSettings, require_usable
from c2v.models import TokenTotals
from c2v.tokens import token_totals

T = TypeVar("T")
R = TypeVar("R")
JUDGE_ROLE = "critic"  # the judge is the run's vision model


def judge_llm(settings: ProviderSettings) -> LLMClient:
    """The judge's client, paced by the provider's rpm/tpm limits within this process."""
    if settings.kind is ProviderKind.offline:
        raise ConfigError(
            "the offline provider replays generation transcripts and cannot judge videos; "
            "give --api a vision model (gemini, gpt41, claude, openai-compatible, ...)"
        )
    require_usable(settings)
    return make_llm(settings, JUDGE_ROLE, LocalRateGate(settings.rpm, settings.tpm))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Judge:
    def __init__(self, llm: LLMClient, eval_dir: Path, workers: int = 4) -> None:
        self.llm = llm
        self.journal = CaseDir(eval_dir)  # its calls/ folder is the journal
        self.workers = max(1, workers)
        self.calls = 0
        self.reused = 0
        self._used: dict[str, CallRecord] = {}
        self._media: dict[Path, list[Part]] = {}
        self._lock = threading.Lock()

    def video_parts(self, video: Path) -> list[Part]:
        """The video as this judge takes it: whole, or sampled once into frames (reused per call)."""
        with self._lock:
            if video in self._media:
                return self._media[video]
        part = VideoPart.from_bytes(video.read_bytes(), "video/mp4")
        parts: list[Part] = [part]
        if not getattr(self.llm, "accepts_video", False):
            parts = without_video([Message(role="user", parts=[part])])[0].parts
        with self._lock:
            self._media[video] = parts
        return parts

    def _key(self, tag: CallTag, inputs: object) -> str:
        return self.journal.call_key(
            tag, {"provider": self.llm.provider, "model": self.llm.model, "in": inputs}
        )

    def _remember(self, record: CallRecord, reused: bool) -> None:
        with self._lock:
            self._used[record.key] = record
            if reused:
                self.reused += 1
            else:
                self.calls += 1

    def once(
        self, tag: CallTag, inputs: object, messages: Callable[[], list[Message]], schema: type[BaseModel]
    ) -> str:
        """One reply's text, asked once (an unusable reply is data for the caller)."""
        key = self._key(tag, inputs)
        if (found := self.journal.load_call(key)) is not None:
            self._remember(found, reused=True)
            return found.payload
        reply = self.llm.complete(
            LLMRequest(messages=messages(), tag=tag, response_schema=response_schema(schema))
        )
        record = CallRecord(key=key, tag=tag, payload=reply.text, replies=[reply])
        self.journal.save_call(record)
        self._remember(record, reused=False)
        return reply.text

    def structured(
        self,
        tag: CallTag,
        inputs: object,
        messages: Callable[[], list[Message]],
        model: type[BaseModel],
        parse: Callable[[str], T],
    ) -> str | None:
        """The JSON text of a reply that ``parse`` accepts (re-asked within bounds), or None."""
        key = self._key(tag, inputs)
        if (found := self.journal.load_call(key)) is not None:
            self._remember(found, reused=True)
            return None if found.error else found.payload
        replies: list[LLMReply]
        try:
            value, replies = ask(self.llm, tag, messages(), parse, schema=model)
            payload, error = json.dumps(_dump(value), ensure_ascii=False), None
        except ReplyParseError as exc:
            replies = [r for r in exc.replies if isinstance(r, LLMReply)]
            payload, error = "", str(exc)
        record = CallRecord(key=key, tag=tag, payload=payload, replies=replies, error=error)
        self.journal.save_call(record)
        self._remember(record, reused=False)
        return None if error else payload

    def map(self, func: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``func`` over ``items`` on the judge's worker threads, results in order."""
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="judge") as pool:
            return list(pool.map(func, items))

    def totals(self) -> TokenTotals:
        """Tokens and cost of every answer this evaluation used (journaled ones included)."""
        with self._lock:
            records = list(self._used.values())
        return token_totals(records, getattr(getattr(self.llm, "settings", None), "prices", None))


def _dump(value: object) -> object:
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value
