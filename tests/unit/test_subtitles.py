"""Subtitle cues, SRT/VTT golden files, CJK line breaking, a soft track, burned-in text."""

from __future__ import annotations

import json
import subprocess

import av
import numpy as np

from c2v.subtitles import (
    PORTRAIT_CELLS,
    Spoken,
    add_soft_subtitles,
    burn_subtitles,
    make_cues,
    width,
    wrap,
    write_subtitles,
)

SPOKEN = [
    Spoken(start_s=0.5, duration_s=2.0, text="Binary search halves the range."),
    Spoken(start_s=2.0, duration_s=1.5, text="Then it looks at the middle item."),  # cuts the first short
    Spoken(start_s=5.0, duration_s=3.0, text="Done."),  # runs past the video's end
]

SRT = """1
00:00:00,500 --> 00:00:02,000
Binary search halves the range.

2
00:00:02,000 --> 00:00:03,500
Then it looks at the middle
item.

3
00:00:05,000 --> 00:00:06,000
Done.

"""


def test_srt_and_vtt_golden(tmp_path):
    cues = make_cues(SPOKEN, video_duration_s=6.0, cells=32)
    srt, vtt = write_subtitles(cues, tmp_path / "video.mp4")
    assert srt.name == "video.srt" and vtt.name == "video.vtt"
    assert srt.read_text(encoding="utf-8") == SRT
    assert vtt.read_text(encoding="utf-8") == "WEBVTT\n\n" + SRT.replace(",", ".")


def test_chinese_breaks_between_characters_by_display_width():
    text = "勾股定理说明，直角三角形两条直角边的平方和等于斜边的平方。"
    lines = wrap(text, PORTRAIT_CELLS)
    assert "".join(lines) == text
    assert all(width(line) <= PORTRAIT_CELLS for line in lines) and len(lines) == 3
    assert lines[0] == "勾股定理说明，直角三角形"  # the comma stays with the character before it
    assert not any(line[0] in "，。" for line in lines)
    assert wrap("Pythagoras 定理 holds", 12) == ["Pythagoras", "定理 holds"]


def test_long_text_is_split_into_cues_by_width():
    cues = make_cues([Spoken(start_s=1.0, duration_s=4.0, text="字" * 30)], cells=10, max_lines=1)
    assert [c.lines for c in cues] == [["字" * 5]] * 6
    assert cues[0].start_s == 1.0 and cues[-1].end_s == 5.0


def _portrait(path, seconds=2.0):
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", f"color=c=0x202030:s=270x480:d={seconds}:r=15",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip


def test_soft_subtitle_track_reads_back(tmp_path):
    video = tmp_path / "video.mp4"
    _portrait(video)
    srt, _ = write_subtitles(make_cues([Spoken(start_s=0.2, duration_s=1.5, text="勾股定理")]), video)
    add_soft_subtitles(video, srt, tmp_path / "soft.mp4", language="zh")
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name:stream_tags=language",
         "-of", "json", str(tmp_path / "soft.mp4")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    streams = json.loads(probe.stdout)["streams"]
    sub = next(s for s in streams if s["codec_type"] == "subtitle")
    assert sub["codec_name"] == "mov_text" and sub["tags"]["language"] == "chi"
    text = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(tmp_path / "soft.mp4"), "-map", "0:s:0", "-f", "srt", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "勾股定理" in text and "00:00:00,200 --> 00:00:01,700" in text


def _frame(path, at_s: float) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time >= at_s:
                return frame.to_ndarray(format="rgb24").astype(int)
    raise AssertionError("no frame")


def test_burned_subtitles_are_visible_inside_a_portrait_frame(tmp_path):
    video = tmp_path / "video.mp4"
    _portrait(video)
    srt, _ = write_subtitles(
        make_cues(
            [Spoken(start_s=0.0, duration_s=2.0, text="直角三角形 right triangle")], cells=PORTRAIT_CELLS
        ),
        video,
    )
    burn_subtitles(video, srt, tmp_path / "burned.mp4")
    plain, burned = _frame(video, 1.0), _frame(tmp_path / "burned.mp4", 1.0)
    assert plain.shape == burned.shape == (480, 270, 3)
    changed = np.abs(burned - plain).sum(axis=2) > 60
    rows, cols = np.nonzero(changed)
    assert len(rows) > 300  # text was drawn
    assert rows.min() > 480 * 0.6 and rows.max() < 480 - 2  # in the lower part, inside the frame
    assert cols.min() > 2 and cols.max() < 270 - 3  # not cut at either side
