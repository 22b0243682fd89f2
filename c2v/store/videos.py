"""Videos and their events: every state change is one transaction with its event.

Status moves only forward: ``queued -> running -> succeeded | failed | cancelled``, and
``running -> queued`` when a restart or a lost worker hands the work back. Each change is
a conditional UPDATE (``WHERE status = ...``), so two processes can never both start, or
both finish, the same video.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Result, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from c2v.errors import StoreError
from c2v.store import work
from c2v.store.db import Database
from c2v.store.schema import Event, EventKind, Video, VideoStatus, as_utc, utcnow

ACTIVE = (VideoStatus.queued, VideoStatus.running)


@dataclass(frozen=True)
class NewVideo:
    tenant_id: str
    topic: str
    request: str
    request_hash: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How a run ended, as the worker reports it."""

    status: VideoStatus
    error: str | None = None
    video_path: str | None = None
    video_object: str | None = None  # the published video's key in the service's storage
    sections: str | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    render_s: float = 0.0
    llm_calls: int = 0
    renders: int = 0


def add_event(
    s: Session,
    video_id: str,
    kind: EventKind,
    text: str,
    section: str | None = None,
    done: bool = False,
    revision: tuple[int, int | None] | None = None,
) -> None:
    """One event in ``s``'s transaction; ``revision`` is (revision id, attempt) of a revision event."""
    rid, attempt = revision if revision is not None else (None, None)
    s.add(
        Event(
            video_id=video_id,
            at=utcnow(),
            kind=kind,
            section_id=section,
            text=text,
            done=done,
            revision_id=rid,
            attempt=attempt,
        )
    )


def changed(result: Result[Any]) -> int:
    """Rows a conditional UPDATE changed (0: another process got there first)."""
    return cast(CursorResult[Any], result).rowcount


def find_idempotent(db: Database, tenant_id: str, key: str) -> Video | None:
    with db.session() as s:
        return s.scalars(
            select(Video).where(Video.tenant_id == tenant_id, Video.idempotency_key == key)
        ).one_or_none()


def create_video(db: Database, new: NewVideo) -> tuple[Video, bool]:
    """Insert a queued video with its first event; (video, True) when created now.

    With an idempotency key already used by this tenant, the stored video comes back with
    False (a concurrent insert that loses the unique-key race lands here too).
    """
    video = Video(
        id=secrets.token_hex(8),
        tenant_id=new.tenant_id,
        status=VideoStatus.queued,
        topic=new.topic,
        request=new.request,
        request_hash=new.request_hash,
        idempotency_key=new.idempotency_key,
        cancel_requested=False,
        sections="[]",
        created_at=utcnow(),
    )
    try:
        with db.session() as s:
            s.add(video)
            s.flush()
            add_event(s, video.id, EventKind.status, VideoStatus.queued.value)
    except StoreError as exc:
        if isinstance(exc.__cause__, IntegrityError) and new.idempotency_key is not None:
            found = find_idempotent(db, new.tenant_id, new.idempotency_key)
            if found is not None:
                return found, False
        raise
    return video, True


def get_video(db: Database, video_id: str, tenant_id: str | None = None) -> Video | None:
    """A video by id; with ``tenant_id``, only when it belongs to that tenant."""
    with db.session() as s:
        video = s.get(Video, video_id)
        if video is None or (tenant_id is not None and video.tenant_id != tenant_id):
            return None
        return video


def list_videos(db: Database, tenant_id: str, limit: int, before: tuple[datetime, str] | None) -> list[Video]:
    """A tenant's videos, newest first; ``before`` is the (created_at, id) of the last one seen."""
    with db.session() as s:
        query = select(Video).where(Video.tenant_id == tenant_id)
        if before is not None:
            at, vid = before
            query = query.where((Video.created_at < at) | ((Video.created_at == at) & (Video.id < vid)))
        query = query.order_by(Video.created_at.desc(), Video.id.desc()).limit(limit)
        return list(s.scalars(query))


def in_flight(db: Database, tenant_id: str | None = None) -> int:
    with db.session() as s:
        query = select(func.count()).select_from(Video).where(Video.status.in_(ACTIVE))
        if tenant_id is not None:
            query = query.where(Video.tenant_id == tenant_id)
        return int(s.scalar(query) or 0)


def counts_by_status(db: Database) -> dict[VideoStatus, int]:
    with db.session() as s:
        rows = s.execute(select(Video.status, func.count()).group_by(Video.status)).all()
    counts = dict.fromkeys(VideoStatus, 0)
    counts.update({VideoStatus(status): int(n) for status, n in rows})
    return counts


def totals(db: Database) -> dict[str, float]:
    """Service-wide sums for the metrics: render seconds, tokens, LLM calls, renders."""
    with db.session() as s:
        row = s.execute(
            select(
                func.coalesce(func.sum(Video.render_s), 0.0),
                func.coalesce(func.sum(Video.tokens), 0),
                func.coalesce(func.sum(Video.llm_calls), 0),
                func.coalesce(func.sum(Video.renders), 0),
            )
        ).one()
    return {
        "render_s": float(row[0]),
        "tokens": float(row[1]),
        "llm_calls": float(row[2]),
        "renders": float(row[3]),
    }


