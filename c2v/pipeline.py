"""One topic from knowledge point to video: plan, code, render with repair, stitch.

The driver runs a small event loop over Ray futures: agent actors answer LLM calls,
render tasks run sandboxes, and each finished future decides the next step of its
section. Every answer is stored in the case folder before it is used, and looked up
there before anything is asked again, so a killed run resumes without repeating a paid
LLM call or a finished render.

Phases: sections are coded and rendered (with repair) at the preview tier when the critic
loop is on, else straight at the final tier; the critic loop (c2v/feedback.py) revises
flagged sections; the final tier renders every frozen section in parallel; then stitch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ray
import structlog

from c2v import __version__
from c2v.agents.coder import scene_name_for
from c2v.case import CallRecord, CaseDir
from c2v.config import RunConfig
from c2v.errors import C2VError, ClusterError, LLMError, ReplyParseError, SectionsFailed
from c2v.feedback import FeedbackLoop
from c2v.fsio import write_model_atomic
from c2v.language import detect_language
from c2v.llm.base import CallTag, LLMReply
from c2v.llm.registry import canonical_provider
from c2v.llm.settings import ProviderKind, ProviderSettings, require_usable, resolve_provider
from c2v.media import probe_video
from c2v.models import (
    AttemptKind,
    AttemptRecord,
    FeedbackRound,
    Manifest,
    Outline,
    RenderRequest,
    RenderResult,
    RenderStatus,
    RunCounters,
    SectionRecord,
    SectionStatus,
    Storyboard,
    StoryboardSection,
    Timings,
)
from c2v.progress import NullReporter, Reporter
from c2v.repair import next_step
from c2v.slug import slugify
from c2v.stitch import stitch
from c2v.tiers import VideoFormat, video_format
from c2v.tokens import token_totals
from cluster.agents import CoderActor, PlannerActor, agent_options
from cluster.limits import shared_limiter
from cluster.pools import RenderPools
from cluster.runtime import ensure_ray, require_pools
from cluster.tasks import render_task
from sandbox.backends import resolve_backend
from sandbox.render import RenderOutput, manim_version, render_key

log = structlog.get_logger("c2v.pipeline")

#: Sandbox failures that are not the scene's fault are retried this many times.
INFRA_RETRIES = 2


@dataclass
class SectionRun:
    board: StoryboardSection
    scene_name: str
    history: list[AttemptRecord] = field(default_factory=list)
    code: str = ""
    result: RenderResult | None = None
    final_key: str | None = None
    status: SectionStatus = SectionStatus.missing

    @property
    def id(self) -> str:
        return self.board.id


def case_dir_for(cfg: RunConfig) -> CaseDir:
    return CaseDir.create(cfg.output_dir / cfg.folder_prefix / slugify(cfg.topic))


class Pipeline:
    def __init__(self, cfg: RunConfig, case: CaseDir, reporter: Reporter | None = None) -> None:
        if cfg.sandbox == "auto":
            cfg = cfg.model_copy(update={"sandbox": resolve_backend("auto")[0].name})
        self.cfg = cfg
        self.case = case
        self.provider = cfg.llm.name if cfg.llm is not None else canonical_provider(cfg.api)
        self._llm: tuple[ProviderSettings, str | None] | None = None
        self.report = reporter or NullReporter()
        self.final_fmt = video_format(cfg.tier, cfg.orientation)
        self.preview_fmt = (
            video_format(cfg.preview_tier, cfg.orientation) if cfg.use_feedback else self.final_fmt
        )
        self.render_fmt = self.preview_fmt
        self.pools = RenderPools.load(cfg.render_pools)
        self.language = cfg.language or detect_language(cfg.topic)
        self.counters = RunCounters()
        self.timings = Timings()
        self.sections: list[SectionRun] = []
        self.board: Storyboard | None = None
        self.rounds: list[FeedbackRound] = []
        self._pending: dict[Any, Callable[[Any], None]] = {}
        self._planner: Any = None
        self._coders: list[Any] = []
        self._next_coder = 0
        self._used_calls: set[str] = set()
        self._coder_seconds = 0.0
        self._render_seconds = 0.0
        self._plan_done: float | None = None

    # -- entry points -------------------------------------------------------------------------
    def generate(self) -> Manifest:
        """Plan, code, render (with repair), critique, and stitch; resumes from the case folder."""
        started = time.monotonic()
        self.case.lock()
        self._start_ray()
        self.report.stage("planning")
        self._planner = PlannerActor.options(**agent_options()).remote(  # type: ignore[attr-defined]
            *self.llm_args(), self.language, batch=self.cfg.batch_id
        )
        self.ask(
            CallTag(agent="planner", stage="outline", topic=self.cfg.topic),
            {"topic": self.cfg.topic, "language": self.language},
            lambda: self._planner.outline.remote(self.cfg.topic),
            Outline.model_validate_json,
            self._on_outline,
        )
        self.drain()
        if self.cfg.use_feedback and self.cfg.feedback_rounds > 0:
            self.report.stage("critic")
            FeedbackLoop(self).run(self.cfg.feedback_rounds)
        if self.final_fmt != self.render_fmt:
            self.report.stage(f"final tier {self.final_fmt.tier.value}")
            self._render_frozen([r for r in self.sections if r.status is SectionStatus.ok])
        self._finish_timings(started)
        return self._conclude(started)

    def rerender(self, storyboard: Storyboard, frozen_code: dict[str, str]) -> Manifest:
        """Render frozen code at this run's tier and orientation; no model is asked anything."""
        started = time.monotonic()
        self.case.lock()
        self._start_ray()
        self.board = storyboard
        missing = [s.id for s in storyboard.sections if s.id not in frozen_code]
        if missing and not self.cfg.allow_partial:
            raise SectionsFailed(f"sections {', '.join(missing)} have no rendered code in {self.case.root}")
        self.sections = [
            SectionRun(
                board=s,
                scene_name=scene_name_for(s.id),
                code=frozen_code[s.id],
                history=self.case.load_history(s.id),
            )
            for s in storyboard.sections
            if s.id in frozen_code
        ]
        # The frozen code was paid for by earlier runs: the manifest keeps counting those calls.
        self._used_calls = {call.key for call in self.case.all_calls()}
        self._render_frozen(self.sections)
        self._finish_timings(started)
        return self._conclude(started, storyboard_missing=missing)

    # -- Ray plumbing ---------------------------------------------------------------------
    def _start_ray(self) -> None:
        ensure_ray(self.cfg.ray_address)
        require_pools(self.pools, {self.preview_fmt.tier, self.final_fmt.tier})

    def drain(self) -> None:
        """Run the event loop until nothing is in flight."""
        while self._pending:
            ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=2.0)
            for ref in ready:
                on_done = self._pending.pop(ref)
                on_done(ref)

    def ask(
        self,
        tag: CallTag,
        inputs: dict[str, Any],
        submit: Callable[[], Any],
        load: Callable[[str], Any],
        then: Callable[[Any], None],
        on_error: Callable[[C2VError], None] | None = None,
    ) -> None:
        """Answer an agent call from the journal, or ask the actor and journal the answer.

        With ``on_error``, a provider failure or an unusable reply is handed to it instead
        of stopping the run (the critic uses this); nothing is journaled then, so a later
        run asks again.
        """
        key = self.case.call_key(tag, inputs)
        self._used_calls.add(key)
        stored = self.case.load_call(key)
        if stored is not None:
            self.counters.llm_calls_reused += 1
            log.info("llm_call_reused", key=key)
            then(load(stored.payload))
            return

        def on_done(ref: Any) -> None:
            try:
                value, replies = _get(ref)
            except (LLMError, ReplyParseError) as exc:
                if on_error is None:
                    raise
                log.warning("llm_call_failed", key=key, error=str(exc))
                unusable = exc.replies if isinstance(exc, ReplyParseError) else []
                if unusable:
                    # Paid for, so counted; stored under another key, so a later run asks again.
                    failed = CallRecord(
                        key=f"{key}-failed", tag=tag, payload="", replies=unusable, error=str(exc)
                    )
                    self.case.save_call(failed)
                    self._used_calls.add(failed.key)
                    self.counters.llm_calls += len(unusable)
                on_error(exc)
                return
            payload = value if isinstance(value, str) else value.model_dump_json(indent=2)
            self.case.save_call(CallRecord(key=key, tag=tag, payload=payload, replies=replies))
            self.counters.llm_calls += len(replies)
            if tag.agent == "coder":
                self._coder_seconds += sum(r.latency_s for r in replies)
            log.info("llm_call", key=key, replies=len(replies), tokens=sum(r.usage.total for r in replies))
            then(value)

        self._pending[submit()] = on_done

    def llm_args(self) -> tuple[ProviderSettings, str | None]:
        """What every agent actor is built from: the provider settings and the run's shared
        rate limiter (a named Ray actor; none for the offline provider)."""
        if self._llm is None:
            settings = self.cfg.llm if self.cfg.llm is not None else resolve_provider(self.cfg.api)
            require_usable(settings)
            limiter = shared_limiter(settings) if settings.kind is not ProviderKind.offline else None
            self._llm = (settings, limiter)
        return self._llm

    def coder(self) -> Any:
        """The next Coder actor of the pool (round robin)."""
        if not self._coders:
            n_actors = min(self.cfg.coder_actors, max(1, len(self.sections)))
            args = (*self.llm_args(), self.language, self.final_fmt.orientation.value)
            coder = CoderActor.options(**agent_options())  # type: ignore[attr-defined]
            self._coders = [coder.remote(*args, batch=self.cfg.batch_id) for _ in range(n_actors)]
        actor = self._coders[self._next_coder % len(self._coders)]
        self._next_coder += 1
        return actor

    # -- planning -------------------------------------------------------------------------
    def _on_outline(self, outline: Outline) -> None:
        write_model_atomic(self.case.outline, outline)
        self.ask(
            CallTag(agent="planner", stage="storyboard", topic=self.cfg.topic),
            {"topic": self.cfg.topic, "outline": outline.model_dump(mode="json"), "language": self.language},
            lambda: self._planner.storyboard.remote(self.cfg.topic, outline),
            Storyboard.model_validate_json,
            self._on_storyboard,
        )

    def _on_storyboard(self, board: Storyboard) -> None:
        write_model_atomic(self.case.storyboard, board)
        self._plan_done = time.monotonic()
        self.board = board
        self.sections = [SectionRun(board=s, scene_name=scene_name_for(s.id)) for s in board.sections]
        self.report.sections(len(self.sections))
        for run in self.sections:
            self._request_code(run, AttemptKind.generate, None)

    # -- coding and repair ------------------------------------------------------------------
    def _request_code(self, run: SectionRun, kind: AttemptKind, failure: RenderResult | None) -> None:
        assert self.board is not None
        n_failed = len(run.history)
        topic, total = self.cfg.topic, len(self.board.sections)
        self.report.section(run.id, kind.value)

        def then(code: str) -> None:
            self.submit_code(run, kind, code)

        coder = self.coder()
        if kind is AttemptKind.generate:
            tag = CallTag(agent="coder", stage="code", topic=topic, section=run.id)
            inputs = {
                "section": run.board.model_dump(mode="json"),
                "total": total,
                "layout": self.final_fmt.orientation,
            }
            self.ask(tag, inputs, lambda: coder.write.remote(topic, run.board, total, None, None), str, then)
            return
        assert failure is not None
        if kind is AttemptKind.regenerate:
            hint = f"{failure.status.value}: {failure.message}"
            tag = CallTag(agent="coder", stage="regenerate", topic=topic, section=run.id, attempt=n_failed)
            inputs = {"section": run.board.model_dump(mode="json"), "total": total, "hint": hint}
            self.ask(
                tag, inputs, lambda: coder.write.remote(topic, run.board, total, hint, n_failed), str, then
            )
            return
        tag = CallTag(agent="coder", stage=kind.value, topic=topic, section=run.id, attempt=n_failed)
        inputs = {
            "code": run.code,
            "failure": failure.model_dump(mode="json", include={"message", "traceback"}),
        }
        method = coder.fix_lines if kind is AttemptKind.fix_lines else coder.fix_file
        code = run.code
        self.ask(tag, inputs, lambda: method.remote(topic, run.id, code, failure, n_failed), str, then)

    def submit_code(self, run: SectionRun, kind: AttemptKind, code: str) -> None:
        """Record a new version of a section's code and render it at the current tier."""
        run.code = code
        path = self.case.save_code(run.id, len(run.history) + 1, code)
        request = self._request(run, code, self.render_fmt)
        syntax = _syntax_error(code, run.id)
        if syntax is not None:
            self._on_render(run, kind, path, "", syntax)
            return
        key = render_key(request)
        self._render(run, request, key, lambda result: self._on_render(run, kind, path, key, result))

    def _request(self, run: SectionRun, code: str, fmt: VideoFormat) -> RenderRequest:
        return RenderRequest(
            case_id=self.case.root.name,
            section_id=run.id,
            scene_name=run.scene_name,
            code=code,
            tier=fmt.tier,
            orientation=fmt.orientation,
            limits=self.cfg.limits,
            batch_id=self.cfg.batch_id,
            attempt=len(run.history) + 1,
        )

    def _render(
        self,
        run: SectionRun,
        request: RenderRequest,
        key: str,
        then: Callable[[RenderResult], None],
        tries: int = 0,
    ) -> None:
        """Render from the cache, or in a Ray task; infrastructure failures are retried."""
        cached = self.case.load_render(key)
        if cached is not None:
            self.counters.renders_reused += 1
            log.info("render_reused", section=run.id, key=key)
            then(cached)
            return
        self.report.section(run.id, f"rendering {request.tier.value}")
        pool = self.pools.for_tier(request.tier)
        ref = render_task.options(**pool.task_options()).remote(request, self.cfg.sandbox)

        def on_done(done: Any) -> None:
            try:
                out: RenderOutput = ray.get(done)
            except ray.exceptions.RayError as exc:
                result = RenderResult(
                    status=RenderStatus.infra_error,
                    section_id=run.id,
                    message=f"render task failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
                )
                out = RenderOutput(result=result, video=None)
            self.counters.renders += 1
            self._render_seconds += out.result.wall_s
            self.case.save_render(key, out.result, out.video)
            log.info("rendered", section=run.id, status=out.result.status.value, wall_s=out.result.wall_s)
            transient = out.result.status in (RenderStatus.infra_error, RenderStatus.killed)
            if transient and tries < INFRA_RETRIES:
                log.warning(
                    "render_retry", section=run.id, status=out.result.status.value, reason=out.result.message
                )
                self._render(run, request, key, then, tries + 1)
                return
            then(out.result)

        self._pending[ref] = on_done

    def _on_render(
        self, run: SectionRun, kind: AttemptKind, path: Path, key: str, result: RenderResult
    ) -> None:
        run.result = result
        run.history.append(
            AttemptRecord(
                n=len(run.history) + 1,
                kind=kind,
                code=self.case.rel(path),
                status=result.status,
                message=result.message,
                render_key=key,
            )
        )
        self.case.save_history(run.id, run.history)
        if result.status is RenderStatus.ok:
            run.status, run.final_key = SectionStatus.ok, key
            self.case.save_final(run.id, run.code)
            self.report.section(run.id, "ok", done=True)
            return
        step = next_step(run.history, result, self.cfg.repair)
        if step is None:
            run.status = SectionStatus.failed
            log.warning("section_failed", section=run.id, status=result.status.value, reason=result.message)
            self.report.section(run.id, f"failed ({result.status.value})", done=True)
            return
        log.info(
            "repair", section=run.id, step=step.value, status=result.status.value, line=result.error_line
        )
        self._request_code(run, step, result)

    # -- final tier -----------------------------------------------------------------------
    def _render_frozen(self, runs: list[SectionRun]) -> None:
        """Render each section's frozen code at the final tier, all at once; no repair."""
        self.render_fmt = self.final_fmt
        self.report.sections(len(runs))
        for run in runs:
            request = self._request(run, run.code, self.final_fmt)
            key = render_key(request)

            def then(result: RenderResult, run: SectionRun = run, key: str = key) -> None:
                run.result = result
                if result.status is RenderStatus.ok:
                    run.status, run.final_key = SectionStatus.ok, key
                    self.report.section(run.id, "ok", done=True)
                else:
                    run.status, run.final_key = SectionStatus.failed, None
                    self.report.section(run.id, f"failed ({result.status.value})", done=True)

            self._render(run, request, key, then)
        self.drain()

    # -- finishing ------------------------------------------------------------------------
    def _finish_timings(self, started: float) -> None:
        self.timings.plan = round((self._plan_done or started) - started, 3)
        self.timings.code = round(self._coder_seconds, 3)
        self.timings.render = round(self._render_seconds, 3)

    def _conclude(self, started: float, storyboard_missing: list[str] | None = None) -> Manifest:
        failed = [r.id for r in self.sections if r.status is not SectionStatus.ok]
        missing = list(storyboard_missing or []) + failed
        video: str | None = None
        duration: float | None = None
        if failed and not self.cfg.allow_partial:
            self._write_manifest(started, missing, video=None, duration=None)
            reasons = "; ".join(
                f"section {r.id}: {r.result.message if r.result else 'not rendered'}"
                for r in self.sections
                if r.id in failed
            )
            raise SectionsFailed(
                f"{len(failed)} section(s) never rendered ({reasons}); "
                "rerun to retry, or pass --allow-partial"
            )
        good = [self.case.render_dir(r.final_key) / "video.mp4" for r in self.sections if r.final_key]
        if good:
            self.report.stage("stitching")
            t0 = time.monotonic()
            stitch(good, self.case.video)
            self.timings.stitch = round(time.monotonic() - t0, 3)
            info = probe_video(self.case.video)
            duration = info.duration_s if info else None
            video = self.case.rel(self.case.video)
        return self._write_manifest(started, missing, video=video, duration=duration)

    def _write_manifest(
        self, started: float, missing: list[str], video: str | None, duration: float | None
    ) -> Manifest:
        self.timings.total = round(time.monotonic() - started, 3)
        records = []
        for r in self.sections:
            result = self.case.load_render(r.final_key) if r.final_key else None
            records.append(
                SectionRecord(
                    id=r.id,
                    title=r.board.title,
                    status=r.status,
                    attempts=len(r.history),
                    video=self.case.rel(self.case.render_dir(r.final_key) / "video.mp4")
                    if r.final_key
                    else None,
                    duration_s=result.video_duration_s if result else None,
                    layout_issues=result.layout_issues if result else [],
                    history=r.history,
                )
            )
        calls = [c for c in self.case.all_calls() if c.key in self._used_calls]
        manifest = Manifest(
            topic=self.cfg.topic,
            slug=self.case.root.name,
            provider=self.provider,
            model=_model_of(calls),
            tier=self.final_fmt.tier,
            orientation=self.final_fmt.orientation,
            width=self.final_fmt.width,
            height=self.final_fmt.height,
            fps=self.final_fmt.fps,
            sections=records,
            missing_sections=missing,
            preview_tier=self.preview_fmt.tier if self.cfg.use_feedback else None,
            feedback=self.rounds,
            tokens=token_totals(calls, self._llm[0].prices if self._llm else None),
            timings_s=self.timings,
            this_run=self.counters,
            video=video,
            video_duration_s=duration,
            manim_version=manim_version(),
            c2v_version=__version__,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        write_model_atomic(self.case.manifest, manifest)
        return manifest


def _get(ref: Any) -> tuple[Any, list[LLMReply]]:
    """ray.get that re-raises our own errors from inside an actor as themselves."""
    try:
        value, replies = ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if hasattr(exc, "cause") else None
        if isinstance(cause, C2VError):
            raise cause from None
        raise ClusterError(f"agent call failed: {str(exc).splitlines()[0][:300]}") from exc
    except ray.exceptions.RayError as exc:
        raise ClusterError(f"agent actor unavailable: {type(exc).__name__}") from exc
    return value, list(replies)


def _syntax_error(code: str, section_id: str) -> RenderResult | None:
    try:
        compile(code, "scene.py", "exec")
    except SyntaxError as exc:
        text = (
            f'  File "scene.py", line {exc.lineno}\n    {(exc.text or "").rstrip()}\nSyntaxError: {exc.msg}'
        )
        return RenderResult(
            status=RenderStatus.code_error,
            section_id=section_id,
            message=f"SyntaxError: {exc.msg}",
            traceback=text,
            error_line=exc.lineno,
        )
    return None


def _model_of(calls: list[CallRecord]) -> str:
    models = sorted({r.model for c in calls for r in c.replies})
    return ",".join(models)
