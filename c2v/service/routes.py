"""The v1 HTTP API (FastAPI): validate, record in the store, answer. Nothing renders here.

Every ``/v1`` call needs ``Authorization: Bearer KEY``; another tenant's video is a 404,
exactly like a video that does not exist. Errors are ``{"detail": "one line"}``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from sse_starlette.sse import EventSourceResponse

from c2v import __version__
from c2v.errors import StorageError, StoreError, UsageError, one_line
from c2v.service.api import (
    MAX_BODY_BYTES,
    EventView,
    Problem,
    SectionView,
    VideoCreated,
    VideoLink,
    VideoPage,
    VideoRequest,
    VideoView,
)
from c2v.service.bodylimit import BodyLimit
from c2v.service.deps import Caller, State, own
from c2v.service.metrics import metrics_text
from c2v.service.requests import provider_for
from c2v.service.revise import mount_revise
from c2v.service.sections_api import mount_sections
from c2v.store import revisions, videos
from c2v.store.db import Database, ping
from c2v.store.schema import EventKind, Video, VideoStatus, as_utc
from c2v.studio.mount import mount_studio

#: Seconds a client over its in-flight limit is told to wait.
IN_FLIGHT_RETRY_S = 30
EVENT_POLL_S = 0.3


def _download_url(request: Request, video_id: str) -> str:
    """This API's own download route of ``video_id``, as an absolute URL."""
    return _absolute(request, request.url_for("download", video_id=video_id).path)


def _view(request: Request, video: Video) -> VideoView:
    asked = VideoRequest.model_validate_json(video.request)
    status = VideoStatus(video.status)
    url = _download_url(request, video.id) if status is VideoStatus.succeeded else None
    return VideoView(
        id=video.id,
        status=status,
        topic=video.topic,
        quality=asked.quality,
        orientation=asked.orientation,
        api=asked.api,
        sections=[SectionView.model_validate(s) for s in json.loads(video.sections or "[]")],
        video_url=url,
        error=video.error,
        tokens=video.tokens,
        cost_usd=video.cost_usd,
        cancel_requested=video.cancel_requested,
        runs=video.runs,
        created_at=as_utc(video.created_at),
        started_at=as_utc(video.started_at) if video.started_at else None,
        finished_at=as_utc(video.finished_at) if video.finished_at else None,
    )


def _absolute(request: Request, path: str) -> str:
    """A link on the host the client called (behind Serve's proxy the ASGI server is another)."""
    host = request.headers.get("host") or request.url.netloc
    scheme = request.headers.get("x-forwarded-proto") or request.url.scheme
    return f"{scheme}://{host}{path}"


def _cursor(video: Video) -> str:
    raw = f"{as_utc(video.created_at).isoformat()}|{video.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, vid = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(at), vid
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(422, "cursor: not a cursor this service handed out") from None


