"""Read-only ``/v1`` views for the studio page: a video's sections in depth, keyframes, providers.

Everything here is read from the video's case folder as the pipeline writes it (storyboard,
each section's ``history.json`` and attempt code, the render cache's results, the manifest),
so a running video shows each section as soon as it renders. A keyframe is served only for
a render that the section's own history or manifest record names: render keys are content
hashes shared by every case, and naming one never reaches another tenant's render.
"""

from __future__ import annotations

import io
import json
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Response
from PIL import Image

from c2v.case import CaseDir
from c2v.core.tiers import Orientation
from c2v.errors import CaseFileError, UsageError
from c2v.llm.settings import configured_names, require_usable, resolve_provider
from c2v.models import (
    AttemptKind,
    AttemptRecord,
    CriticIssue,
    LayoutIssue,
    Manifest,
    RenderResult,
    RenderStatus,
    ReviewChange,
    Strict,
)
from c2v.report.frames import issue_box
from c2v.review.keyframes import frames_at
from c2v.service.api import Problem, SectionView, VideoRequest
from c2v.service.deps import Caller, State, own
from c2v.store.schema import Video, VideoStatus

KEYFRAME_WIDTH = 640
MAX_CODE_CHARS = 200_000


class Box(Strict):
    """Where a finding is on the frame, as fractions of its width and height from the top left."""

    x0: float
    y0: float
    x1: float
    y1: float


class Finding(LayoutIssue):
    """A layout-lint finding with where to draw it on the frame (None when it names no cell)."""

    box: Box | None


class VersionView(Strict):
    """One version of a section that rendered: its attempt, code, findings and keyframe."""

    attempt: int
    kind: AttemptKind
    code: str
    render: str
    animations: int
    keyframe_url: str
    findings: list[Finding]


class CriticNoteView(Strict):
    round: int
    change: ReviewChange
    issues: list[CriticIssue]
    error: str | None


class SectionDetail(Strict):
    id: str
    title: str
    status: str
    attempts: int
    #: The code and the outcome of the newest attempt, rendered or not.
    code: str
    message: str
    #: Every version that rendered, oldest first; the last one is in the video.
    versions: list[VersionView]
    critic: list[CriticNoteView]


class SectionPage(Strict):
    video_id: str
    orientation: Orientation
    sections: list[SectionDetail]


class ProviderView(Strict):
    name: str
    model: str | None


class ProviderList(Strict):
    default: str
    providers: list[ProviderView]


def _case(video: Video) -> CaseDir | None:
    if not video.case_dir:
        return None
    case = CaseDir(Path(video.case_dir))
    return case if case.root.is_dir() else None


def _read_code(case: CaseDir, rel: str) -> str:
    path = case.resolved(rel) if rel else None
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")[:MAX_CODE_CHARS]
    except (OSError, UnicodeDecodeError):
        return ""


def _finding(issue: LayoutIssue, orientation: Orientation) -> Finding:
    box = issue_box(issue, orientation)
    where = Box(x0=box[0], y0=box[1], x1=box[2], y1=box[3]) if box else None
    return Finding(**issue.model_dump(), box=where)


def _final_key(manifest: Manifest | None, section_id: str) -> str | None:
    """The render the finished video holds for the section (``renders/<key>/video.mp4``)."""
    if manifest is None:
        return None
    record = next((s for s in manifest.sections if s.id == section_id), None)
    return PurePosixPath(record.video).parent.name if record and record.video else None


def _versions(
    case: CaseDir, video: Video, section_id: str, history: list[AttemptRecord], orientation: Orientation
) -> list[VersionView]:
    rendered = [h for h in history if h.status is RenderStatus.ok and h.render_key]
    final = _final_key(case.load_manifest(), section_id)
    out = []
    for i, h in enumerate(rendered):
        # The last version is the one in the video: at a final tier other than the preview's
        # the manifest names a render of the same code that the history does not list.
        key = final if final and i == len(rendered) - 1 else h.render_key
        result = case.load_render(key)
        if result is None:
            continue
        out.append(
            VersionView(
                attempt=h.n,
                kind=h.kind,
                code=_read_code(case, h.code),
                render=key,
                animations=len(result.keyframe_times),
                keyframe_url=f"/v1/videos/{video.id}/sections/{section_id}/keyframe?render={key}",
                findings=[_finding(issue, orientation) for issue in result.layout_issues],
            )
        )
    return out


def _critic(manifest: Manifest | None, section_id: str) -> list[CriticNoteView]:
    if manifest is None:
        return []
    return [
        CriticNoteView(round=rnd.round, change=review.change, issues=review.critic, error=review.critic_error)
        for rnd in manifest.feedback
        for review in rnd.sections
        if review.id == section_id
    ]


