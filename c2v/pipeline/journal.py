"""The call journal: answer an agent call from the case's ``calls/``, or ask and record it.

Every answer is stored before it is used and looked up before anything is asked again, so a
killed run resumes without repeating a paid call. The key of a call is its tag and a digest
of everything its answer depends on (:meth:`c2v.case.CaseDir.call_key`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from c2v.case import CallRecord, CaseDir
from c2v.errors import C2VError, LLMError, ReplyParseError
from c2v.llm.base import CallTag
from c2v.models import RunCounters
from c2v.pipeline.executor import AgentCall, AgentOutcome
from c2v.pipeline.loop import EventLoop

log = structlog.get_logger("c2v.pipeline")


class Journal:
    def __init__(self, case: CaseDir, loop: EventLoop, counters: RunCounters) -> None:
        self.case = case
        self.loop = loop
        self.counters = counters
        #: Keys of every call this run used (asked or reused): the manifest counts their tokens.
        self.used: set[str] = set()
        #: Seconds the model took to answer the Coder's calls, summed over calls.
        self.coder_task_s = 0.0

    def ask(
        self,
        tag: CallTag,
        inputs: dict[str, Any],
        call: AgentCall,
        load: Callable[[str], Any],
        then: Callable[[Any], None],
        on_error: Callable[[C2VError], None] | None = None,
    ) -> None:
        """Answer ``call`` from the journal, or submit it and journal the answer; then ``then``.

        A provider failure or an unusable reply goes to ``on_error`` when one is given (the
        critic and the section runner decide what it means), else it stops the run. Nothing
        is journaled under the call's key then, so a later run asks again; when ``on_error``
        returns, the unusable replies are kept under another key (paid for, so counted).
        """
        key = self.case.call_key(tag, inputs)
        self.used.add(key)
        # Unusable replies earlier runs paid for on the way to this call count as used too.
        self.used.update(p.stem for p in (self.case.root / "calls").glob(f"{key}-failed*.json"))
        stored = self.case.load_call(key)
        if stored is not None:
            self.counters.llm_calls_reused += 1
            log.info("llm_call_reused", key=key)
            then(load(stored.payload))
            return

        def on_done(outcome: AgentOutcome) -> None:
            try:
                value, replies = outcome.unwrap()
            except (LLMError, ReplyParseError) as exc:
                if on_error is None:
                    raise
                log.warning("llm_call_failed", key=key, error=str(exc))
                on_error(exc)
                self._record_unusable(key, tag, exc)
                return
            payload = value if isinstance(value, str) else value.model_dump_json(indent=2)
            self.case.save_call(CallRecord(key=key, tag=tag, payload=payload, replies=replies))
            self.counters.llm_calls += len(replies)
            if tag.agent == "coder":
                self.coder_task_s += sum(r.latency_s for r in replies)
            log.info("llm_call", key=key, replies=len(replies), tokens=sum(r.usage.total for r in replies))
            then(value)

        self.loop.call(call, on_done)

    def _record_unusable(self, key: str, tag: CallTag, exc: C2VError) -> None:
        unusable = exc.replies if isinstance(exc, ReplyParseError) else []
        if not unusable:
            return
        # Under a key no lookup asks for, numbered so that a rerun's unusable replies never
        # overwrite an earlier run's: every paid reply stays in calls/.
        n = 1
        while self.case.load_call(f"{key}-failed{n}") is not None:
            n += 1
        failed = CallRecord(key=f"{key}-failed{n}", tag=tag, payload="", replies=unusable, error=str(exc))
        self.case.save_call(failed)
        self.used.add(failed.key)
        self.counters.llm_calls += len(unusable)

    def used_calls(self) -> list[CallRecord]:
        return [c for c in self.case.all_calls() if c.key in self.used]

    def adopt_all(self) -> None:
        """Count every call the case holds as used (a rerender's frozen code was paid for by them)."""
        self.used = {call.key for call in self.case.all_calls()}
