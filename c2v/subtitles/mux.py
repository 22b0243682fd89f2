"""Subtitles into the video: a soft ``mov_text`` track (stream copy), or burned in (libass).

Burning re-encodes the picture (libx264) through FFmpeg's ``subtitles`` filter, which draws
with libass and fontconfig; the default font is Noto Sans CJK, which also covers Latin.
The subtitle file is copied into a scratch folder under a plain name, so no path needs
escaping inside the filter graph.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from c2v.errors import SubtitleError
from c2v.speech.audio import run_ffmpeg

#: ISO 639-2 codes for the subtitle track's language tag.
ISO639_2 = {"en": "eng", "zh": "chi", "zh-tw": "chi", "ja": "jpn", "ko": "kor", "ru": "rus",
            "el": "gre", "de": "ger", "fr": "fre", "es": "spa"}  # fmt: skip
CJK_FONT = "Noto Sans CJK SC"


def add_soft_subtitles(video: Path, subtitles: Path, path: Path, language: str = "en") -> None:
    """``video`` with ``subtitles`` (SRT) as a ``mov_text`` track; video and audio copied."""
    tmp = path.with_name(f".{path.stem}.subs{path.suffix}")
    lang = ISO639_2.get(language, "und")
    run_ffmpeg(
        ["-i", str(video), "-i", str(subtitles), "-map", "0", "-map", "1:0", "-c", "copy",
         "-c:s", "mov_text", "-metadata:s:s:0", f"language={lang}", "-movflags", "+faststart", str(tmp)],
        f"adding subtitles to {video.name}",
        error=SubtitleError,
    )  # fmt: skip
    tmp.replace(path)


def burn_subtitles(
    video: Path,
    subtitles: Path,
    path: Path,
    font: str = CJK_FONT,
    font_size: int = 14,
    margin_v: int = 24,
    crf: int = 18,
) -> None:
    """``video`` with ``subtitles`` drawn into the picture (for shorts that play muted).

    ``font_size`` and ``margin_v`` are in libass's script units (288 units = frame height).
    """
    style = (
        f"FontName={font},FontSize={font_size},PrimaryColour=&H00FFFFFF,OutlineColour=&H00000000,"
        f"BorderStyle=1,Outline=2,Shadow=0,Alignment=2,MarginV={margin_v}"
    )
    tmp = path.with_name(f".{path.stem}.burn{path.suffix}")
    with tempfile.TemporaryDirectory(prefix="c2v-subs-") as scratch:
        local = Path(scratch) / f"subs{subtitles.suffix}"
        shutil.copyfile(subtitles, local)
        graph = f"subtitles={local.name}:force_style='{style}'"
        run_ffmpeg(
            ["-i", str(video.resolve()), "-map", "0", "-vf", graph,
             "-c:v", "libx264", "-crf", str(crf), "-preset", "veryfast", "-pix_fmt", "yuv420p",
             "-c:a", "copy", "-movflags", "+faststart", str(tmp.resolve())],
            f"burning subtitles into {video.name}",
            cwd=Path(scratch),
            error=SubtitleError,
        )  # fmt: skip
    tmp.replace(path)