def _stored(video: Video) -> dict[str, SectionView]:
    """The sections' status and attempts as the store keeps them (what ``GET /v1/videos/{id}`` says)."""
    return {s["id"]: SectionView.model_validate(s) for s in json.loads(video.sections or "[]")}


def _titles(case: CaseDir) -> tuple[dict[str, str], Manifest | None]:
    try:
        board, manifest = case.read_storyboard(), case.read_manifest()
    except CaseFileError:
        return {}, None
    titles = {s.id: s.title for s in board.sections} if board else {}
    return titles | ({s.id: s.title for s in manifest.sections} if manifest else {}), manifest


def section_page(video: Video) -> SectionPage:
    """Every section of the video as far as its case folder has got."""
    orientation = VideoRequest.model_validate_json(video.request).orientation
    stored = _stored(video)
    case = _case(video)
    details: list[SectionDetail] = []
    running = VideoStatus(video.status) is VideoStatus.running
    if case is not None:
        titles, manifest = _titles(case)
        for sid in list(titles) or list(stored):
            history = case.load_history(sid)
            view = stored.get(sid) or SectionView(id=sid, status="queued")
            last = history[-1] if history else None
            # While it runs, the attempt being rendered has its code on disk before its history entry.
            pending = case.attempt_code(sid, len(history) + 1)
            if not running or not pending.is_file():
                pending = case.path(last.code) if last else pending
            details.append(
                SectionDetail(
                    id=sid,
                    title=titles.get(sid) or view.title,
                    status=view.status,
                    attempts=view.attempts,
                    code=_read_code(case, case.rel(pending)) if pending.is_file() else "",
                    message=last.message if last else "",
                    versions=_versions(case, video, sid, history, orientation),
                    critic=_critic(manifest, sid),
                )
            )
    return SectionPage(video_id=video.id, orientation=orientation, sections=details)


def _render_of(video: Video, section_id: str, render: str) -> tuple[CaseDir, RenderResult]:
    """The section's render named ``render``, when the section's own records name it."""
    case = _case(video)
    if case is not None:
        history = case.load_history(section_id)
        known = {h.render_key for h in history} | {_final_key(case.load_manifest(), section_id)}
        result = case.load_render(render) if render in known else None
        if result is not None and result.status is RenderStatus.ok:
            return case, result
    raise HTTPException(404, f"section {section_id!r} of video {video.id} has no render {render!r}")


def keyframe_jpeg(video_file: Path, result: RenderResult, animation: int | None) -> bytes:
    """The frame at the end of ``animation`` (1-based; the last frame when None), as a JPEG."""
    times, duration = result.keyframe_times, result.video_duration_s or 0.0
    at = times[animation - 1] if animation is not None and 0 < animation <= len(times) else duration
    frames = frames_at(video_file, [max(0.0, min(at, duration) - 0.05)])
    if not frames:
        raise HTTPException(410, "the render's video holds no frame")
    img = frames[0].convert("RGB")
    if img.width > KEYFRAME_WIDTH:
        size = (KEYFRAME_WIDTH, round(img.height * KEYFRAME_WIDTH / img.width))
        img = img.resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def providers(settings_config: Path | None) -> ProviderList:
    """The providers a video may name here: offline, and those with what they need on the server."""
    usable = []
    for name in configured_names(settings_config):
        try:
            resolved = resolve_provider(name, settings_config)
            require_usable(resolved)
        except UsageError:
            continue
        usable.append(ProviderView(name=name, model=resolved.model))
    return ProviderList(default=VideoRequest.model_fields["api"].default, providers=usable)


def mount_sections(api: FastAPI) -> None:
    """Add the studio's read-only routes to the v1 API."""
    missing: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}

    @api.get("/v1/providers")
    def list_providers(state: State, caller: Caller) -> ProviderList:
        return providers(state.settings.api_config)

    @api.get("/v1/videos/{video_id}/sections", responses=missing)
    def sections(video_id: str, state: State, caller: Caller) -> SectionPage:
        return section_page(own(state, caller, video_id))

    @api.get(
        "/v1/videos/{video_id}/sections/{section_id}/keyframe",
        responses={**missing, 200: {"content": {"image/jpeg": {}}}},
        response_class=Response,
    )
    def keyframe(
        video_id: str,
        section_id: str,
        state: State,
        caller: Caller,
        render: Annotated[str, Query(pattern=r"^[0-9a-f]{8,64}$")],
        animation: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    ) -> Response:
        case, result = _render_of(own(state, caller, video_id), section_id, render)
        jpeg = keyframe_jpeg(case.render_video(render), result, animation)
        return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
