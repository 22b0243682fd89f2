"""Subtitles: cues from the spoken segments, SRT/WebVTT files, soft and burned-in tracks.

Public API::

    cues = make_cues(spoken, video_duration_s, cells=LANDSCAPE_CELLS)   # list[Cue]
    srt, vtt = write_subtitles(cues, case / "video.mp4")                # video.srt, video.vtt
    add_soft_subtitles(video, srt, out, language="zh")                  # mov_text, stream copy
    burn_subtitles(video, srt, out)                                     # libass, re-encoded
"""

from c2v.subtitles.cues import Cue, Spoken, make_cues
from c2v.subtitles.files import render, write_subtitles
from c2v.subtitles.mux import add_soft_subtitles, burn_subtitles
from c2v.subtitles.wrap import LANDSCAPE_CELLS, PORTRAIT_CELLS, width, wrap

__all__ = [
    "LANDSCAPE_CELLS",
    "PORTRAIT_CELLS",
    "Cue",
    "Spoken",
    "add_soft_subtitles",
    "burn_subtitles",
    "make_cues",
    "render",
    "width",
    "wrap",
    "write_subtitles",
]
