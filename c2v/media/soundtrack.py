"""Stitching with sound: every section gets an AAC track exactly as long as its picture.

Each section's spoken clips are laid at the times the runtime recorded for them
(``highlight_lecture``); clips the scene never started (a scene that ignores the template)
follow one another after the last recorded one, and when they run past the picture the
section's last frame is held until they are done. Silence fills the rest, so every section
has the same audio parameters and the concat stays a stream copy. The subtitles come from
the same starts, shifted by each section's offset in the final video.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from c2v.media.stitch import stitch
from c2v.speech.audio import Placed, media_duration_s, mux_audio, run_ffmpeg, section_track
from c2v.subtitles import (
    LANDSCAPE_CELLS,
    Spoken,
    add_soft_subtitles,
    burn_subtitles,
    make_cues,
    write_subtitles,
)

log = structlog.get_logger("c2v.media")

#: Speech may end this much after the picture before the last frame is held for it.
HOLD_SLACK_S = 0.05


@dataclass(frozen=True)
class Clip:
    """One spoken segment: its WAV, length and words."""

    path: Path
    duration_s: float
    text: str


@dataclass(frozen=True)
class SectionSound:
    """A rendered section and its narration: clips by lecture line, recorded starts by index."""

    video: Path
    clips: Sequence[Clip] = ()
    starts: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Soundtrack:
    spoken: list[Spoken]
    video_s: float
    audio_s: float
    cut_s: float
    subtitles: list[Path]


def place(section: SectionSound) -> list[tuple[float, Clip]]:
    """Start times of a section's clips: recorded ones as recorded, the rest end to end after them."""
    placed = [(section.starts[i], c) for i, c in enumerate(section.clips) if i in section.starts]
    cursor = max((start + clip.duration_s for start, clip in placed), default=0.0)
    for i, clip in enumerate(section.clips):
        if i not in section.starts:
            placed.append((cursor, clip))
            cursor += clip.duration_s
    return sorted(placed, key=lambda p: p[0])


def hold_last_frame(video: Path, seconds: float, path: Path) -> None:
    """``video`` with its last frame held ``seconds`` longer (re-encoded with libx264)."""
    run_ffmpeg(
        ["-i", str(video), "-vf", f"tpad=stop_mode=clone:stop_duration={seconds:.3f}",
         "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-an", str(path)],
        f"holding the last frame of {video.name}",
    )  # fmt: skip


def stitch_with_sound(
    sections: Sequence[SectionSound],
    out: Path,
    work: Path,
    language: str = "en",
    cells: int = LANDSCAPE_CELLS,
    burn: bool = False,
) -> Soundtrack:
    """Join ``sections`` into ``out`` with one continuous AAC track, SRT/VTT and a subtitle track."""
    work.mkdir(parents=True, exist_ok=True)
    voiced: list[Path] = []
    spoken: list[Spoken] = []
    offset, cut = 0.0, 0.0
    for n, section in enumerate(sections):
        placed = place(section)
        video = section.video
        length = media_duration_s(video, "video")
        speech_end = max((start + clip.duration_s for start, clip in placed), default=0.0)
        if speech_end > length + HOLD_SLACK_S:
            held = work / f"{n}.held.mp4"
            hold_last_frame(video, speech_end - length, held)
            video, length = held, media_duration_s(held, "video")
        track, layout = section_track(video, [Placed(s, c.path) for s, c in placed], work)
        cut += layout.cut_s
        muxed = work / f"{n}.voiced.mp4"
        mux_audio(video, track, muxed)
        voiced.append(muxed)
        spoken += [Spoken(start_s=offset + s, duration_s=c.duration_s, text=c.text) for s, c in placed]
        offset += media_duration_s(muxed, "video")
    stitch(voiced, out)
    video_s, audio_s = media_duration_s(out, "video"), media_duration_s(out, "audio")
    subtitles: list[Path] = []
    cues = make_cues(spoken, video_s, cells=cells)
    if cues:
        srt, vtt = write_subtitles(cues, out)
        subtitles = [srt, vtt]
        if burn:
            burn_subtitles(out, srt, out)
        add_soft_subtitles(out, srt, out, language=language)
    if abs(video_s - audio_s) > 0.1:
        log.warning("soundtrack_drift", video_s=video_s, audio_s=audio_s)
    return Soundtrack(
        spoken=spoken, video_s=video_s, audio_s=audio_s, cut_s=round(cut, 3), subtitles=subtitles
    )