def request_cancel(db: Database, video_id: str) -> VideoStatus:
    """Cancel a queued video at once; flag a running one for the scheduler. Returns the status."""
    with db.session() as s:
        done = s.execute(
            update(Video)
            .where(Video.id == video_id, Video.status == VideoStatus.queued)
            .values(status=VideoStatus.cancelled, cancel_requested=True, finished_at=utcnow())
        )
        if changed(done):
            add_event(s, video_id, EventKind.status, VideoStatus.cancelled.value)
            return VideoStatus.cancelled
        s.execute(
            update(Video)
            .where(Video.id == video_id, Video.status == VideoStatus.running)
            .values(cancel_requested=True)
        )
        status = s.scalar(select(Video.status).where(Video.id == video_id))
        return VideoStatus(status) if status is not None else VideoStatus.cancelled


def claim_queued(db: Database, limit: int, runner: str) -> list[str]:
    """Move up to ``limit`` queued videos (oldest first) to running for ``runner``."""
    if limit <= 0:
        return []
    claimed: list[str] = []
    with db.session() as s:
        ids = s.scalars(
            select(Video.id)
            .where(Video.status == VideoStatus.queued)
            .order_by(Video.created_at, Video.id)
            .limit(limit)
        ).all()
        for vid in ids:
            if changed(s.execute(work.claim(Video, vid, runner))):
                claimed.append(vid)
                add_event(s, vid, EventKind.status, VideoStatus.running.value)
    return claimed


def requeue(db: Database, video_ids: Sequence[str], why: str) -> int:
    """Hand running videos back to the queue (their work died); they resume from their cases."""
    n = 0
    with db.session() as s:
        for vid in video_ids:
            if changed(s.execute(work.hand_back(Video, vid))):
                n += 1
                add_event(s, vid, EventKind.status, VideoStatus.queued.value, section=None)
                add_event(s, vid, EventKind.stage, why)
    return n


def orphans(db: Database, runner: str) -> list[str]:
    """Running videos whose runner is not ``runner`` (a scheduler that is gone)."""
    return work.orphans_of(db, Video, runner)


def cancel_requested(db: Database) -> list[str]:
    return work.cancels_of(db, Video)


def set_case(db: Database, video_id: str, case_dir: str) -> None:
    with db.session() as s:
        s.execute(update(Video).where(Video.id == video_id).values(case_dir=case_dir))


def finish(db: Database, video_id: str, outcome: Outcome) -> bool:
    """Record the end of a running video; False when it is no longer running (already ended).

    A video whose cancel was asked for ends ``cancelled`` whatever the outcome says.
    """
    with db.session() as s:
        video = s.get(Video, video_id, with_for_update=not db.is_sqlite)
        if video is None or video.status is not VideoStatus.running:
            return False
        status = VideoStatus.cancelled if video.cancel_requested else outcome.status
        video.status = status
        video.finished_at = utcnow()
        video.error = outcome.error if status is VideoStatus.failed else None
        apply_outcome(video, outcome, published=status is VideoStatus.succeeded)
        add_event(s, video_id, EventKind.status, status.value, done=True)
    return True


def apply_outcome(video: Video, outcome: Outcome, published: bool) -> None:
    """A run's results on the video's row: its totals, sections and (``published``) its file."""
    if published:
        video.video_path, video.video_object = outcome.video_path, outcome.video_object
        video.video_url = None  # a link signed at publication would outlive its signature
    if outcome.sections is not None:
        video.sections = outcome.sections
    video.tokens, video.cost_usd = outcome.tokens, outcome.cost_usd
    video.render_s = video.render_s + outcome.render_s
    video.llm_calls = video.llm_calls + outcome.llm_calls
    video.renders = video.renders + outcome.renders


def record_event(
    db: Database, video_id: str, kind: EventKind, text: str, section: str | None = None, done: bool = False
) -> None:
    with db.session() as s:
        add_event(s, video_id, kind, text, section, done)


def set_sections(db: Database, video_id: str, sections: list[dict[str, object]]) -> None:
    with db.session() as s:
        s.execute(update(Video).where(Video.id == video_id).values(sections=json.dumps(sections)))


def events_after(db: Database, video_id: str, after: int, limit: int = 500) -> list[Event]:
    with db.session() as s:
        return list(
            s.scalars(
                select(Event)
                .where(Event.video_id == video_id, Event.id > after)
                .order_by(Event.id)
                .limit(limit)
            )
        )


def status_of(video: Video) -> VideoStatus:
    return VideoStatus(video.status)


def created_at(video: Video) -> datetime:
    return as_utc(video.created_at)
