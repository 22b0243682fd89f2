"""What videos and revisions share as work the scheduler runs: claim, hand back, find orphans.

Both rows carry ``status``, ``runner``, ``runs``, ``started_at`` and ``cancel_requested``;
every change of status is a conditional UPDATE, so only one process wins it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Update, func, select, update

from c2v.store.db import Database
from c2v.store.schema import Revision, Video, VideoStatus, utcnow

Work = type[Video] | type[Revision]


def claim(model: Work, key: str | int, runner: str) -> Update:
    """queued -> running for ``runner``, counting the run."""
    return (
        update(model)
        .where(model.id == key, model.status == VideoStatus.queued)
        .values(
            status=VideoStatus.running,
            runner=runner,
            runs=model.runs + 1,
            started_at=func.coalesce(model.started_at, utcnow()),
        )
    )


def hand_back(model: Work, key: str | int) -> Update:
    """running -> queued: its work died, and the next run resumes from the case."""
    return (
        update(model)
        .where(model.id == key, model.status == VideoStatus.running)
        .values(status=VideoStatus.queued, runner=None)
    )


def orphans_of(db: Database, model: Work, runner: str) -> list[Any]:
    """Ids of running rows whose runner is not ``runner`` (a scheduler that is gone)."""
    with db.session() as s:
        query = select(model.id).where(
            model.status == VideoStatus.running, (model.runner != runner) | (model.runner.is_(None))
        )
        return list(s.scalars(query))


def cancels_of(db: Database, model: Work) -> list[Any]:
    """Ids of running rows whose cancel was asked for."""
    with db.session() as s:
        return list(
            s.scalars(select(model.id).where(model.status == VideoStatus.running, model.cancel_requested))
        )
