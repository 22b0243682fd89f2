"""Revisions: a person's note on one section of a finished video, kept with what became of it."""

from __future__ import annotations

from sqlalchemy import select

from c2v.store.db import Database
from c2v.store.schema import Revision, VideoStatus, utcnow


def add_revision(db: Database, video_id: str, section_id: str, note: str) -> Revision:
    row = Revision(
        video_id=video_id, section_id=section_id, note=note, status=VideoStatus.queued, created_at=utcnow()
    )
    with db.session() as s:
        s.add(row)
        s.flush()
    return row


def revisions_of(db: Database, video_id: str) -> list[Revision]:
    with db.session() as s:
        return list(s.scalars(select(Revision).where(Revision.video_id == video_id).order_by(Revision.id)))
