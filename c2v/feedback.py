"""The critic loop: review rendered sections, revise only the flagged ones, re-render them.

Each round, every section still under review gets the layout lint of its preview render
and a critic reply (keyframes with the anchor grid drawn on). Anchor moves the critic
asks for are applied as line edits; other issues go to the Coder, whose revision is
rendered (and repaired if it breaks, or reverted if it cannot be). Sections with nothing
to fix leave the loop; the loop stops early when no section changed. Renders are cached by
content, so an unchanged section is never rendered twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from c2v.errors import C2VError
from c2v.keyframes import keyframes_png
from c2v.llm.base import CallTag
from c2v.models import AttemptKind, CriticReport, FeedbackRound, RenderResult, SectionReview, SectionStatus
from c2v.revise import blocking, plan_revision
from cluster.agents import CriticActor, agent_options

if TYPE_CHECKING:
    from c2v.pipeline import Pipeline, SectionRun

log = structlog.get_logger("c2v.feedback")


@dataclass
class _Snapshot:
    """A section's good state before a revision, restored if the revision cannot render."""

    code: str
    final_key: str | None
    result: RenderResult | None


class FeedbackLoop:
    def __init__(self, pipeline: Pipeline) -> None:
        self.p = pipeline
        self._critic: Any = None
        self._before: dict[str, _Snapshot] = {}

    def critic(self) -> Any:
        if self._critic is None:
            args = (*self.p.llm_args(), self.p.language, self.p.final_fmt.orientation.value)
            actor = CriticActor.options(**agent_options())  # type: ignore[attr-defined]
            self._critic = actor.remote(*args, batch=self.p.cfg.batch_id)
        return self._critic

    def run(self, rounds: int) -> None:
        under_review = [r for r in self.p.sections if r.status is SectionStatus.ok]
        for number in range(1, rounds + 1):
            if not under_review:
                break
            self.p.report.stage(f"critic round {number}")
            renders, reused = self.p.counters.renders, self.p.counters.renders_reused
            reviews: dict[str, SectionReview] = {}
            self._before = {}
            for run in under_review:
                reviews[run.id] = self._review(run, number)
            self.p.drain()
            changed = self._settle(under_review, reviews)
            self.p.rounds.append(
                FeedbackRound(
                    round=number,
                    sections=list(reviews.values()),
                    renders=self.p.counters.renders - renders,
                    renders_reused=self.p.counters.renders_reused - reused,
                )
            )
            log.info("critic_round", round=number, changed=[r.id for r in changed])
            under_review = changed

    # -- one section ------------------------------------------------------------------------
    def _review(self, run: SectionRun, number: int) -> SectionReview:
        result = run.result
        lint = result.layout_issues if result else []
        review = SectionReview(id=run.id, lint_before=lint)
        video_path = self.p.case.render_dir(run.final_key) / "video.mp4" if run.final_key else None
        keyframes: list[bytes] = []
        video: bytes | None = None
        if video_path is not None and video_path.is_file() and result is not None:
            fmt = self.p.render_fmt
            keyframes = keyframes_png(
                video_path,
                result.keyframe_times,
                result.video_duration_s or 0.0,
                fmt.frame_width,
                fmt.frame_height,
            )
            video = video_path.read_bytes()
        topic, board, code = self.p.cfg.topic, run.board, run.code
        tag = CallTag(agent="critic", stage="review", topic=topic, section=run.id, attempt=number)
        inputs = {"code": code, "lint": [i.model_dump(mode="json") for i in lint], "round": number}
        critic = self.critic()

        def then(report: CriticReport) -> None:
            review.critic = report.issues
            self._revise(run, review, number)

        def on_error(exc: C2VError) -> None:
            # Recorded, never taken for "no issues": the lint alone decides this round.
            review.critic_error = str(exc)
            self._revise(run, review, number)

        self.p.ask(
            tag,
            inputs,
            lambda: critic.review.remote(topic, board, code, lint, keyframes, video, number),
            CriticReport.model_validate_json,
            then,
            on_error,
        )
        return review

    def _revise(self, run: SectionRun, review: SectionReview, number: int) -> None:
        plan = plan_revision(run.code, review.lint_before, review.critic)
        if not plan.edited_lines and not plan.needs_coder:
            return
        self._before[run.id] = _Snapshot(run.code, run.final_key, run.result)
        if not plan.needs_coder:
            review.change = AttemptKind.anchor_edit.value
            self.p.submit_code(run, AttemptKind.anchor_edit, plan.code)
            return
        review.change = AttemptKind.revise.value
        topic, coder = self.p.cfg.topic, self.p.coder()
        tag = CallTag(agent="coder", stage="revise", topic=topic, section=run.id, attempt=number)
        inputs = {"code": plan.code, "issues": plan.remaining}
        self.p.ask(
            tag,
            inputs,
            lambda: coder.revise.remote(topic, run.id, plan.code, plan.remaining, number),
            str,
            lambda code: self.p.submit_code(run, AttemptKind.revise, code),
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
                run.code, run.final_key, run.result = before.code, before.final_key, before.result
                run.status = SectionStatus.ok
                review.change = "reverted"
                self.p.case.save_final(run.id, run.code)
                continue
            review.lint_after = run.result.layout_issues if run.result else None
            changed.append(run)
            if review.lint_after is not None and not blocking(review.lint_after):
                log.info("section_clean", section=run.id)
        return changed
