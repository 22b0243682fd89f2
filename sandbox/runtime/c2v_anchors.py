"""Anchor-grid geometry shared by the host (lint, critic, prompts) and the in-sandbox runtime.

Pure Python with no third-party imports, so it can be copied next to a scene file and
imported inside any sandbox. The animation area is split into a 6x6 grid; columns are
letters A-F from left to right, rows are numbers 1-6 from top to bottom (spreadsheet
style), so "A1" is the top-left cell and "F6" the bottom-right one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COLUMNS = "ABCDEF"
ROWS = 6
_ANCHOR = re.compile(r"^\s*([A-Fa-f])\s*([1-6])\s*$")

_EPS = 1e-6  # boxes that merely touch a cell's edge do not overlap it

#: c2v renders with an 8-unit-tall frame (set in the manim.cfg beside each scene); the
#: width follows the aspect ratio: 14.22 units in landscape, 4.5 in portrait.
FRAME_HEIGHT = 8.0


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in Manim scene units (y grows upwards)."""

    left: float
    right: float
    bottom: float
    top: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.top - self.bottom

    @property
    def center(self) -> tuple[float, float]:
        return ((self.left + self.right) / 2, (self.bottom + self.top) / 2)


@dataclass(frozen=True)
class Layout:
    """Where the title, the lecture-line panel and the animation area sit in the frame."""

    frame: Box
    title: Box
    lecture: Box
    area: Box
    portrait: bool

    def cell(self, anchor: str) -> Box:
        col, row = parse_anchor(anchor)
        cw = self.area.width / len(COLUMNS)
        rh = self.area.height / ROWS
        left = self.area.left + col * cw
        top = self.area.top - row * rh
        return Box(left=left, right=left + cw, bottom=top - rh, top=top)

    def span(self, first: str, last: str) -> Box:
        """The rectangle covering every cell from ``first`` to ``last`` (e.g. "B2", "E5")."""
        a, b = self.cell(first), self.cell(last)
        return Box(
            left=min(a.left, b.left),
            right=max(a.right, b.right),
            bottom=min(a.bottom, b.bottom),
            top=max(a.top, b.top),
        )

    def point(self, anchor: str) -> tuple[float, float]:
        return self.cell(anchor).center

    def cells_overlapping(self, box: Box) -> list[str]:
        """Anchor names of every cell that ``box`` touches, in reading order."""
        names = []
        for row in range(ROWS):
            for col in range(len(COLUMNS)):
                name = f"{COLUMNS[col]}{row + 1}"
                c = self.cell(name)
                overlap_x = min(box.right, c.right) - max(box.left, c.left)
                overlap_y = min(box.top, c.top) - max(box.bottom, c.bottom)
                if overlap_x > _EPS and overlap_y > _EPS:
                    names.append(name)
        return names


def parse_anchor(anchor: str) -> tuple[int, int]:
    """Return (column index, row index), both from 0, for a name such as "C3"."""
    m = _ANCHOR.match(anchor)
    if m is None:
        raise ValueError(f"not an anchor name: {anchor!r} (expected A1..F6)")
    return COLUMNS.index(m.group(1).upper()), int(m.group(2)) - 1


def all_anchors() -> list[str]:
    return [f"{c}{r}" for r in range(1, ROWS + 1) for c in COLUMNS]


def layout_for(frame_width: float, frame_height: float = FRAME_HEIGHT, margin: float = 0.3) -> Layout:
    """Compute the teaching layout for a frame of the given size in scene units.

    Landscape: title band across the top, lecture lines in a left panel (about a third of
    the width), animation area on the right. Portrait: title on top, the animation area in
    the middle, lecture lines below it.
    """
    height = frame_height
    width = frame_width
    aspect = width / height
    frame = Box(left=-width / 2, right=width / 2, bottom=-height / 2, top=height / 2)
    inner = Box(frame.left + margin, frame.right - margin, frame.bottom + margin, frame.top - margin)
    if aspect >= 1.0:
        title_h = 0.9
        title = Box(inner.left, inner.right, inner.top - title_h, inner.top)
        split = inner.left + inner.width * 0.34
        lecture = Box(inner.left, split - margin / 2, inner.bottom, title.bottom - margin / 2)
        area = Box(split + margin / 2, inner.right, inner.bottom, title.bottom - margin / 2)
        return Layout(frame=frame, title=title, lecture=lecture, area=area, portrait=False)
    title_h = 0.8
    title = Box(inner.left, inner.right, inner.top - title_h, inner.top)
    lecture_h = inner.height * 0.3
    lecture = Box(inner.left, inner.right, inner.bottom, inner.bottom + lecture_h)
    area = Box(inner.left, inner.right, lecture.top + margin / 2, title.bottom - margin / 2)
    return Layout(frame=frame, title=title, lecture=lecture, area=area, portrait=True)
