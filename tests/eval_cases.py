"""Small synthetic case folders for the fast evaluation and report tests (no render needed)."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from c2v.models import (
    Manifest,
    RenderResult,
    RenderStatus,
    RunCounters,
    SectionRecord,
    SectionStatus,
    Timings,
    TokenTotals,
    TokenUsage,
)


def tiny_video(path: Path, frames: int = 12, size: tuple[int, int] = (64, 36)) -> Path:
    """A real H.264 mp4 of coloured frames (decodable by the frame sampler)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, 10)
        for i in range(frames):
            img = np.zeros((size[1], size[0], 3), dtype=np.uint8)
            img[:, : (i + 1) * size[0] // frames] = (40, 160, 220)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def write_case(root: Path, topic: str, *, video: bool = True, wall_s: float = 30.0) -> Path:
    """A finished case: manifest.json, video.mp4, one section render, one journaled LLM call."""
    key = "abc123"
    render = root / "renders" / key
    if video:
        tiny_video(root / "video.mp4")
        tiny_video(render / "video.mp4")
    (render / "result.json").parent.mkdir(parents=True, exist_ok=True)
    (render / "result.json").write_text(
        RenderResult(
            status=RenderStatus.ok, section_id="1", wall_s=4.5, video_duration_s=1.2
        ).model_dump_json()
    )
    (root / "calls").mkdir(parents=True, exist_ok=True)
    usage = {"input": 100, "output": 50}
    call = {
        "key": "planner.outline-1",
        "tag": {"agent": "planner", "stage": "outline", "topic": topic},
        "payload": "{}",
        "replies": [{"text": "{}", "usage": usage, "provider": "offline", "model": "offline-transcript"}],
    }
    (root / "calls" / "planner.outline-1.json").write_text(json.dumps(call))
    manifest = Manifest(
        topic=topic,
        slug=root.name,
        provider="offline",
        model="offline-transcript",
        tier="l",
        orientation="landscape",
        width=854,
        height=480,
        fps=15,
        sections=[
            SectionRecord(
                id="1", title="Intro", status=SectionStatus.ok, attempts=1, video=f"renders/{key}/video.mp4"
            )
        ],
        tokens=TokenTotals(
            input=100, output=50, total=150, by_stage={"planner.outline": TokenUsage(input=100, output=50)}
        ),
        timings_s=Timings(plan=1.0, sections=wall_s - 2.0, stitch=1.0, total=wall_s, coder_task_s=2.0),
        this_run=RunCounters(llm_calls=1, renders=1),
        video="video.mp4" if video else None,
        manim_version="0.22.0",
        c2v_version="0.1.0",
        created_at="2025-01-01T00:00:00+00:00",
    )
    (root / "manifest.json").write_text(manifest.model_dump_json(indent=2))
    return root
