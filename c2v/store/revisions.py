"""Revisions: a person's note on one section of a finished video, kept with what became of it.

A revision moves like a video (``queued -> running -> succeeded | failed | cancelled``,
and ``running -> queued`` when its worker died), each change a conditional UPDATE with its
event on the video's stream (kind ``revision``). A video has at most one revision running:
the claim locks the video's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has one
writer anyway), so two schedulers never revise the same case at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from c2v.store import work
from c2v.store.db import Database
from c2v.store.schema import EventKind, Revision, Video, VideoStatus, utcnow
from c2v.store.videos import ACTIVE, Outcome, add_event, apply_outcome, changed


@dataclass(frozen=True)
class RevisionOutcome:
    """How a revision ended; ``video`` holds the video's new totals and file when it succeeded."""

    status: VideoStatus
    error: str | None = None
    attempt: int | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    video: Outcome | None = None


def _revision_event(s: Session, row: Revision, status: VideoStatus) -> None:
    add_event(
        s,
        row.video_id,
        EventKind.revision,
        status.value,
        section=row.section_id,
        done=status.is_terminal(),
        revision=(row.id, row.attempt),
    )


def add_revision(db: Database, video_id: str, section_id: str, note: str) -> Revision:
    row = Revision(
        video_id=video_id,
        section_id=section_id,
        note=note,
        status=VideoStatus.queued,
        cancel_requested=False,
        tokens=0,
        cost_usd=0.0,
        runs=0,
        created_at=utcnow(),
    )
    with db.session() as s:
        s.add(row)
        s.flush()
        _revision_event(s, row, VideoStatus.queued)
    return row


def get_revision(db: Database, revision_id: int) -> Revision | None:
    with db.session() as s:
        return s.get(Revision, revision_id)


def revisions_of(db: Database, video_id: str) -> list[Revision]:
    with db.session() as s:
        return list(s.scalars(select(Revision).where(Revision.video_id == video_id).order_by(Revision.id)))


def active_revisions(db: Database, video_id: str) -> int:
    """The video's revisions that are queued or running."""
    with db.session() as s:
        query = select(func.count()).where(Revision.video_id == video_id, Revision.status.in_(ACTIVE))
        return int(s.scalar(query) or 0)


def _running_on(s: Session, video_id: str) -> bool:
    query = select(func.count()).where(Revision.video_id == video_id, Revision.status == VideoStatus.running)
    return bool(s.scalar(query))


def claim_revisions(db: Database, limit: int, runner: str) -> list[int]:
    """Move up to ``limit`` queued revisions (oldest first, one per video) to running."""
    if limit <= 0:
        return []
    claimed: list[int] = []
    with db.session() as s:
        rows = s.execute(
            select(Revision.id, Revision.video_id)
            .join(Video, Video.id == Revision.video_id)
            .where(Revision.status == VideoStatus.queued, Video.status == VideoStatus.succeeded)
            .order_by(Revision.created_at, Revision.id)
        ).all()
        for rid, vid in rows:
            if len(claimed) >= limit:
                break
            if not db.is_sqlite:  # wait for a claim of this video by another scheduler to commit
                s.execute(select(Video.id).where(Video.id == vid).with_for_update())
            if _running_on(s, vid):
                continue
            if changed(s.execute(work.claim(Revision, rid, runner))):
                claimed.append(rid)
                row = s.get(Revision, rid)
                assert row is not None
                s.refresh(row)
                _revision_event(s, row, VideoStatus.running)
    return claimed


def finish_revision(db: Database, revision_id: int, outcome: RevisionOutcome) -> bool:
    """Record the end of a running revision; False when it is no longer running.

    A revision that succeeded is recorded so even when a cancel came late: the case on
    disk already holds the new version, and the video's row follows the case. Any other
    outcome of a revision whose cancel was asked for is ``cancelled``.
    """
    with db.session() as s:
        row = s.get(Revision, revision_id, with_for_update=not db.is_sqlite)
        if row is None or row.status is not VideoStatus.running:
            return False
        status = outcome.status
        if row.cancel_requested and status is not VideoStatus.succeeded:
            status = VideoStatus.cancelled
        row.status, row.finished_at = status, utcnow()
        row.error = outcome.error if status is VideoStatus.failed else None
        row.tokens, row.cost_usd = outcome.tokens, outcome.cost_usd
        if status is VideoStatus.succeeded:
            row.attempt = outcome.attempt
            video = s.get(Video, row.video_id, with_for_update=not db.is_sqlite)
            if video is not None and outcome.video is not None:
                apply_outcome(video, outcome.video, published=True)
        _revision_event(s, row, status)
    return True


def cancel_revisions(db: Database, video_id: str) -> int:
    """Cancel the video's queued revisions at once and flag its running one; returns how many."""
    n = 0
    with db.session() as s:
        rows = s.scalars(
            select(Revision).where(Revision.video_id == video_id, Revision.status.in_(ACTIVE))
        ).all()
        for row in rows:
            done = s.execute(
                update(Revision)
                .where(Revision.id == row.id, Revision.status == VideoStatus.queued)
                .values(status=VideoStatus.cancelled, cancel_requested=True, finished_at=utcnow())
            )
            if changed(done):
                _revision_event(s, row, VideoStatus.cancelled)
            else:
                s.execute(update(Revision).where(Revision.id == row.id).values(cancel_requested=True))
            n += 1
    return n


def revision_cancels(db: Database) -> list[int]:
    """Running revisions whose cancel was asked for."""
    return work.cancels_of(db, Revision)


def orphan_revisions(db: Database, runner: str) -> list[int]:
    """Running revisions whose runner is not ``runner`` (a scheduler that is gone)."""
    return work.orphans_of(db, Revision, runner)


def requeue_revisions(db: Database, revision_ids: Sequence[int], why: str) -> int:
    """Hand running revisions back to the queue (their work died); they run again from the case."""
    n = 0
    with db.session() as s:
        for rid in revision_ids:
            done = changed(s.execute(work.hand_back(Revision, rid)))
            row = s.get(Revision, rid)
            if done and row is not None:
                n += 1
                s.refresh(row)
                _revision_event(s, row, VideoStatus.queued)
                add_event(s, row.video_id, EventKind.stage, why)
    return n
