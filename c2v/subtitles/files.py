"""``video.srt`` and ``video.vtt`` from cues, formatted by pysubs2."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pysubs2

from c2v.core.fsio import write_text_atomic
from c2v.subtitles.cues import Cue


def subtitle_file(cues: Sequence[Cue]) -> pysubs2.SSAFile:
    subs = pysubs2.SSAFile()
    for cue in cues:
        subs.append(
            pysubs2.SSAEvent(
                start=round(cue.start_s * 1000), end=round(cue.end_s * 1000), text=r"\N".join(cue.lines)
            )
        )
    return subs


def render(cues: Sequence[Cue], fmt: str) -> str:
    """The cues as ``srt`` or ``vtt`` text."""
    return subtitle_file(cues).to_string(fmt)


def write_subtitles(cues: Sequence[Cue], video: Path) -> tuple[Path, Path]:
    """Write ``<video>.srt`` and ``<video>.vtt`` beside ``video``, atomically."""
    srt, vtt = video.with_suffix(".srt"), video.with_suffix(".vtt")
    write_text_atomic(srt, render(cues, "srt"))
    write_text_atomic(vtt, render(cues, "vtt"))
    return srt, vtt
