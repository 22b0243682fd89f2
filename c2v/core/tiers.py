"""Quality tiers and orientation: the one table of resolutions and frame rates."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from sandbox.runtime.c2v_anchors import FRAME_HEIGHT, layout_for


class Tier(StrEnum):
    l = "l"  # noqa: E741 - Manim's own tier letters
    m = "m"
    h = "h"
    k = "k"


class Orientation(StrEnum):
    landscape = "landscape"
    portrait = "portrait"


_LANDSCAPE: dict[Tier, tuple[int, int, int]] = {
    Tier.l: (854, 480, 15),
    Tier.m: (1280, 720, 30),
    Tier.h: (1920, 1080, 60),
    Tier.k: (3840, 2160, 60),
}


class VideoFormat(BaseModel):
    """Pixel size, frame rate and Manim frame size of one tier in one orientation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: Tier
    orientation: Orientation
    width: int
    height: int
    fps: int

    @property
    def frame_height(self) -> float:
        return FRAME_HEIGHT

    @property
    def frame_width(self) -> float:
        return FRAME_HEIGHT * self.width / self.height

    @property
    def label(self) -> str:
        return f"{self.tier.value}-{self.orientation.value}"

    def manim_cfg(self) -> str:
        """The manim.cfg written beside a scene, so the CLI renders exactly this format."""
        return (
            "[CLI]\n"
            f"pixel_width = {self.width}\n"
            f"pixel_height = {self.height}\n"
            f"frame_rate = {self.fps}\n"
            f"frame_height = {self.frame_height:.6f}\n"
            f"frame_width = {self.frame_width:.6f}\n"
        )


def layout_hint(orientation: Orientation | str) -> str:
    """How the teaching layout looks in this orientation, for the Coder's and Critic's prompts."""
    fmt = video_format(Tier.l, orientation)
    area = layout_for(fmt.frame_width, fmt.frame_height).area
    size = f"about {area.width:.1f} x {area.height:.1f} units"
    if fmt.orientation is Orientation.portrait:
        return (
            "The video is portrait (9:16, for phones): the title is on top, the animation area "
            f"(anchors A1-F6, {size}) in the middle and the lecture lines below it. Keep figures "
            "compact, stack formulas vertically and avoid long horizontal rows."
        )
    return (
        "The video is landscape (16:9): the lecture lines are in a panel on the left and the "
        f"animation area (anchors A1-F6, {size}) is on the right."
    )


def video_format(tier: Tier | str, orientation: Orientation | str = Orientation.landscape) -> VideoFormat:
    t = Tier(tier)
    o = Orientation(orientation)
    w, h, fps = _LANDSCAPE[t]
    if o is Orientation.portrait:
        w, h = h, w
    return VideoFormat(tier=t, orientation=o, width=w, height=h, fps=fps)
