"""Cues from spoken segments: when each segment really started (the runtime's record),
how long its audio lasts, and what it says.

A cue ends when its audio ends, when the next segment starts, or when the video ends,
whichever comes first. A text longer than ``max_lines`` lines is split into several
cues, each shown for a share of the time in proportion to its width.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from c2v.models import Strict
from c2v.subtitles.wrap import LANDSCAPE_CELLS, width, wrap

MIN_CUE_S = 0.2


class Spoken(Strict):
    """One narrated segment as it played: start in the final video, audio length, text."""

    start_s: float = Field(ge=0)
    duration_s: float = Field(ge=0)
    text: str


class Cue(Strict):
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    lines: list[str]


def make_cues(
    spoken: Sequence[Spoken],
    video_duration_s: float | None = None,
    cells: int = LANDSCAPE_CELLS,
    max_lines: int = 2,
) -> list[Cue]:
    ordered = sorted((s for s in spoken if s.text.strip()), key=lambda s: s.start_s)
    cues: list[Cue] = []
    for i, seg in enumerate(ordered):
        end = seg.start_s + seg.duration_s
        if i + 1 < len(ordered):
            end = min(end, ordered[i + 1].start_s)
        if video_duration_s is not None:
            end = min(end, video_duration_s)
        if end - seg.start_s < MIN_CUE_S:
            continue
        lines = wrap(seg.text, cells)
        pages = [lines[j : j + max_lines] for j in range(0, len(lines), max_lines)]
        weights = [sum(width(line) for line in page) for page in pages]
        total = sum(weights) or 1
        start = seg.start_s
        for page, weight in zip(pages, weights, strict=True):
            stop = start + (end - seg.start_s) * weight / total
            cues.append(Cue(start_s=round(start, 3), end_s=round(min(stop, end), 3), lines=page))
            start = stop
    return cues
