"""``POST /v1/videos/{id}/sections/{section_id}/revise``: the API and store side only.

Not mounted by :func:`c2v.service.routes.make_api` yet: the pipeline step exists
(:meth:`c2v.pipeline.Pipeline.revise_section`: the Coder revises one section with the
person's note, only that section renders again, the video is stitched again, and the
section's history keeps both versions), but the scheduler does not run queued revisions
yet. Once it runs them like videos, ``make_api(revise=True)`` mounts these routes.
"""

from __future__ import annotations

import json
from datetime import datetime

from fastapi import FastAPI, HTTPException

from c2v.models import Strict
from c2v.service.api import ReviseRequest
from c2v.service.deps import Caller, State, own
from c2v.store.revisions import add_revision, revisions_of
from c2v.store.schema import Revision, VideoStatus, as_utc


class RevisionView(Strict):
    id: int
    video_id: str
    section_id: str
    note: str
    status: VideoStatus
    error: str | None
    created_at: datetime
    finished_at: datetime | None


def _view(row: Revision) -> RevisionView:
    return RevisionView(
        id=row.id,
        video_id=row.video_id,
        section_id=row.section_id,
        note=row.note,
        status=VideoStatus(row.status),
        error=row.error,
        created_at=as_utc(row.created_at),
        finished_at=as_utc(row.finished_at) if row.finished_at else None,
    )


def mount_revise(api: FastAPI) -> None:
    @api.post("/v1/videos/{video_id}/sections/{section_id}/revise", status_code=202)
    def revise(
        video_id: str, section_id: str, body: ReviseRequest, state: State, caller: Caller
    ) -> RevisionView:
        video = own(state, caller, video_id)
        if VideoStatus(video.status) is not VideoStatus.succeeded:
            raise HTTPException(409, f"video {video_id} is {video.status}; only a finished video is revised")
        if section_id not in {s["id"] for s in json.loads(video.sections or "[]")}:
            raise HTTPException(404, f"video {video_id} has no section {section_id!r}")
        row = add_revision(state.db, video_id, section_id, body.note)
        state.wake()
        return _view(row)

    @api.get("/v1/videos/{video_id}/revisions")
    def revisions(video_id: str, state: State, caller: Caller) -> list[RevisionView]:
        own(state, caller, video_id)
        return [_view(r) for r in revisions_of(state.db, video_id)]