def _errors(api: FastAPI) -> None:
    @api.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse({"detail": "malformed JSON body"}, status_code=400)
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return JSONResponse({"detail": f"{where}: {message}"}, status_code=422)

    @api.exception_handler(StoreError)
    async def store_down(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": "the job store is unavailable; retry later"}, status_code=503)


def make_api() -> FastAPI:
    """The FastAPI app; :class:`ServiceState` goes into ``app.state.service`` before use."""
    api = FastAPI(
        title="c2v",
        version=__version__,
        description="Educational videos from a knowledge point, rendered on a Ray farm.",
        responses={401: {"model": Problem}, 429: {"model": Problem}},
    )
    api.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    _errors(api)

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz")
    def readyz(state: State) -> JSONResponse:
        ready = ping(state.db.engine)
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @api.get("/metrics")
    def metrics(state: State) -> Response:
        return Response(metrics_text(state.db), media_type="text/plain; version=0.0.4")

    @api.post("/v1/videos", status_code=202, responses={422: {"model": Problem}})
    def submit(
        body: VideoRequest,
        state: State,
        caller: Caller,
        response: Response,
        idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    ) -> VideoCreated:
        request_json = body.model_dump_json()
        digest = hashlib.sha256(request_json.encode()).hexdigest()
        if idempotency_key is not None:
            found = videos.find_idempotent(state.db, caller.tenant_id, idempotency_key)
            if found is not None:
                return _replay(found, digest, response)
        try:
            provider_for(body, state.settings)
        except UsageError as exc:
            raise HTTPException(422, str(exc)) from None
        limit = caller.max_in_flight or state.settings.tenant_max_in_flight
        if videos.in_flight(state.db, caller.tenant_id) >= limit:
            raise HTTPException(
                429,
                f"this tenant has {limit} videos queued or running, its limit; retry when one ends",
                headers={"Retry-After": str(IN_FLIGHT_RETRY_S)},
            )
        new = videos.NewVideo(caller.tenant_id, body.topic, request_json, digest, idempotency_key)
        video, created = videos.create_video(state.db, new)
        if not created:
            return _replay(video, digest, response)
        state.wake()
        return VideoCreated(id=video.id, status=VideoStatus.queued)

    @api.get("/v1/videos")
    def list_videos(
        request: Request,
        state: State,
        caller: Caller,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: str | None = None,
    ) -> VideoPage:
        before = _parse_cursor(cursor) if cursor else None
        rows = videos.list_videos(state.db, caller.tenant_id, limit + 1, before)
        page, more = rows[:limit], len(rows) > limit
        return VideoPage(
            videos=[_view(request, v) for v in page], next_cursor=_cursor(page[-1]) if more else None
        )

    @api.get("/v1/videos/{video_id}", responses={404: {"model": Problem}})
    def get_video(video_id: str, request: Request, state: State, caller: Caller) -> VideoView:
        return _view(request, own(state, caller, video_id))

    @api.delete("/v1/videos/{video_id}", status_code=202, responses={404: {"model": Problem}})
    def cancel(video_id: str, request: Request, state: State, caller: Caller) -> VideoView:
        video = own(state, caller, video_id)
        queued = revisions.cancel_revisions(state.db, video_id)
        if not VideoStatus(video.status).is_terminal():
            videos.request_cancel(state.db, video_id)
        if queued or not VideoStatus(video.status).is_terminal():
            state.wake()
        return _view(request, own(state, caller, video_id))

    def published_link(state: State, video: Video) -> str | None:
        """A link to the video in ``--storage``, signed now; None: the service serves the file."""
        if VideoStatus(video.status) is not VideoStatus.succeeded:
            raise HTTPException(409, f"video {video.id} is {video.status}; it has no video file")
        try:
            return state.storage.link(video.video_object) if video.video_object else video.video_url
        except StorageError as exc:
            raise HTTPException(
                503, f"cannot link to the published video: {one_line(exc, 200, typed=False)}"
            ) from exc

    @api.get("/v1/videos/{video_id}/video/link", responses={404: {"model": Problem}})
    def video_link(video_id: str, request: Request, state: State, caller: Caller) -> VideoLink:
        """Where to fetch the video from without this API's key: a player's ``src``."""
        video = own(state, caller, video_id)
        link = published_link(state, video)
        if link:
            return VideoLink(url=link, signed=True)
        return VideoLink(url=_download_url(request, video.id), signed=False)

    @api.get("/v1/videos/{video_id}/video", name="download", responses={404: {"model": Problem}})
    def download(video_id: str, state: State, caller: Caller) -> Response:
        video = own(state, caller, video_id)
        link = published_link(state, video)
        if link:
            return RedirectResponse(link, status_code=307)
        path = Path(video.video_path or "")
        if not path.is_file():
            raise HTTPException(410, f"the video file of {video_id} is gone from the output folder")
        return FileResponse(path, media_type="video/mp4", filename=f"{video_id}.mp4")

    @api.get("/v1/videos/{video_id}/events", responses={404: {"model": Problem}})
    def events(
        video_id: str,
        state: State,
        caller: Caller,
        last_event_id: Annotated[int | None, Header()] = None,
    ) -> EventSourceResponse:
        own(state, caller, video_id)
        return EventSourceResponse(_follow(state.db, video_id, last_event_id or 0), ping=10)

    mount_sections(api)
    mount_revise(api)
    mount_studio(api)
    return api


def _replay(video: Video, digest: str, response: Response) -> VideoCreated:
    if video.request_hash != digest:
        raise HTTPException(422, "Idempotency-Key was already used with a different request body")
    response.headers["Idempotent-Replayed"] = "true"
    return VideoCreated(id=video.id, status=VideoStatus(video.status))


def _settled(db: Database, video_id: str) -> bool:
    """The video has ended and none of its revisions is queued or running: no event will follow."""
    video = videos.get_video(db, video_id)
    if video is None:
        return True
    return VideoStatus(video.status).is_terminal() and revisions.active_revisions(db, video_id) == 0


async def _follow(db: Database, video_id: str, after: int) -> AsyncIterator[dict[str, Any]]:
    """Every event after ``after``, as it is recorded; ends once the video and its revisions have."""
    while True:
        batch = await asyncio.to_thread(videos.events_after, db, video_id, after)
        for event in batch:
            after = event.id
            view = EventView(
                id=event.id,
                kind=EventKind(event.kind),
                section_id=event.section_id,
                text=event.text,
                done=event.done,
                at=as_utc(event.at),
                revision_id=event.revision_id,
                attempt=event.attempt,
            )
            yield {"id": str(event.id), "event": view.kind.value, "data": view.model_dump_json()}
        if not batch:
            if await asyncio.to_thread(_settled, db, video_id):
                return
            await asyncio.sleep(EVENT_POLL_S)
