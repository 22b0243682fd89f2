"""What runs inside the sandbox: one section's scene rendered by Manim's CLI.

The host prepares a work dir (scene.py, the teaching-scene runtime, a manim.cfg that
fixes the pixel size, frame rate and frame size), the backend runs Manim in it, and the
host reads back exactly one video, refusing symlinks and oversized files, and checks that
it decodes with the requested size before calling the render ``ok``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from c2v.core.tiers import video_format
from c2v.media.probe import probe_video
from c2v.models import LayoutIssue, RenderRequest, RenderResult, RenderStatus, SpokenAt
from c2v.review.lint import lint_layout
from sandbox.base import INSIDE_WORKDIR, SandboxBackend
from sandbox.classify import classify
from sandbox.scratch import work_dir

RUNTIME_FILES = ("c2v_anchors.py", "c2v_images.py", "c2v_layout.py", "c2v_manim.py", "c2v_record.py")
OUTPUT_NAME = "section"
MAX_VIDEO_BYTES = 2 * 1024**3
MAX_LAYOUT_BYTES = 8 * 1024**2
LAYOUT_NAME = "layout.json"
#: Spoken segments in the work dir: WAVs under ``narration/``, listed in ``segments.json``.
NARRATION_DIR = "narration"
SEGMENTS_NAME = "segments.json"
ASSETS_DIR = "assets"
#: Environment of the scene process: nothing from the host is passed through.
SCENE_ENV = {
    "HOME": INSIDE_WORKDIR,
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MPLCONFIGDIR": f"{INSIDE_WORKDIR}/.cache/matplotlib",
    "XDG_CACHE_HOME": f"{INSIDE_WORKDIR}/.cache",
    "TEXMFVAR": f"{INSIDE_WORKDIR}/.cache/texmf-var",
    "COLUMNS": "200",
}


@dataclass(frozen=True)
class RenderOutput:
    result: RenderResult
    video: bytes | None


def _runtime_dir() -> Path:
    return Path(str(resources.files("sandbox.runtime")))


@cache
def runtime_digest() -> str:
    """Hash of the in-sandbox runtime; part of every render's cache key."""
    h = hashlib.sha256()
    for name in RUNTIME_FILES:
        h.update(name.encode())
        h.update((_runtime_dir() / name).read_bytes())
    return h.hexdigest()[:16]


@cache
def manim_version() -> str:
    return importlib.metadata.version("manim")


def render_key(request: RenderRequest) -> str:
    """Content hash of everything that decides the verdict of a render: its pixels, and the
    limits it ran under (a timeout or an OOM says nothing about a render with more room)."""
    h = hashlib.sha256()
    for part in (
        request.code,
        request.scene_name,
        runtime_digest(),
        manim_version(),
        request.tier.value,
        request.orientation.value,
        request.limits.model_dump_json(),
        *(["dry_run"] if request.dry_run else []),
        *([f"plays:{request.animations.argv()}"] if request.animations else []),
        *(f"speech:{seg.key}" for seg in request.segments),
        *sorted(f"asset:{a.name}:{a.sha256}" for a in request.assets),
    ):
        h.update(part.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:20]


def prepare_workdir(work: Path, request: RenderRequest) -> None:
    fmt = video_format(request.tier, request.orientation)
    work.mkdir(parents=True, exist_ok=True)
    (work / "scene.py").write_text(request.code, encoding="utf-8")
    (work / "manim.cfg").write_text(fmt.manim_cfg(), encoding="utf-8")
    for name in RUNTIME_FILES:
        (work / name).write_bytes((_runtime_dir() / name).read_bytes())
    if request.segments:
        (work / NARRATION_DIR).mkdir(exist_ok=True)
        listing = []
        for i, seg in enumerate(request.segments):
            name = f"{NARRATION_DIR}/{i}.wav"
            shutil.copyfile(seg.path, work / name)
            listing.append({"file": name, "duration_s": seg.duration_s})
        (work / SEGMENTS_NAME).write_text(json.dumps(listing), encoding="utf-8")
    if request.assets:
        write_assets(work / ASSETS_DIR, request)


def write_assets(folder: Path, request: RenderRequest) -> None:
    """The request's icon files, each checked against its hash; nothing else goes in."""
    folder.mkdir(exist_ok=True)
    for asset in request.assets:
        if hashlib.sha256(asset.data).hexdigest() != asset.sha256:
            raise ValueError(f"asset {asset.name} does not match its hash")
        (folder / asset.name).write_bytes(asset.data)


def manim_argv(request: RenderRequest, python: str) -> list[str]:
    """Manim's CLI for one section; ``python`` is the interpreter's path inside the sandbox."""
    return [
        python,
        "c2v_manim.py",
        "render",
        "scene.py",
        request.scene_name,
        "--media_dir",
        f"{INSIDE_WORKDIR}/media",
        "-o",
        OUTPUT_NAME,
        "--format",
        "mp4",
        "--silent",
        "--progress_bar",
        "none",
        "--disable_caching",
        "-v",
        "WARNING",
        *(["--dry_run"] if request.dry_run else []),
        *(["-n", request.animations.argv()] if request.animations else []),
    ]


