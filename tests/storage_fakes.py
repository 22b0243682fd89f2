"""A finished case folder on disk, as the pipeline leaves it, for the storage tests."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from c2v.models import Manifest
from tests.cluster.localcluster import free_port


def tiny_mp4(frames: int = 10, shade: int = 0) -> bytes:
    """A real, playable H.264 MP4 of a few 64x48 frames."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            pixels = np.full((48, 64, 3), (shade + i * 10) % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def make_case(
    root: Path,
    video: bytes,
    sections: dict[str, bytes],
    *,
    failed: tuple[str, ...] = (),
) -> Path:
    """Write a case folder: outline, storyboard, one render per section, video, manifest."""
    root.mkdir(parents=True, exist_ok=True)
    ids = [*sections, *failed]
    outline = {
        "topic": "Euler's formula",
        "sections": [{"id": i, "title": f"T{i}", "content": "c"} for i in ids],
    }
    (root / "outline.json").write_text(json.dumps(outline), encoding="utf-8")
    board = {
        "topic": "Euler's formula",
        "sections": [
            {"id": i, "title": f"T{i}", "lecture_lines": ["a line"], "animations": ["draw"]} for i in ids
        ],
    }
    (root / "storyboard.json").write_text(json.dumps(board), encoding="utf-8")
    records = []
    for n, (section_id, data) in enumerate(sections.items()):
        render = root / "renders" / f"key{n}"
        render.mkdir(parents=True)
        (render / "video.mp4").write_bytes(data)
        (render / "result.json").write_text("{}", encoding="utf-8")
        code = root / "sections" / section_id
        code.mkdir(parents=True)
        (code / "final.py").write_text(f"# section {section_id}\nfrom manim import *\n", encoding="utf-8")
        (code / "attempt-1.py").write_text("# not published\n", encoding="utf-8")
        records.append(
            {
                "id": section_id,
                "title": f"T{section_id}",
                "status": "ok",
                "attempts": 1,
                "video": f"renders/key{n}/video.mp4",
            }
        )
    records += [{"id": i, "title": f"T{i}", "status": "failed", "attempts": 3} for i in failed]
    (root / "video.mp4").write_bytes(video)
    (root / "calls").mkdir()
    (root / "calls" / "planner.json").write_text("{}", encoding="utf-8")
    manifest = Manifest.model_validate(
        {
            "topic": "Euler's formula",
            "slug": root.name,
            "provider": "offline",
            "model": "offline",
            "tier": "l",
            "orientation": "landscape",
            "width": 854,
            "height": 480,
            "fps": 15,
            "sections": records,
            "missing_sections": list(failed),
            "tokens": {},
            "timings_s": {},
            "this_run": {},
            "video": "video.mp4",
            "manim_version": "0.22.0",
            "c2v_version": "0.1.0",
            "created_at": "2026-11-22T00:00:00+00:00",
        }
    )
    (root / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return root


def published_names(section_ids: list[str]) -> set[str]:
    """Case-relative names a publish must produce (the manifest not included)."""
    names = {"video.mp4", "outline.json", "storyboard.json"}
    for section_id in section_ids:
        names |= {f"sections/{section_id}/video.mp4", f"sections/{section_id}/final.py"}
    return names


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's real S3 HTTP server on 127.0.0.1; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "AKIAC2VTESTKEY000042",
    "AWS_SECRET_ACCESS_KEY": "c2v-test-secret-must-never-leak-7f3a9b",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def aws_credentials() -> dict[str, str]:
    """FAKE_AWS as boto3.client keyword arguments."""
    return {
        "aws_access_key_id": FAKE_AWS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
        "region_name": FAKE_AWS["AWS_DEFAULT_REGION"],
    }
