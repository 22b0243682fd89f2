"""Join section videos in order by stream copy (ffmpeg's concat demuxer): no re-encode."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from c2v.errors import MissingDependencyError, StitchError


def _ffmpeg() -> str:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise MissingDependencyError(
            "ffmpeg is not installed: run `sudo apt-get install ffmpeg` (or `make setup`)"
        )
    return ffmpeg


def picture_only(video: Path, out: Path) -> None:
    """``video``'s picture alone, by stream copy.

    The concat demuxer places each file after the longest stream of the one before, so
    parts whose sound outlasts their picture must lose the sound before they are joined.
    """
    cmd = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(video)]
    cmd += ["-map", "0:v:0", "-c", "copy", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise StitchError(f"ffmpeg could not copy the picture of {video.name}: {last}")


def stitch(videos: list[Path], out: Path) -> None:
    if not videos:
        raise StitchError("no section videos to stitch")
    ffmpeg = _ffmpeg()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".mp4", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    listing = tmp.with_suffix(".txt")
    try:
        lines = []
        for v in videos:
            escaped = str(v.resolve()).replace("'", r"'\''")
            lines.append(f"file '{escaped}'\n")
        listing.write_text("".join(lines), encoding="utf-8")
        cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0"]
        cmd += ["-i", str(listing), "-c", "copy", "-movflags", "+faststart", str(tmp)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise StitchError(f"ffmpeg could not join {len(videos)} sections into {out}: {last}")
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        with contextlib.suppress(FileNotFoundError):
            listing.unlink()
