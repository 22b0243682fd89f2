"""Many topics in one run (Code2Video's ``run_agent.sh``), resumable, on one Ray instance.

``c2v batch TOPICS.json`` runs up to ``parallel_groups`` topics at once. Each topic in flight
is a driver thread running one :class:`c2v.pipeline.Pipeline`; every LLM call and render
stays a Ray actor call or task, so the threads only wait on futures. Ray is started (or
joined) once, before the threads.

Resuming: a topic whose case folder holds a finished manifest (video present, no missing
section, same tier and orientation) and, with ``--storage``, whose publication is recorded
in ``batch.json``, is not run again. Any other topic runs its pipeline, which replays every
LLM call and render its case folder already holds. So re-running the same command after a
crash, a SIGKILL or Ctrl-C redoes no finished topic, no LLM call and no finished render.

``<output>/<prefix>/batch.json`` (and ``batch.md``) is rewritten atomically whenever a topic
starts or finishes, so ``c2v status`` shows a running batch's progress.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from c2v.batch.publish import Publisher
from c2v.batch.report import BatchReport, TopicRecord, TopicState, load_report, now_iso, write_report
from c2v.case import CaseDir
from c2v.config import RunConfig
from c2v.core.logs import task_context
from c2v.core.progress import BatchReporter, NullBatchReporter
from c2v.core.slug import slugify
from c2v.errors import C2VError, CaseFileError, OutputDirError, SectionsFailed, one_line
from c2v.models import Manifest

log = structlog.get_logger("c2v.batch.runner")
_MARKS = {TopicState.ok: "✓", TopicState.partial: "◐"}


def finished_manifest(case_root: Path, cfg: RunConfig) -> Manifest | None:
    """The case's manifest when it is a finished video of ``cfg``'s tier and orientation."""
    case = CaseDir(case_root)
    manifest = _read_manifest(case_root)
    if manifest is None:
        return None
    done = (
        manifest.video is not None
        and case.path(manifest.video).is_file()
        and not manifest.missing_sections
        and manifest.tier is cfg.tier
        and manifest.orientation is cfg.orientation
    )
    return manifest if done else None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, C2VError):
        return one_line(exc, 500, typed=False)
    return f"internal error: {one_line(exc, 500)}"[:500]


@dataclass
class _Job:
    cfg: RunConfig
    record: TopicRecord


class BatchRunner:
    """Runs the topics of a batch, ``parallel_groups`` at a time, and keeps ``batch.json``.

    ``generate`` runs one topic (the real one builds a :class:`c2v.pipeline.Pipeline`); it is
    a parameter so tests can drive the runner without Ray.
    """

    def __init__(
        self,
        configs: Sequence[RunConfig],
        report: BatchReport,
        batch_dir: Path,
        parallel_groups: int,
        publisher: Publisher | None = None,
        progress: BatchReporter | None = None,
        start_ray: Callable[[], object] | None = None,
        generate: Callable[[RunConfig, CaseDir, Any], Manifest] | None = None,
    ) -> None:
        self.report = report
        self.batch_dir = batch_dir
        self.parallel_groups = max(1, parallel_groups)
        self.publisher = publisher
        self.progress = progress or NullBatchReporter()
        self._start_ray = start_ray
        self._generate = generate or _pipeline_generate
        self._lock = threading.Lock()
        self._jobs = [
            _Job(cfg, TopicRecord(index=n, topic=cfg.topic, slug=slugify(cfg.topic)))
            for n, cfg in enumerate(configs, start=1)
        ]
        self.report.topics = [j.record for j in self._jobs]
        self._queue: list[_Job] = []

    def case_root(self, job: _Job) -> Path:
        return self.batch_dir / job.record.slug

    # -- the whole batch ------------------------------------------------------------------
    def run(self) -> BatchReport:
        started = time.monotonic()
        try:
            self.batch_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputDirError(f"cannot create batch folder {self.batch_dir}: {exc.strerror}") from None
        previous = load_report(self.batch_dir)
        done = 0
        for job in self._jobs:
            if self._resume(job, previous):
                done += 1
            else:
                self._queue.append(job)
        self._save()
        self.progress.start(len(self._jobs), done)
        try:
            if self._queue:
                # Once, before any topic thread; not at all when the topics left only need publishing.
                unfinished = any(finished_manifest(self.case_root(j), j.cfg) is None for j in self._queue)
                if self._start_ray is not None and unfinished:
                    self._start_ray()
                self._run_threads()
        finally:
            self.report.seconds = round(time.monotonic() - started, 3)
            self.report.finished = all(j.record.status.is_done() for j in self._jobs)
            self._save()
            self.progress.close()
        return self.report

    def _run_threads(self) -> None:
        threads = [
            threading.Thread(target=self._worker, name=f"c2v-topic-{n}", daemon=True)
            for n in range(min(self.parallel_groups, len(self._queue)))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():  # join with a timeout, so Ctrl-C reaches the main thread
                thread.join(0.5)

    def _worker(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    return
                job = self._queue.pop(0)
            try:
                self._run_topic(job)
            except BaseException as exc:  # never lose the batch record to one topic
                log.exception("topic_crashed", topic=job.record.slug)
                self._finish(job, status=TopicState.failed, error=_one_line(exc))

    # -- one topic ------------------------------------------------------------------------
    def _resume(self, job: _Job, previous: BatchReport | None) -> bool:
        """Mark ``job`` done from an earlier run when nothing is left to do for it."""
        root = self.case_root(job)
        manifest = finished_manifest(root, job.cfg)
        if manifest is None:
            return False
        same_batch = previous is not None and previous.batch_id == self.report.batch_id
        before = previous.record(job.record.slug) if previous is not None and same_batch else None
        link = before.link if before is not None else None
        unpublished = before is None or before.published_to != getattr(self.publisher, "url", None)
        if self.publisher is not None and unpublished:
            return False  # finished but not published there yet: the topic thread publishes it
        record = job.record.with_manifest(manifest, job.record.slug).model_copy(
            update={
                "status": TopicState.ok,
                "resumed": True,
                "llm_calls": 0,
                "llm_calls_reused": 0,
                "renders": 0,
                "renders_reused": 0,
                "seconds": manifest.timings_s.total,
                "link": link,
                "published_to": before.published_to if before is not None else None,
                "finished_at": before.finished_at if before is not None else manifest.created_at,
            }
        )
        self._set(job, record)
        log.info("topic_resumed", topic=job.record.slug)
        return True

    def _run_topic(self, job: _Job) -> None:
        slug = job.record.slug
        with task_context(batch=self.report.batch_id, topic=slug):
            started = time.monotonic()
            self._set(
                job, job.record.model_copy(update={"status": TopicState.running, "started_at": now_iso()})
            )
            self._save()
            reporter = self.progress.topic(slug, job.cfg.topic)
            root = self.case_root(job)
            manifest = finished_manifest(root, job.cfg)
            error: str | None = None
            resumed = manifest is not None
            try:
                if manifest is None:
                    case = CaseDir.create(root)
                    try:
                        manifest = self._generate(job.cfg, case, reporter)
                    finally:
                        case.unlock()
            except SectionsFailed as exc:
                error = _one_line(exc)
                manifest = _read_manifest(root)  # written before the pipeline gave up
            except C2VError as exc:
                error = _one_line(exc)
            finally:
                reporter.close()
            record = job.record
            if manifest is not None:
                record = record.with_manifest(manifest, slug)
                if resumed:
                    record = record.model_copy(
                        update={"llm_calls": 0, "renders": 0, "llm_calls_reused": 0, "renders_reused": 0}
                    )
            status = TopicState.failed if error is not None else TopicState.ok
            if status is TopicState.ok and manifest is not None and manifest.missing_sections:
                status = TopicState.partial
            link, published_to = record.link, record.published_to
            if self.publisher is not None and status is not TopicState.failed and record.video:
                try:
                    link, published_to = self.publisher.publish(root, slug), self.publisher.url
                except C2VError as exc:
                    status, error = TopicState.failed, f"publish to {self.publisher.url}: {_one_line(exc)}"
            record = record.model_copy(
                update={
                    "resumed": resumed,
                    "seconds": manifest.timings_s.total
                    if resumed and manifest is not None
                    else round(time.monotonic() - started, 3),
                    "link": link,
                    "published_to": published_to,
                }
            )
            self._set(job, record)
            self._finish(job, status=status, error=error)

    def _finish(self, job: _Job, status: TopicState, error: str | None) -> None:
        record = job.record.model_copy(update={"status": status, "error": error, "finished_at": now_iso()})
        self._set(job, record)
        self._save()
        sections = f"{record.sections_ok}/{record.sections_total} sections"
        mark = _MARKS.get(status, "✗")
        line = f"{mark} {record.topic}: {status.value}, {sections}, {record.seconds:.0f} s"
        if error:
            line += f" - {error[:160]}"
        log.info("topic_done", topic=record.slug, status=status.value, seconds=record.seconds, error=error)
        self.progress.topic_done(record.slug, status.value, line)

    # -- the record -----------------------------------------------------------------------
    def _set(self, job: _Job, record: TopicRecord) -> None:
        with self._lock:
            job.record = record
            self.report.topics[record.index - 1] = record

    def _save(self) -> None:
        with self._lock:
            self.report.updated_at = now_iso()
            write_report(self.batch_dir, self.report)


def _read_manifest(root: Path) -> Manifest | None:
    """The case's manifest, or None when there is none or another version wrote it (run again)."""
    try:
        return CaseDir(root).read_manifest()
    except CaseFileError:
        return None


def _pipeline_generate(cfg: RunConfig, case: CaseDir, reporter: Any) -> Manifest:
    from c2v.pipeline import Pipeline  # noqa: PLC0415 - Ray and Manim load only when a topic runs

    return Pipeline(cfg, case, reporter).generate()
