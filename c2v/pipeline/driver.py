"""One topic from knowledge point to video: plan, code, render with repair, critique, stitch.

The driver wires the parts and runs the stages in order; each part is its own module:
the executor (where calls and renders run), the journal (``calls/``), the section state
machine, the render cache, the critic loop and the manifest builder. Every answer is stored
in the case folder before it is used and looked up there before anything is asked again, so
a killed run resumes without repeating a paid LLM call or a finished render.

Stages: sections are coded and rendered (with repair) at the preview tier when the critic
loop is on, else straight at the final tier; the critic loop revises flagged sections, and
starts the final tier of each section it passes; the final tier renders every other frozen
section in parallel (long ones in chunks, :mod:`c2v.pipeline.chunks`); then stitch.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import structlog

from c2v.case import CaseDir
from c2v.config import RunConfig
from c2v.core.language import detect_language
from c2v.core.progress import NullReporter, Reporter
from c2v.core.slug import slugify
from c2v.core.tiers import Orientation, Tier, video_format
from c2v.errors import SectionsFailed
from c2v.llm.base import CallTag
from c2v.llm.registry import canonical_provider
from c2v.media.probe import probe_video
from c2v.media.soundtrack import Soundtrack, stitch_with_sound
from c2v.media.stitch import stitch
from c2v.models import (
    FeedbackRound,
    Manifest,
    PlannedOutline,
    PlannedStoryboard,
    RunCounters,
    SectionStatus,
    Storyboard,
    StoryboardSection,
)
from c2v.pipeline.assets import RunAssets
from c2v.pipeline.chunks import Chunker
from c2v.pipeline.critic_loop import CriticLoop
from c2v.pipeline.executor import AgentCall, AgentSetup, Executor, Role
from c2v.pipeline.journal import Journal
from c2v.pipeline.loop import EventLoop
from c2v.pipeline.manifest import RunFacts, StageClock, build_manifest
from c2v.pipeline.narration import Narration
from c2v.pipeline.render_cache import RenderCache, backend_identity
from c2v.pipeline.revision import finished_sections, revise
from c2v.pipeline.sections import RunContext, SectionRun, SectionRunner
from c2v.subtitles import LANDSCAPE_CELLS, PORTRAIT_CELLS

log = structlog.get_logger("c2v.pipeline")


def case_dir_for(cfg: RunConfig) -> CaseDir:
    return CaseDir.create(cfg.output_dir / cfg.folder_prefix / slugify(cfg.topic))


class Pipeline:
    def __init__(
        self,
        cfg: RunConfig,
        case: CaseDir,
        reporter: Reporter | None = None,
        executor: Executor | None = None,
        assets: RunAssets | None = None,
    ) -> None:
        """``executor`` None: Ray actors and tasks, started on the first entry point.

        ``assets`` None: resolved from the config (``use_assets``, ``assets_source``).
        """
        self.cfg = cfg
        self.case = case
        self.provider = cfg.llm.name if cfg.llm is not None else canonical_provider(cfg.api)
        self.report = reporter or NullReporter()
        self.final_fmt = video_format(cfg.tier, cfg.orientation)
        self.preview_fmt = (
            video_format(cfg.preview_tier, cfg.orientation) if cfg.use_feedback else self.final_fmt
        )
        self.language = cfg.language or detect_language(cfg.topic)
        self.counters = RunCounters()
        self.rounds: list[FeedbackRound] = []
        #: What the planner normalised in its replies (for the manifest).
        self.normalised: list[str] = []
        self._executor = executor
        self._clock = StageClock()
        self.narration = Narration.of(cfg.tts, cfg.speech, self.language)
        self.soundtrack: Soundtrack | None = None
        self.assets = assets
        if assets is None and cfg.use_assets:
            self.assets = RunAssets.from_settings(cfg.assets_source)

    def _wire(self) -> SectionRunner:
        self.case.lock()
        self._clock = StageClock()
        if self._executor is None:
            from c2v.pipeline.ray_executor import start_ray_executor  # noqa: PLC0415 - Ray only when used

            self._executor = start_ray_executor(self.cfg, {self.preview_fmt.tier, self.final_fmt.tier})
        loop = EventLoop(self._executor)
        self.journal = Journal(self.case, loop, self.counters)
        renders = RenderCache(self.case, loop, self.counters, self.report, backend_identity(self.cfg.sandbox))
        ctx = RunContext(
            topic=self.cfg.topic,
            repair=self.cfg.repair,
            limits=self.cfg.limits,
            batch_id=self.cfg.batch_id,
            orientation=self.final_fmt.orientation,
            dry_run=self.cfg.dry_run_at(self.preview_fmt.tier),
            precheck=self.cfg.precheck,
        )
        chunker = Chunker(
            renders,
            self.case,
            self.cfg.chunks,
            # the tier chunks are checked at: the preview's, or the cheapest when there is none
            check_tier=self.preview_fmt.tier if self.preview_fmt != self.final_fmt else Tier.l,
            slots=self._executor.render_slots(self.final_fmt.tier),
        )
        self.sections = SectionRunner(
            ctx, self.case, self.journal, renders, self.report, self.assets, chunker
        )
        self.renders = renders
        return self.sections

    # -- entry points -------------------------------------------------------------------------
    def generate(self) -> Manifest:
        """Plan, code, render (with repair), critique, and stitch; resumes from the case folder."""
        sections = self._wire()
        assert self._executor is not None
        self._executor.open(AgentSetup(self.language, self.final_fmt.orientation, self.cfg.batch_id))
        self.report.stage("planning")
        with self._clock.stage("plan"):
            board = self._plan()
        self._narrate(board.sections)
        self._preview_for_chunks(len(board.sections))
        with self._clock.stage("sections"):
            self._executor.scale_coders(min(self.cfg.coder_actors, max(1, len(board.sections))))
            sections.start(board.sections, self.preview_fmt)
            sections.drain()
        if self.cfg.pipeline_final and self.final_fmt != self.preview_fmt:
            sections.final_fmt = self.final_fmt  # the critic starts sections it passes at once
        if self.cfg.use_feedback and self.cfg.feedback_rounds > 0:
            self.report.stage("critic")
            with self._clock.stage("critic"):
                self.rounds = CriticLoop(self.cfg.topic, sections, self.report).run(self.cfg.feedback_rounds)
        if self.final_fmt != self.preview_fmt:
            self.report.stage(f"final tier {self.final_fmt.tier.value}")
            with self._clock.stage("final_tier"):
                sections.render_frozen(
                    [r for r in sections.runs if r.status is SectionStatus.ok], self.final_fmt
                )
        return self._conclude()

    def _preview_for_chunks(self, n_sections: int) -> None:
        """Without the critic, sections go straight to the final tier, unsplit. When the pool
        has room to split them, they are coded and repaired at the preview tier instead (an
        attempt costs seconds there, minutes at k), and the final tier renders the code that
        worked, in chunks planned from the preview's record."""
        if self.preview_fmt != self.final_fmt or self.final_fmt.tier is Tier.l:
            return
        if not self.sections.chunker or not self.sections.chunker.may_split(n_sections):
            return
        self.preview_fmt = video_format(self.cfg.preview_tier, self.final_fmt.orientation)
        self.sections.ctx = replace(self.sections.ctx, dry_run=self.cfg.dry_run_at(self.preview_fmt.tier))
        log.info("preview_for_chunks", preview=self.preview_fmt.tier.value, final=self.final_fmt.tier.value)

    def rerender(self, storyboard: Storyboard, frozen_code: dict[str, str]) -> Manifest:
        """Render frozen code at this run's tier and orientation; no model is asked anything."""
        sections = self._wire()
        missing = [s.id for s in storyboard.sections if s.id not in frozen_code]
        if missing and not self.cfg.allow_partial:
            raise SectionsFailed(f"sections {', '.join(missing)} have no rendered code in {self.case.root}")
        runs = [
            SectionRun.of(s, code=frozen_code[s.id], history=self.case.load_history(s.id))
            for s in storyboard.sections
            if s.id in frozen_code
        ]
        sections.adopt(runs, len(storyboard.sections))
        # The frozen code was paid for by earlier runs: the manifest keeps counting those calls.
        self.journal.adopt_all()
        self._narrate([r.board for r in runs])
        with self._clock.stage("final_tier"):
            sections.render_frozen(runs, self.final_fmt)
        return self._conclude(storyboard_missing=missing)

    def revise_section(self, section_id: str, note: str) -> Manifest:
        """Revise one section of the finished video with a person's note; stitch again.

        Only that section is asked for and rendered again (:mod:`c2v.pipeline.revision`);
        the others keep their final renders, and the manifest keeps the earlier rounds.
        """
        board, previous, runs = finished_sections(self.case)
        sections = self._wire()
        assert self._executor is not None
        self._executor.open(AgentSetup(self.language, self.final_fmt.orientation, self.cfg.batch_id))
        sections.adopt(runs, len(board.sections))
        # Earlier runs paid for every other section's code: the manifest keeps counting those calls.
        self.journal.adopt_all()
        self.rounds, self.normalised = previous.feedback, previous.normalised
        self.report.stage(f"revising section {section_id}")
        with self._clock.stage("sections"):
            revise(sections, section_id, note, self.final_fmt)
        kept = {r.id for r in runs}
        return self._conclude(storyboard_missing=[s.id for s in board.sections if s.id not in kept])

    # -- planning -------------------------------------------------------------------------
    def _plan(self) -> Storyboard:
        """Outline, then storyboard; an unusable planner reply stops the topic (no sections yet).

        Limits a reply breaks are normalised by the planner where that is safe (its notes go
        into the manifest's ``normalised``) and re-asked only when they cannot be.
        """
        topic, found = self.cfg.topic, list[Storyboard]()
        outline_inputs = {"topic": topic, "language": self.language}
        self.journal.ask(
            CallTag(agent="planner", stage="outline", topic=topic),
            outline_inputs,
            AgentCall(Role.planner, "planned_outline", (topic,)),
            PlannedOutline.model_validate_json,
            lambda planned: self._on_outline(planned, found),
        )
        self.journal.loop.drain()
        return found[0]

    def _on_outline(self, planned: PlannedOutline, found: list[Storyboard]) -> None:
        outline = planned.outline
        self.case.save_outline(outline)
        self.normalised += [f"outline: {n}" for n in planned.notes]
        topic = self.cfg.topic

        def on_storyboard(planned_board: PlannedStoryboard) -> None:
            self.normalised += [f"storyboard: {n}" for n in planned_board.notes]
            self.case.save_storyboard(planned_board.storyboard)
            found.append(planned_board.storyboard)

        self.journal.ask(
            CallTag(agent="planner", stage="storyboard", topic=topic),
            {"topic": topic, "outline": outline.model_dump(mode="json"), "language": self.language},
            AgentCall(Role.planner, "planned_storyboard", (topic, outline)),
            PlannedStoryboard.model_validate_json,
            on_storyboard,
        )

    def _narrate(self, sections: list[StoryboardSection]) -> None:
        """Speak every section before it renders: the segments go with its render requests."""
        if self.narration is None:
            return
        self.report.stage("speech")
        with self._clock.stage("speech"):
            self.sections.segments = self.narration.prepare(sections)

    def _stitch(self, runs: list[SectionRun]) -> None:
        if self.narration is None:
            stitch([self.case.render_video(r.final_key) for r in runs if r.final_key], self.case.video)
            return
        sounds = [
            self.narration.sound_of(r.id, self.case.render_video(r.final_key), r.result)
            for r in runs
            if r.final_key
        ]
        cells = PORTRAIT_CELLS if self.final_fmt.orientation is Orientation.portrait else LANDSCAPE_CELLS
        with tempfile.TemporaryDirectory(prefix=".soundtrack-", dir=self.case.root) as work:
            self.soundtrack = stitch_with_sound(
                sounds, self.case.video, Path(work), self.language, cells, burn=self.cfg.burn_subtitles
            )

    # -- finishing ------------------------------------------------------------------------
    def _conclude(self, storyboard_missing: list[str] | None = None) -> Manifest:
        runs = self.sections.runs
        failed = [r.id for r in runs if r.status is not SectionStatus.ok]
        missing = list(storyboard_missing or []) + failed
        video: str | None = None
        duration: float | None = None
        if failed and not self.cfg.allow_partial:
            self._write_manifest(missing, video=None, duration=None)
            reasons = "; ".join(
                f"section {r.id}: {r.result.message if r.result else 'not rendered'}"
                for r in runs
                if r.id in failed
            )
            raise SectionsFailed(
                f"{len(failed)} section(s) never rendered ({reasons}); "
                "rerun to retry, or pass --allow-partial"
            )
        good = [self.case.render_video(r.final_key) for r in runs if r.final_key]
        if good:
            self.report.stage("stitching")
            with self._clock.stage("stitch"):
                self._stitch(runs)
            info = probe_video(self.case.video)
            duration = info.duration_s if info else None
            video = self.case.rel(self.case.video)
        return self._write_manifest(missing, video=video, duration=duration)

    def _write_manifest(self, missing: list[str], video: str | None, duration: float | None) -> Manifest:
        assert self._executor is not None
        timings = self._clock.close(self.journal.coder_task_s, self.renders.task_s)
        facts = RunFacts(
            topic=self.cfg.topic,
            provider=self.provider,
            final=self.final_fmt,
            preview=self.preview_fmt if self.cfg.use_feedback or self.preview_fmt != self.final_fmt else None,
            runs=self.sections.runs,
            missing=missing,
            rounds=self.rounds,
            calls=self.journal.used_calls(),
            prices=self._executor.prices(),
            timings=timings,
            counters=self.counters,
            video=video,
            duration_s=duration,
            normalised=self.normalised,
        )
        manifest = build_manifest(self.case, facts)
        if self.narration is not None:
            subtitles = [self.case.rel(p) for p in self.soundtrack.subtitles] if self.soundtrack else []
            manifest = manifest.model_copy(update={"speech": self.narration.usage, "subtitles": subtitles})
        if self.assets is not None:
            manifest.assets = self.assets.credits()
            self.assets.write_attribution(self.case.root, self.cfg.topic)
        self.case.save_manifest(manifest)
        return manifest
