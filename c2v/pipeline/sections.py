"""The section state machine: code → checks → render → repair ladder → ``ok`` or ``failed``.

Each section moves on its own. A finished Coder call goes through the static check
(:func:`c2v.agents.precheck.precheck`: mechanical rewrites recorded, an error fed back with
no sandbox started), then a dry run when it is on, then the full render. A failure, or a
Coder reply that held no usable code, asks :func:`c2v.repair.next_step` for the next rung
(fix the failing lines, fix the file, regenerate with the error quoted); the section ends
``ok`` with its code frozen in ``final.py``, or ``failed`` when the ladder is used up. One
section failing never stops the others; only a provider failure (after its retries) stops
the topic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from c2v.agents.coder import scene_name_for
from c2v.agents.precheck import precheck
from c2v.case import CaseDir
from c2v.core.progress import Reporter
from c2v.core.tiers import Orientation, VideoFormat
from c2v.errors import C2VError, one_line, stops_topic
from c2v.llm.base import CallTag
from c2v.models import (
    AttemptKind,
    AttemptRecord,
    CodeRewrite,
    NarrationSegment,
    PrecheckResult,
    RenderRequest,
    RenderResult,
    RenderStatus,
    SandboxLimits,
    SectionStatus,
    StoryboardSection,
)
from c2v.pipeline.assets import NO_ASSETS, RunAssets, SectionAssets
from c2v.pipeline.chunks import Chunker, ChunkNote
from c2v.pipeline.executor import AgentCall, Role
from c2v.pipeline.journal import Journal
from c2v.pipeline.render_cache import RenderCache
from c2v.repair import RepairPolicy, next_step

log = structlog.get_logger("c2v.pipeline")


@dataclass
class SectionRun:
    board: StoryboardSection
    scene_name: str
    history: list[AttemptRecord] = field(default_factory=list)
    code: str = ""
    result: RenderResult | None = None
    final_key: str | None = None
    status: SectionStatus = SectionStatus.missing
    #: The last failed render (or check) of ``code``: what a fix of that code quotes.
    failure: RenderResult | None = None
    assets: SectionAssets = NO_ASSETS
    #: The final render: joined from this many chunks, or why it was rendered whole.
    chunks: int = 1
    chunk_note: str = ""

    @property
    def id(self) -> str:
        return self.board.id

    @classmethod
    def of(cls, board: StoryboardSection, **kw: Any) -> SectionRun:
        return cls(board=board, scene_name=scene_name_for(board.id), **kw)


@dataclass(frozen=True)
class Snapshot:
    """A section's good state, restored if a revision of it cannot render."""

    code: str
    final_key: str | None
    result: RenderResult | None


@dataclass(frozen=True)
class RunContext:
    """What every section of a run shares."""

    topic: str
    repair: RepairPolicy
    limits: SandboxLimits
    batch_id: str
    orientation: Orientation
    #: Run ``manim render --dry_run`` before each full render of new code.
    dry_run: bool = False
    #: Check new code statically first (:func:`c2v.agents.precheck.precheck`).
    precheck: bool = True


