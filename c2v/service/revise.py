"""``POST /v1/videos/{id}/sections/{section_id}/revise`` and ``GET /v1/videos/{id}/revisions``.

A revision is recorded queued here and run by the scheduler as Ray work on the video's case
(:mod:`c2v.service.revising`): the Coder revises that section with the note, only it renders
again, the video is stitched again, and the section's history keeps both versions.
"""

from __future__ import annotations

import json

from fastapi import FastAPI, HTTPException

from c2v.service.api import Problem, ReviseRequest, RevisionView
from c2v.service.deps import Caller, State, own
from c2v.store.revisions import add_revision, revisions_of
from c2v.store.schema import Revision, VideoStatus, as_utc


def revision_view(row: Revision) -> RevisionView:
    return RevisionView(
        id=row.id,
        video_id=row.video_id,
        section_id=row.section_id,
        note=row.note,
        status=VideoStatus(row.status),
        error=row.error,
        attempt=row.attempt,
        tokens=row.tokens,
        cost_usd=row.cost_usd,
        runs=row.runs,
        created_at=as_utc(row.created_at),
        started_at=as_utc(row.started_at) if row.started_at else None,
        finished_at=as_utc(row.finished_at) if row.finished_at else None,
    )


def mount_revise(api: FastAPI) -> None:
    @api.post(
        "/v1/videos/{video_id}/sections/{section_id}/revise",
        status_code=202,
        responses={404: {"model": Problem}, 409: {"model": Problem}, 422: {"model": Problem}},
    )
    def revise(
        video_id: str, section_id: str, body: ReviseRequest, state: State, caller: Caller
    ) -> RevisionView:
        video = own(state, caller, video_id)
        if VideoStatus(video.status) is not VideoStatus.succeeded:
            raise HTTPException(409, f"video {video_id} is {video.status}; only a finished video is revised")
        status = {s["id"]: s["status"] for s in json.loads(video.sections or "[]")}.get(section_id)
        if status is None:
            raise HTTPException(404, f"video {video_id} has no section {section_id!r}")
        if status != "ok":
            raise HTTPException(
                409, f"section {section_id} of video {video_id} is {status}; it has no version to revise"
            )
        row = add_revision(state.db, video_id, section_id, body.note)
        state.wake()
        return revision_view(row)

    @api.get("/v1/videos/{video_id}/revisions", responses={404: {"model": Problem}})
    def revisions(video_id: str, state: State, caller: Caller) -> list[RevisionView]:
        """The video's revisions, oldest first, with what became of each."""
        own(state, caller, video_id)
        return [revision_view(r) for r in revisions_of(state.db, video_id)]
