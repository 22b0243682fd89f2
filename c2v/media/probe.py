"""Reading videos: size, frame rate, duration (PyAV)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    duration_s: float
    frames: int


def probe_video(source: Path | bytes) -> VideoInfo | None:
    """Size, rate and duration of the first video stream, or None if it does not decode.

    The container must be MP4: letting FFmpeg guess the format from the contents would
    also accept playlists (ffconcat, HLS) that make it open other files.
    """
    target: str | io.BytesIO = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        with av.open(target, mode="r", format="mp4") as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            rate = float(stream.average_rate or stream.base_rate or 0)
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000
            else:
                duration = 0.0
            frames = stream.frames or round(duration * rate)
            return VideoInfo(stream.width, stream.height, rate, duration, frames)
    except (av.error.FFmpegError, OSError, ValueError):
        return None