class SectionRunner:
    def __init__(
        self,
        ctx: RunContext,
        case: CaseDir,
        journal: Journal,
        renders: RenderCache,
        reporter: Reporter,
        assets: RunAssets | None = None,
        chunker: Chunker | None = None,
    ) -> None:
        self.ctx = ctx
        self.chunker = chunker
        self.assets = assets
        self.case = case
        self.journal = journal
        self.renders = renders
        self.report = reporter
        self.runs: list[SectionRun] = []
        self.total = 0
        self.fmt: VideoFormat | None = None  # the tier sections render at now
        self.segments: dict[str, list[NarrationSegment]] = {}  # spoken segments by section id
        #: The final tier, when a section the critic passes starts its final render at once.
        self.final_fmt: VideoFormat | None = None
        self._finals_started: set[tuple[str, str]] = set()  # (section id, code)
        self._finals: dict[tuple[str, str], tuple[str, RenderResult, ChunkNote]] = {}

    # -- what the critic loop uses ------------------------------------------------------------
    def ask(
        self,
        tag: CallTag,
        inputs: dict[str, Any],
        call: AgentCall,
        load: Callable[[str], Any],
        then: Callable[[Any], None],
        on_error: Callable[[C2VError], None] | None = None,
    ) -> None:
        self.journal.ask(tag, inputs, call, load, then, on_error)

    def drain(self) -> None:
        self.journal.loop.drain()

    def video(self, run: SectionRun) -> Path | None:
        """The video of the section's last good render, if it is on disk."""
        if run.final_key is None:
            return None
        path = self.case.render_video(run.final_key)
        return path if path.is_file() else None

    def counts(self) -> tuple[int, int]:
        """Renders done and reused so far in this run."""
        return self.renders.counters.renders, self.renders.counters.renders_reused

    def checkpoint(self, run: SectionRun) -> Snapshot:
        return Snapshot(run.code, run.final_key, run.result)

    def restore(self, run: SectionRun, snap: Snapshot) -> None:
        run.code, run.final_key, run.result = snap.code, snap.final_key, snap.result
        run.status = SectionStatus.ok
        self.case.save_final(run.id, run.code)

    # -- starting -------------------------------------------------------------------------
    def start(self, sections: list[StoryboardSection], fmt: VideoFormat) -> None:
        """Ask the Coder for every section's first version and render each as it comes."""
        self.fmt = fmt
        self.total = len(sections)
        self.runs = [SectionRun.of(s) for s in sections]
        self._attach_assets(self.runs)
        self.report.sections(len(self.runs))
        for run in self.runs:
            self.request_code(run, AttemptKind.generate, None)

    def adopt(self, runs: list[SectionRun], total: int) -> None:
        """Take sections whose code is frozen already (``c2v render``)."""
        self.runs, self.total = runs, total
        self._attach_assets(runs)

    def _attach_assets(self, runs: list[SectionRun]) -> None:
        """Resolve every section's visual elements before its first Coder call or render."""
        if self.assets is not None:
            found = self.assets.for_sections([r.board for r in runs])
            for run in runs:
                run.assets = found[run.id]

    # -- coding and repair ------------------------------------------------------------------
    def request_code(self, run: SectionRun, kind: AttemptKind, failure: RenderResult | None) -> None:
        n_failed = len(run.history)
        topic, total = self.ctx.topic, self.total
        self.report.section(run.id, kind.value)
        tag = CallTag(agent="coder", stage="code", topic=topic, section=run.id)
        inputs: dict[str, Any]
        if kind is AttemptKind.generate:
            inputs = {
                "section": run.board.model_dump(mode="json"),
                "total": total,
                "layout": self.ctx.orientation,
                **_image_inputs(run),
            }
            call = AgentCall(Role.coder, "write", (topic, run.board, total, None, None, run.assets.images))
        elif kind is AttemptKind.regenerate:
            assert failure is not None
            hint = f"{failure.status.value}: {failure.message}"
            tag = CallTag(agent="coder", stage="regenerate", topic=topic, section=run.id, attempt=n_failed)
            inputs = {"section": run.board.model_dump(mode="json"), "total": total, "hint": hint}
            inputs |= _image_inputs(run)
            call = AgentCall(
                Role.coder, "write", (topic, run.board, total, hint, n_failed, run.assets.images)
            )
        else:
            assert failure is not None
            tag = CallTag(agent="coder", stage=kind.value, topic=topic, section=run.id, attempt=n_failed)
            inputs = {
                "code": run.code,
                "failure": failure.model_dump(mode="json", include={"message", "traceback"}),
            }
            call = AgentCall(Role.coder, kind.value, (topic, run.id, run.code, failure, n_failed))
        self.ask(
            tag,
            inputs,
            call,
            str,
            lambda code: self.submit(run, kind, code),
            lambda exc: self.unusable(run, kind, exc),
        )

    def unusable(self, run: SectionRun, kind: AttemptKind, exc: C2VError) -> None:
        """A Coder call ended with no usable code: the section takes the next rung.

        A provider failure after its retries (dead endpoint, rejected key) stops the topic;
        a reply the model wrote but that cannot be used (or a refusal) costs this rung only.
        """
        if stops_topic(exc):
            raise exc
        result = RenderResult(
            status=RenderStatus.unusable_reply,
            section_id=run.id,
            message=f"the {kind.value} reply could not be used: {one_line(exc, 300)}",
        )
        self._on_result(run, kind, "", "", result)

    def submit(self, run: SectionRun, kind: AttemptKind, code: str) -> None:
        """Record a new version of a section's code; check it, dry-run it, render it."""
        assert self.fmt is not None
        checked = precheck(code, run.scene_name) if self.ctx.precheck else PrecheckResult(code=code)
        run.code = checked.code
        path = self.case.rel(self.case.save_code(run.id, len(run.history) + 1, run.code))
        rewrites = checked.rewrites
        if rewrites:
            log.info("precheck_rewrites", section=run.id, rules=[r.rule for r in rewrites])
        if checked.error is not None:
            self._on_result(run, kind, path, "", checked.error.to_render_result(run.id), rewrites)
            return
        full = self.request(run, run.code, self.fmt)

        def rendered(key: str, result: RenderResult) -> None:
            self._on_result(run, kind, path, key, result, rewrites)

        def dry_ran(key: str, result: RenderResult) -> None:
            if result.status is RenderStatus.ok:
                self.renders.render(full, rendered)
            else:
                rendered(key, result)

        if self.ctx.dry_run:
            self.renders.render(full.model_copy(update={"dry_run": True}), dry_ran)
        else:
            self.renders.render(full, rendered)

    def request(self, run: SectionRun, code: str, fmt: VideoFormat) -> RenderRequest:
        return RenderRequest(
            case_id=self.case.root.name,
            section_id=run.id,
            scene_name=run.scene_name,
            code=code,
            tier=fmt.tier,
            orientation=fmt.orientation,
            limits=self.ctx.limits,
            batch_id=self.ctx.batch_id,
            attempt=len(run.history) + 1,
            segments=self.segments.get(run.id, []),
            assets=run.assets.files,
        )

    def _on_result(
        self,
        run: SectionRun,
        kind: AttemptKind,
        code_path: str,
        key: str,
        result: RenderResult,
        rewrites: list[CodeRewrite] | None = None,
    ) -> None:
        run.result = result
        if result.status is not RenderStatus.unusable_reply:
            run.failure = result
        run.history.append(
            AttemptRecord(
                n=len(run.history) + 1,
                kind=kind,
                code=code_path,
                status=result.status,
                message=result.message,
                render_key=key,
                rewrites=rewrites or [],
            )
        )
        self.case.save_history(run.id, run.history)
        if result.status is RenderStatus.ok:
            run.status, run.final_key = SectionStatus.ok, key
            self.case.save_final(run.id, run.code)
            self.report.section(run.id, "ok", done=True)
            return
        step = next_step(run.history, result, self.ctx.repair, has_code=bool(run.code))
        if step is None:
            run.status = SectionStatus.failed
            log.warning("section_failed", section=run.id, status=result.status.value, reason=result.message)
            cause = " ".join(result.message.split())[:160]
            self.report.section(run.id, f"failed ({result.status.value}): {cause}", done=True)
            return
        log.info(
            "repair", section=run.id, step=step.value, status=result.status.value, line=result.error_line
        )
        # A fix quotes the last failure of the code it fixes; a regeneration quotes the last cause.
        self.request_code(run, step, result if step is AttemptKind.regenerate else run.failure)

    # -- final tier -----------------------------------------------------------------------
    def start_final(self, run: SectionRun) -> None:
        """Start the final-tier render of ``run``'s code now, in the background.

        Called when the critic passes a section, while others are still being revised. A
        later version of the code supersedes it: only the render of the code the section
        ends with is used (:meth:`render_frozen`), so the video is the sequential one.
        """
        key = (run.id, run.code)
        if self.final_fmt is None or key in self._finals_started:
            return
        self._finals_started.add(key)

        def then(render_key: str, result: RenderResult, note: ChunkNote) -> None:
            self._finals[key] = (render_key, result, note)

        request = self.request(run, run.code, self.final_fmt)
        with self.journal.loop.background():
            if self.chunker is not None:
                self.chunker.render(request, self.total, then)
            else:
                self.renders.render(request, lambda k, r: then(k, r, ChunkNote(1, "")))

    def render_frozen(self, runs: list[SectionRun], fmt: VideoFormat) -> None:
        """Render each section's frozen code at ``fmt``, all at once (those not started yet); no repair."""
        self.fmt = self.final_fmt = fmt
        self.report.sections(len(runs))
        for run in runs:
            self.start_final(run)
        self.journal.loop.drain(background=True)
        for run in runs:
            key, result, note = self._finals[(run.id, run.code)]
            run.result, run.chunks, run.chunk_note = result, note.chunks, note.why_whole
            if result.status is RenderStatus.ok:
                run.status, run.final_key = SectionStatus.ok, key
                self.report.section(run.id, "ok", done=True)
            else:
                run.status, run.final_key = SectionStatus.failed, None
                self.report.section(run.id, f"failed ({result.status.value})", done=True)


def _image_inputs(run: SectionRun) -> dict[str, Any]:
    """The icon files a Coder prompt names (absent when none, so older journals still match)."""
    images = run.assets.images
    return {"images": [i.model_dump(mode="json") for i in images]} if images else {}
