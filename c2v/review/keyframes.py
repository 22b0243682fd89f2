"""Keyframes for the critic: the frame at the end of each animation, with the anchor grid.

The grid (A1-F6 over the animation area) is drawn on the frames so that a vision model
can answer in anchor names, as the Coder places objects by them.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

from sandbox.runtime.c2v_anchors import COLUMNS, ROWS, Layout, layout_for

MAX_KEYFRAMES = 6
GRID_COLOUR = (255, 80, 80)


def pick_times(times: list[float], duration: float, limit: int = MAX_KEYFRAMES) -> list[float]:
    """At most ``limit`` keyframe times, spread over the section, never past its end."""
    usable = sorted({min(max(t - 0.05, 0.0), max(duration - 0.05, 0.0)) for t in times}) or [
        max(duration - 0.05, 0.0)
    ]
    if len(usable) <= limit:
        return usable
    step = (len(usable) - 1) / (limit - 1)
    return [usable[round(i * step)] for i in range(limit)]


def frames_at(video: Path, times: list[float]) -> list[Image.Image]:
    """Decode the frame shown at each time (in order), by walking the stream once."""
    wanted = sorted(times)
    out: list[Image.Image] = []
    with av.open(str(video), mode="r") as container:
        stream = container.streams.video[0]
        last = None
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base) if frame.pts is not None and stream.time_base else 0.0
            while wanted and t > wanted[0] + 1e-6 and last is not None:
                out.append(last)
                wanted.pop(0)
            last = frame.to_image()  # type: ignore[no-untyped-call]
            if not wanted:
                break
        while wanted and last is not None:
            out.append(last)
            wanted.pop(0)
    return out


def draw_grid(image: Image.Image, layout: Layout) -> Image.Image:
    """Overlay the 6x6 anchor grid, labelled, on a frame."""
    img = image.convert("RGB")
    draw = ImageDraw.Draw(img)
    w, h = img.size

    def px(x: float, y: float) -> tuple[float, float]:
        return (
            (x - layout.frame.left) / layout.frame.width * w,
            (layout.frame.top - y) / layout.frame.height * h,
        )

    font = ImageFont.load_default(size=max(10, h // 40))
    for row in range(ROWS):
        for col in range(len(COLUMNS)):
            name = f"{COLUMNS[col]}{row + 1}"
            cell = layout.cell(name)
            x0, y0 = px(cell.left, cell.top)
            x1, y1 = px(cell.right, cell.bottom)
            draw.rectangle((x0, y0, x1, y1), outline=GRID_COLOUR, width=1)
            draw.text((x0 + 2, y0 + 1), name, fill=GRID_COLOUR, font=font)
    return img


def keyframes_png(
    video: Path, times: list[float], duration: float, frame_width: float, frame_height: float
) -> list[bytes]:
    layout = layout_for(frame_width, frame_height)
    pngs = []
    for image in frames_at(video, pick_times(times, duration)):
        buf = io.BytesIO()
        draw_grid(image, layout).save(buf, format="PNG", optimize=True)
        pngs.append(buf.getvalue())
    return pngs
