"""One revision as Ray work: :meth:`Pipeline.revise_section` on the video's case, recorded in the store.

Like a video's task it holds no CPU and owns its agent actors and render tasks, so the
scheduler cancels it by force. Its progress goes onto the video's event stream (the
reporter is seeded with the video's sections, so only the revised one changes), and the
revision's own cost is what the video's totals grew by.
"""

from __future__ import annotations

import json
import time

import ray
import structlog

from c2v.errors import C2VError, UsageError, one_line
from c2v.models import Manifest
from c2v.pipeline import Pipeline, case_dir_for
from c2v.service.api import SectionView, VideoRequest
from c2v.service.requests import run_config
from c2v.service.runner import (
    LOCK_WAIT_S,
    StoreReporter,
    link_render_cache,
    outcome_of,
    with_case_lock,
    with_video,
)
from c2v.service.settings import ServiceSettings
from c2v.store.db import Database
from c2v.store.revisions import RevisionOutcome, finish_revision, get_revision
from c2v.store.schema import Revision, Video, VideoStatus
from c2v.store.videos import get_video

log = structlog.get_logger("c2v.service.revising")


def _revise(settings: ServiceSettings, db: Database, row: Revision, video: Video) -> RevisionOutcome:
    request = VideoRequest.model_validate_json(video.request)
    sections = [SectionView.model_validate(s) for s in json.loads(video.sections or "[]")]
    cfg = run_config(request, settings, video.id)
    case = case_dir_for(cfg)
    if settings.shared_render_cache:
        link_render_cache(case.root, settings.render_cache)
    reporter = StoreReporter(db, video.id, sections)

    def run() -> Manifest:
        return Pipeline(cfg, case, reporter).revise_section(row.section_id, row.note)

    manifest = with_case_lock(case, run, time.monotonic() + LOCK_WAIT_S)
    outcome = with_video(outcome_of(manifest, VideoStatus.succeeded), case.root, manifest, settings, video.id)
    if outcome.status is not VideoStatus.succeeded:
        return RevisionOutcome(status=VideoStatus.failed, error=outcome.error)
    record = next(s for s in manifest.sections if s.id == row.section_id)
    return RevisionOutcome(
        status=VideoStatus.succeeded,
        attempt=record.attempts,
        tokens=max(0, manifest.tokens.total - video.tokens),
        cost_usd=max(0.0, manifest.tokens.cost_usd - video.cost_usd),
        video=outcome,
    )


def execute_revision(settings: ServiceSettings, revision_id: int) -> VideoStatus:
    """Run one claimed revision to its end and record the outcome; returns the status recorded."""
    db = Database(settings.db_url.get_secret_value())
    try:
        row = get_revision(db, revision_id)
        if row is None or row.status is not VideoStatus.running:
            return VideoStatus(row.status) if row is not None else VideoStatus.failed
        video = get_video(db, row.video_id)
        try:
            if video is None or video.status is not VideoStatus.succeeded:
                raise UsageError(f"video {row.video_id} has no finished video to revise")
            outcome = _revise(settings, db, row, video)
        except C2VError as exc:
            log.warning("revision_failed", revision=revision_id, error=one_line(exc, 300))
            outcome = RevisionOutcome(status=VideoStatus.failed, error=one_line(exc, 500))
        finish_revision(db, revision_id, outcome)
        return outcome.status
    finally:
        db.dispose()


@ray.remote(num_cpus=0, max_retries=0)
def run_revision(settings: ServiceSettings, revision_id: int) -> str:
    """The Ray task of one revision (the scheduler owns it, and cancels it by force)."""
    return execute_revision(settings, revision_id).value
