"""What the report shows of one case, read from its folder: sections, frames, critic notes, attempts."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from c2v.case import CaseDir
from c2v.core.tiers import Orientation
from c2v.models import AttemptRecord, CriticIssue, LayoutIssue, Manifest, RenderStatus
from c2v.report.frames import Keyframe, section_keyframes

MAX_DIFF_LINES = 120


@dataclass(frozen=True)
class Attempt:
    n: int
    kind: str
    status: str
    message: str
    error_line: int | None
    error_tail: str
    diff: str  # unified diff against the previous attempt's code ("" for the first)


@dataclass(frozen=True)
class CriticNote:
    round: int
    change: str
    issues: list[CriticIssue]
    error: str | None


@dataclass
class SectionView:
    id: str
    title: str
    status: str
    video: str | None  # relative to the report's folder
    keyframes: list[Keyframe] = field(default_factory=list)
    lint: list[LayoutIssue] = field(default_factory=list)
    critic: list[CriticNote] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    #: The last earlier attempt whose render the lint flagged: its frames, findings boxed.
    before_attempt: int | None = None
    before: list[Keyframe] = field(default_factory=list)
    before_lint: list[LayoutIssue] = field(default_factory=list)


@dataclass
class CaseView:
    anchor: str  # html id
    rel: str  # case folder relative to the report
    manifest: Manifest
    sections: list[SectionView]


def _read(case: CaseDir, rel: str) -> str:
    try:
        return (case.root / rel).read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return ""


def _attempts(case: CaseDir, history: list[AttemptRecord]) -> list[Attempt]:
    out, previous = [], ""
    for h in history:
        code = _read(case, h.code)
        diff = ""
        if previous and code:
            lines = list(
                difflib.unified_diff(previous.splitlines(), code.splitlines(), "before", "after", lineterm="")
            )
            diff = "\n".join(lines[:MAX_DIFF_LINES]) + ("\n…" if len(lines) > MAX_DIFF_LINES else "")
        result = case.load_render(h.render_key) if h.render_key else None
        tail = ""
        if result is not None and result.status is not RenderStatus.ok:
            tail = "\n".join((result.traceback or result.stderr_tail).strip().splitlines()[-6:])
        out.append(
            Attempt(
                n=h.n,
                kind=h.kind.value,
                status=h.status.value,
                message=h.message,
                error_line=result.error_line if result is not None else None,
                error_tail=tail,
                diff=diff,
            )
        )
        previous = code or previous
    return out


def _frames(case: CaseDir, key: str, orientation: Orientation) -> tuple[list[Keyframe], list[LayoutIssue]]:
    result = case.load_render(key)
    if result is None or result.status is not RenderStatus.ok:
        return [], []
    video = case.render_dir(key) / "video.mp4"
    times, duration = result.keyframe_times, result.video_duration_s or 0.0
    return section_keyframes(video, times, duration, result.layout_issues, orientation), result.layout_issues


def _flagged_before(case: CaseDir, history: list[AttemptRecord], final_key: str) -> AttemptRecord | None:
    for h in reversed(history):
        if h.render_key and h.render_key != final_key:
            result = case.load_render(h.render_key)
            if result is not None and result.layout_issues and result.status is RenderStatus.ok:
                return h
    return None


def case_view(case: CaseDir, manifest: Manifest, rel: str, anchor: str) -> CaseView:
    notes: dict[str, list[CriticNote]] = {}
    for rnd in manifest.feedback:
        for review in rnd.sections:
            notes.setdefault(review.id, []).append(
                CriticNote(
                    round=rnd.round, change=review.change, issues=review.critic, error=review.critic_error
                )
            )
    sections = []
    for record in manifest.sections:
        history = record.history or case.load_history(record.id)
        view = SectionView(
            id=record.id,
            title=record.title,
            status=record.status.value,
            video=str(Path(rel) / record.video) if record.video else None,
            lint=record.layout_issues,
            critic=notes.get(record.id, []),
            attempts=_attempts(case, history),
        )
        final_key = Path(record.video).parent.name if record.video else ""
        if final_key:
            view.keyframes, _ = _frames(case, final_key, manifest.orientation)
        if (earlier := _flagged_before(case, history, final_key)) is not None:
            view.before_attempt = earlier.n
            view.before, view.before_lint = _frames(case, earlier.render_key, manifest.orientation)
        sections.append(view)
    return CaseView(anchor=anchor, rel=rel, manifest=manifest, sections=sections)
