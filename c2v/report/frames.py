"""Keyframes for the report: the frame after each animation, with the lint's findings boxed.

A finding names the anchor cells its objects covered and the animation after which it was
on screen; the box drawn is the union of those cells on the frame of that animation.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from c2v.core.tiers import Orientation, Tier, video_format
from c2v.models import IssueSeverity, LayoutIssue
from c2v.review.keyframes import frames_at, pick_times
from sandbox.runtime.c2v_anchors import Box, layout_for

MAX_FRAMES = 4
THUMB_WIDTH = 480
_COLOURS = {IssueSeverity.error: (230, 40, 40), IssueSeverity.warning: (245, 170, 20)}


@dataclass(frozen=True)
class Keyframe:
    time_s: float
    data_url: str
    findings: list[str]  # the rules boxed on this frame


def _nearest(times: list[float], wanted: float) -> int:
    return min(range(len(times)), key=lambda i: abs(times[i] - wanted))


def _when(issue: LayoutIssue, times: list[float], duration: float) -> float:
    """When the finding was on screen: the end of its animation (1-based), else the end."""
    return times[issue.animation - 1] if 0 < issue.animation <= len(times) else duration


def _union(boxes: list[Box]) -> Box:
    return Box(
        left=min(b.left for b in boxes),
        right=max(b.right for b in boxes),
        bottom=min(b.bottom for b in boxes),
        top=max(b.top for b in boxes),
    )


def issue_box(issue: LayoutIssue, orientation: Orientation) -> tuple[float, float, float, float] | None:
    """The finding's anchor cells as ``(x0, y0, x1, y1)``, fractions of the frame from its top left."""
    fmt = video_format(Tier.l, orientation)
    layout = layout_for(fmt.frame_width, fmt.frame_height)
    cells = [layout.cell(a) for a in issue.anchors]
    if not cells:
        return None
    box = _union(cells)
    return (
        (box.left - layout.frame.left) / layout.frame.width,
        (layout.frame.top - box.top) / layout.frame.height,
        (box.right - layout.frame.left) / layout.frame.width,
        (layout.frame.top - box.bottom) / layout.frame.height,
    )


def _draw(image: Image.Image, issues: list[LayoutIssue], orientation: Orientation) -> Image.Image:
    img = image.convert("RGB")
    w, h = img.size
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(11, h // 32))
    for issue in issues:
        box = issue_box(issue, orientation)
        if box is None:
            continue
        x0, y0, x1, y1 = box[0] * w, box[1] * h, box[2] * w, box[3] * h
        colour = _COLOURS[issue.severity]
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=max(2, h // 160))
        draw.text((x0 + 4, y0 + 2), issue.rule, fill=colour, font=font)
    return img


def _data_url(img: Image.Image) -> str:
    if img.width > THUMB_WIDTH:
        img = img.resize((THUMB_WIDTH, round(img.height * THUMB_WIDTH / img.width)), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=82, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def section_keyframes(
    video: Path, times: list[float], duration: float, issues: list[LayoutIssue], orientation: Orientation
) -> list[Keyframe]:
    """Up to ``MAX_FRAMES`` keyframes of one section video, each with its findings boxed."""
    if not video.is_file():
        return []
    flagged = pick_times([_when(i, times, duration) for i in issues], duration, MAX_FRAMES) if issues else []
    rest = pick_times(times, duration, max(2, MAX_FRAMES - len(flagged)))
    chosen = sorted(set(flagged) | set(rest))
    if len(chosen) > MAX_FRAMES:  # keep every flagged frame, drop plain ones nearest to them
        plain = [t for t in chosen if t not in flagged]
        plain.sort(key=lambda t: min((abs(t - f) for f in flagged), default=0.0), reverse=True)
        chosen = sorted(flagged + plain[: max(0, MAX_FRAMES - len(flagged))])
    per_frame: list[list[LayoutIssue]] = [[] for _ in chosen]
    for issue in issues:
        per_frame[_nearest(chosen, _when(issue, times, duration) - 0.05)].append(issue)
    frames = frames_at(video, chosen)
    return [
        Keyframe(
            time_s=round(t, 2),
            data_url=_data_url(_draw(img, found, orientation)),
            findings=[i.rule for i in found],
        )
        for t, img, found in zip(chosen, frames, per_frame, strict=False)
    ]