def _find_video(work: Path) -> Path | None:
    """The one final video Manim wrote (partial movie files are not it); never a symlink."""
    videos = work / "media" / "videos"
    if not videos.is_dir() or videos.is_symlink():
        return None
    found = [p for p in videos.rglob(f"{OUTPUT_NAME}.mp4") if "partial_movie_files" not in p.parts]
    if len(found) != 1:
        return None
    path = found[0]
    # lstat: a scene may swap its output for a link to a host file; refuse anything odd.
    st = path.lstat()
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0 or st.st_size > MAX_VIDEO_BYTES:
        return None
    if any(p.is_symlink() for p in path.relative_to(work).parents if str(p) != "."):
        return None
    return path


def _read_no_follow(path: Path, limit: int = MAX_VIDEO_BYTES) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        return fh.read(limit + 1)


@dataclass(frozen=True)
class Layout:
    """What the scene's layout record says: lint issues, keyframe and speech times, play ends."""

    issues: list[LayoutIssue]
    times: list[float]
    spoken: list[SpokenAt]
    play_ends: list[float]


def _spoken(record: dict[str, object], segments: int) -> list[SpokenAt]:
    """Speech starts the template recorded, one per segment it knows of."""
    found: dict[int, SpokenAt] = {}
    entries = record.get("speech", [])
    for entry in entries if isinstance(entries, list) else []:
        at = SpokenAt.model_validate(entry)
        if at.index < segments:
            found.setdefault(at.index, at)
    return sorted(found.values(), key=lambda a: a.index)


def _read_layout(work: Path, pixel_height: int, segments: int = 0) -> Layout | None:
    """Lint the scene's layout record, list its keyframe and speech times; None when unusable."""
    path = work / LAYOUT_NAME
    try:
        raw = _read_no_follow(path, MAX_LAYOUT_BYTES)
    except OSError:
        return None
    if len(raw) > MAX_LAYOUT_BYTES:
        return None
    try:
        record = json.loads(raw)
        snapshots = record.get("snapshots", [])
        if not any(snap.get("units") for snap in snapshots):
            return None  # nothing was on screen to record: the lint saw nothing
        times = sorted({round(float(snap["t"]), 3) for snap in snapshots if "t" in snap})
        ends = [round(float(t), 4) for t in record.get("play_ends", [])]
        return Layout(lint_layout(record, pixel_height), times, _spoken(record, segments), ends)
    except (ValueError, KeyError, TypeError):
        return None


def render_scene(
    request: RenderRequest, backend: SandboxBackend, scratch: Path | None = None
) -> RenderOutput:
    """Render one section in ``backend`` and return its typed result and video bytes."""
    fmt = video_format(request.tier, request.orientation)
    started = time.monotonic()
    with work_dir(scratch) as tmp:
        work = tmp / "work"
        prepare_workdir(work, request)
        labels = {"c2v.case": request.case_id, "c2v.section": request.section_id}
        argv = manim_argv(request, backend.python)
        outcome = backend.run(work, argv, dict(SCENE_ENV), request.limits, labels)
        finished = outcome.exit_code == 0 and not outcome.timed_out
        video_path = _find_video(work) if finished and not request.dry_run else None
        data = _read_no_follow(video_path) if video_path is not None else None
        # Probe the very bytes that are returned, never the path the scene controlled.
        probe = probe_video(data) if data is not None and len(data) <= MAX_VIDEO_BYTES else None
        video_ok = probe is not None and (probe.width, probe.height) == (fmt.width, fmt.height)
        if request.dry_run:
            video_ok = finished  # a dry run writes no frames: a clean exit is its success
        verdict = classify(outcome, video_ok, request.limits.wall_s)
        if verdict.status is not RenderStatus.ok:
            data = None
        ok = verdict.status is RenderStatus.ok
        layout = _read_layout(work, fmt.height, len(request.segments)) if ok else None
    result = RenderResult(
        status=verdict.status,
        section_id=request.section_id,
        message=verdict.message,
        traceback=verdict.traceback[-8000:],
        error_line=verdict.error_line,
        stderr_tail=outcome.stderr_tail[-4000:],
        video_duration_s=probe.duration_s if probe and video_ok else None,
        width=probe.width if probe else None,
        height=probe.height if probe else None,
        fps=probe.fps if probe else None,
        wall_s=round(time.monotonic() - started, 3),
        backend=backend.name,
        layout_issues=layout.issues if layout else [],
        layout_recorded=layout is not None,
        keyframe_times=layout.times if layout else [],
        spoken=layout.spoken if layout else [],
        play_ends=layout.play_ends if layout else [],
    )
    return RenderOutput(result=result, video=data)
