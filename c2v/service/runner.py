"""One video as Ray work: the CLI's pipeline in a Ray task, its progress recorded in the store.

The task is a driver of its own: it holds no CPU (its renders and agent calls are Ray
tasks and actors it owns), so cancelling it with ``ray.cancel(force=True, recursive=True)``
kills the worker, its agent actors and its render tasks; a bubblewrap sandbox dies with
the worker that started it (``--die-with-parent``).

A restarted video runs the same pipeline on the same case folder, which replays every
stored LLM answer and render, so nothing finished is paid for twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import ray
import structlog

from c2v.case import CaseDir
from c2v.errors import C2VError, CaseBusyError
from c2v.models import AttemptKind, Manifest
from c2v.pipeline import Pipeline, case_dir_for
from c2v.service.api import SectionView, VideoRequest
from c2v.service.requests import run_config
from c2v.service.settings import ServiceSettings
from c2v.storage import open_storage
from c2v.storage.base import published_video
from c2v.store.db import Database
from c2v.store.schema import EventKind, VideoStatus
from c2v.store.videos import Outcome, finish, get_video, record_event, set_case, set_sections

log = structlog.get_logger("c2v.service.runner")

#: How long a restarted video waits for the case lock of its previous, dying worker.
LOCK_WAIT_S = 90.0
_ATTEMPT_WORDS = {k.value for k in AttemptKind}


class StoreReporter:
    """A :class:`c2v.core.progress.Reporter` that records each event in the job store."""

    def __init__(self, db: Database, video_id: str, sections: list[SectionView] | None = None) -> None:
        """``sections``: the video's sections as recorded (a revision updates one of them)."""
        self._db = db
        self._id = video_id
        self._sections: dict[str, SectionView] = {s.id: s for s in sections or []}

    def stage(self, text: str) -> None:
        record_event(self._db, self._id, EventKind.stage, text)

    def sections(self, total: int) -> None:
        record_event(self._db, self._id, EventKind.sections, str(total))

    def section(self, section_id: str, text: str, done: bool = False) -> None:
        record_event(self._db, self._id, EventKind.section, text, section=section_id, done=done)
        view = self._sections.get(section_id) or SectionView(id=section_id, status="queued")
        attempts = view.attempts + (1 if text in _ATTEMPT_WORDS else 0)
        self._sections[section_id] = view.model_copy(update={"status": text, "attempts": attempts})
        set_sections(self._db, self._id, [s.model_dump() for s in self._sections.values()])

    def close(self) -> None:
        pass


def link_render_cache(case_root: Path, cache: Path) -> None:
    """Point the case's ``renders/`` at the service-wide cache (keys are content hashes)."""
    cache.mkdir(parents=True, exist_ok=True)
    link = case_root / "renders"
    if not link.exists() and not link.is_symlink():
        link.symlink_to(cache.resolve(), target_is_directory=True)


def _sections_json(manifest: Manifest) -> str:
    views = [
        SectionView(id=s.id, title=s.title, status=s.status.value, attempts=s.attempts)
        for s in manifest.sections
    ]
    return json.dumps([v.model_dump() for v in views])


def outcome_of(manifest: Manifest | None, status: VideoStatus, error: str | None = None) -> Outcome:
    if manifest is None:
        return Outcome(status=status, error=error)
    return Outcome(
        status=status,
        error=error,
        sections=_sections_json(manifest),
        tokens=manifest.tokens.total,
        cost_usd=manifest.tokens.cost_usd,
        render_s=manifest.timings_s.render_task_s,
        llm_calls=manifest.this_run.llm_calls,
        renders=manifest.this_run.renders,
    )


def read_manifest(path: Path) -> Manifest | None:
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def with_case_lock(case: CaseDir, run: Callable[[], Manifest], deadline: float) -> Manifest:
    """``run()`` on ``case``, again while the previous, dying worker of this work holds its lock.

    The case is unlocked afterwards: Ray reuses this worker process for later tasks, and
    the lock (an ``flock``) would otherwise outlive the task.
    """
    try:
        while True:
            try:
                return run()
            except CaseBusyError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)  # the worker of the previous run is still dying
    finally:
        case.unlock()


def execute(settings: ServiceSettings, video_id: str) -> VideoStatus:
    """Run one claimed video to its end and record the outcome; returns the status recorded."""
    db = Database(settings.db_url.get_secret_value())
    try:
        video = get_video(db, video_id)
        if video is None or video.status is not VideoStatus.running:
            return VideoStatus(video.status) if video is not None else VideoStatus.failed
        request = VideoRequest.model_validate_json(video.request)
        reporter = StoreReporter(db, video_id)
        manifest_path: Path | None = None
        try:
            cfg = run_config(request, settings, video_id)
            case = case_dir_for(cfg)
            manifest_path = case.manifest
            if settings.shared_render_cache:
                link_render_cache(case.root, settings.render_cache)
            set_case(db, video_id, str(case.root))
            manifest = with_case_lock(
                case, lambda: Pipeline(cfg, case, reporter).generate(), time.monotonic() + LOCK_WAIT_S
            )
            outcome = outcome_of(manifest, VideoStatus.succeeded)
            outcome = with_video(outcome, case.root, manifest, settings, video_id)
        except C2VError as exc:
            log.warning("video_failed", video=video_id, error=str(exc))
            partial = read_manifest(manifest_path) if manifest_path else None
            outcome = outcome_of(partial, VideoStatus.failed, error=str(exc).splitlines()[0][:500])
        finish(db, video_id, outcome)
        return outcome.status
    finally:
        db.dispose()


def with_video(
    outcome: Outcome, root: Path, manifest: Manifest, settings: ServiceSettings, vid: str
) -> Outcome:
    """The outcome with the stitched video's path, published to ``--storage`` when there is one
    (then with the published video's key, which each download signs a fresh link to)."""
    if manifest.video is None:
        return Outcome(**{**outcome.__dict__, "status": VideoStatus.failed, "error": "no video was stitched"})
    key = None
    if settings.storage:
        published = open_storage(settings.storage, settings.s3_endpoint_url).publish_case(
            root, batch="service", slug=vid
        )
        video = published_video(published.objects)
        key = video.key if video else None
    return Outcome(**{**outcome.__dict__, "video_path": str(root / manifest.video), "video_object": key})


@ray.remote(num_cpus=0, max_retries=0)
def run_video(settings: ServiceSettings, video_id: str) -> str:
    """The Ray task of one video (the scheduler owns it, and cancels it by force).

    ``settings`` travels pickled, so the database password stays a secret on the wire
    format's side too (its JSON dump would mask it).
    """
    return execute(settings, video_id).value
