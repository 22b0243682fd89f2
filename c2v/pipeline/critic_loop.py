"""The critic loop: review rendered sections, revise only the flagged ones, re-render them.

Each round, every section still under review gets the layout lint of its preview render
and a critic reply (keyframes with the anchor grid drawn on). Anchor moves the critic
asks for are applied as line edits; other issues go to the Coder, whose revision is
rendered (and repaired if it breaks, or reverted if it cannot be). Sections with nothing
to fix leave the loop; the loop stops early when no section changed. A section the critic
passes (no blocking lint issue, no critic issue) starts its final-tier render at once, while
the others are still revised. Renders are cached by content, so an unchanged section is
never rendered twice.

The loop sees the sections only through :class:`SectionPort` and returns its rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from c2v.core.progress import Reporter
from c2v.core.tiers import VideoFormat
from c2v.errors import C2VError, stops_topic
from c2v.llm.base import CallTag
from c2v.models import (
    AttemptKind,
    CriticReport,
    FeedbackRound,
    ReviewChange,
    SectionReview,
    SectionStatus,
)
from c2v.pipeline.executor import AgentCall, Role
from c2v.pipeline.sections import SectionRun, Snapshot
from c2v.review.keyframes import keyframes_png
from c2v.review.revise import blocking, plan_revision

log = structlog.get_logger("c2v.feedback")


class SectionPort(Protocol):
    """What the critic loop may do to sections (:class:`c2v.pipeline.sections.SectionRunner`)."""

    runs: list[SectionRun]
    fmt: VideoFormat | None

    def ask(
        self,
        tag: CallTag,
        inputs: dict[str, Any],
        call: AgentCall,
        load: Callable[[str], Any],
        then: Callable[[Any], None],
        on_error: Callable[[C2VError], None] | None = None,
    ) -> None: ...
    def submit(self, run: SectionRun, kind: AttemptKind, code: str) -> None: ...
    def drain(self) -> None: ...
    def video(self, run: SectionRun) -> Path | None: ...
    def counts(self) -> tuple[int, int]: ...
    def checkpoint(self, run: SectionRun) -> Snapshot: ...
    def restore(self, run: SectionRun, snap: Snapshot) -> None: ...
    def start_final(self, run: SectionRun) -> None: ...


@dataclass(frozen=True)
class Revision:
    """What the Coder is asked to change in a section's code, and the attempt it becomes."""

    code: str
    issues: list[str]
    number: int
    kind: AttemptKind


def ask_revision(
    sections: SectionPort,
    topic: str,
    run: SectionRun,
    revision: Revision,
    unusable: Callable[[C2VError], None],
) -> None:
    """Ask the Coder (journaled) to revise ``run``'s code for ``issues``; render what it sends."""
    tag = CallTag(agent="coder", stage="revise", topic=topic, section=run.id, attempt=revision.number)
    inputs = {"code": revision.code, "issues": revision.issues}
    call = AgentCall(Role.coder, "revise", (topic, run.id, revision.code, revision.issues, revision.number))
    sections.ask(tag, inputs, call, str, lambda code: sections.submit(run, revision.kind, code), unusable)


class CriticLoop:
    def __init__(self, topic: str, sections: SectionPort, reporter: Reporter) -> None:
        self.topic = topic
        self.sections = sections
        self.report = reporter
        self._before: dict[str, Snapshot] = {}

    def run(self, rounds: int) -> list[FeedbackRound]:
        done: list[FeedbackRound] = []
        under_review = [r for r in self.sections.runs if r.status is SectionStatus.ok]
        for number in range(1, rounds + 1):
            if not under_review:
                break
            self.report.stage(f"critic round {number}")
            renders, reused = self.sections.counts()
            reviews: dict[str, SectionReview] = {}
            self._before = {}
            for run in under_review:
                reviews[run.id] = self._review(run, number)
            self.sections.drain()
            changed = self._settle(under_review, reviews)
            renders_after, reused_after = self.sections.counts()
            done.append(
                FeedbackRound(
                    round=number,
                    sections=list(reviews.values()),
                    renders=renders_after - renders,
                    renders_reused=reused_after - reused,
                )
            )
            log.info("critic_round", round=number, changed=[r.id for r in changed])
            under_review = changed
        return done

    # -- one section ------------------------------------------------------------------------
    def _review(self, run: SectionRun, number: int) -> SectionReview:
        result = run.result
        lint = result.layout_issues if result else []
        review = SectionReview(id=run.id, lint_before=lint)
        video_path = self.sections.video(run)
        keyframes: list[bytes] = []
        video: bytes | None = None
        fmt = self.sections.fmt
        if video_path is not None and result is not None and fmt is not None:
            keyframes = keyframes_png(
                video_path,
                result.keyframe_times,
                result.video_duration_s or 0.0,
                fmt.frame_width,
                fmt.frame_height,
            )
            video = video_path.read_bytes()
        tag = CallTag(agent="critic", stage="review", topic=self.topic, section=run.id, attempt=number)
        inputs = {"code": run.code, "lint": [i.model_dump(mode="json") for i in lint], "round": number}
        call = AgentCall(
            Role.critic, "review", (self.topic, run.board, run.code, lint, keyframes, video, number)
        )

        def then(report: CriticReport) -> None:
            review.critic = report.issues
            if not report.issues and not blocking(lint):
                self.sections.start_final(run)  # passed: its final render need not wait for the loop
            self._revise(run, review, number)

        def on_error(exc: C2VError) -> None:
            # Recorded, never taken for "no issues": the lint alone decides this round.
            review.critic_error = str(exc)
            self._revise(run, review, number)

        self.sections.ask(tag, inputs, call, CriticReport.model_validate_json, then, on_error)
        return review

    def _revise(self, run: SectionRun, review: SectionReview, number: int) -> None:
        plan = plan_revision(run.code, review.lint_before, review.critic)
        if not plan.edited_lines and not plan.needs_coder:
            return
        self._before[run.id] = self.sections.checkpoint(run)
        if not plan.needs_coder:
            review.change = ReviewChange.anchor_edit
            self.sections.submit(run, AttemptKind.anchor_edit, plan.code)
            return
        review.change = ReviewChange.revise

        def unusable(exc: C2VError) -> None:
            # The section keeps its good version; the revision simply did not happen.
            if stops_topic(exc):
                raise exc
            self._before.pop(run.id, None)
            review.change = ReviewChange.reverted
            review.critic_error = f"revision unusable: {exc}"

        ask_revision(
            self.sections,
            self.topic,
            run,
            Revision(plan.code, plan.remaining, number, AttemptKind.revise),
            unusable,
        )

    def _settle(self, runs: list[SectionRun], reviews: dict[str, SectionReview]) -> list[SectionRun]:
        """After a round: revert revisions that broke, note what is left; return the changed."""
        changed = []
        for run in runs:
            before = self._before.get(run.id)
            if before is None:
                continue
            review = reviews[run.id]
            if run.status is not SectionStatus.ok:
                self.sections.restore(run, before)
                review.change = ReviewChange.reverted
                continue
            review.lint_after = run.result.layout_issues if run.result else None
            changed.append(run)
            if review.lint_after is not None and not blocking(review.lint_after):
                log.info("section_clean", section=run.id)
        return changed
