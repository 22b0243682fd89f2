"""Layout lint: find overlaps, off-frame objects and unreadable text with no model at all.

The in-sandbox runtime records every visible unit (text, formula, shape, image) with its bounding
box after each animation (``layout.json``); these rules read that record. Each issue
names the objects, the anchor cells they cover, the line of scene.py that created them
and the animation after which the problem was on screen, so the Coder can act on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from c2v.models import IssueSeverity, LayoutIssue
from c2v.review.fonts import missing_glyphs
from sandbox.runtime.c2v_anchors import Box, layout_for

#: Scene units per font-size point of a line of text (cap height plus ascenders), measured.
UNITS_PER_FONT_POINT = 0.0105
MIN_TEXT_PX = 9.0
SAFE_MARGIN = 0.1
EDGE_TOLERANCE = 0.05
TEXT_OVERLAP = 0.12  # share of the smaller text's box
PANEL_TOLERANCE = 0.15  # scene units an object may reach into a neighbouring panel
MAX_ISSUES = 50
MIN_IMAGE_PX = 28.0  # an icon smaller than this on both sides reads as a speck


class UnitKind(StrEnum):
    """What the sandbox's layout recorder saw an object as (``c2v_record``)."""

    text = "text"
    formula = "formula"
    shape = "shape"
    image = "image"


class UnitRole(StrEnum):
    """The panel an object belongs to: the template names the lecture and title, the rest is area."""

    lecture = "lecture"
    heading = "title"  # (not `title`: str has a method of that name)
    area = "area"
    other = "other"  # a role this version does not know: no panel rule applies to it


_E = TypeVar("_E", bound=StrEnum)


def _member(enum: type[_E], raw: object, default: _E) -> _E:
    """A recorded value as the enum's member; an unknown one (the report is data) as ``default``."""
    try:
        return enum(str(raw))
    except ValueError:
        return default


@dataclass(frozen=True)
class _Unit:
    id: int
    kind: UnitKind
    role: UnitRole
    cls: str
    text: str
    line: int | None
    box: Box
    font_size: float | None

    @property
    def name(self) -> str:
        return f"{self.cls}({self.text!r})" if self.text else self.cls

    @property
    def is_text(self) -> bool:
        return self.kind in (UnitKind.text, UnitKind.formula)


def _area(b: Box) -> float:
    return max(0.0, b.width) * max(0.0, b.height)


def _intersection(a: Box, b: Box) -> float:
    w = min(a.right, b.right) - max(a.left, b.left)
    h = min(a.top, b.top) - max(a.bottom, b.bottom)
    return w * h if w > 0 and h > 0 else 0.0


def _parse_units(snapshot: dict[str, Any]) -> list[_Unit]:
    units = []
    for raw in snapshot.get("units", []):
        left, right, bottom, top = (float(v) for v in raw["bbox"])
        units.append(
            _Unit(
                id=int(raw["id"]),
                kind=_member(UnitKind, raw.get("kind"), UnitKind.shape),
                role=_member(UnitRole, raw.get("role", UnitRole.area), UnitRole.other),
                cls=str(raw.get("cls", "?"))[:40],
                text=str(raw.get("text", ""))[:60],
                line=raw.get("line") if isinstance(raw.get("line"), int) else None,
                box=Box(left, right, bottom, top),
                font_size=float(raw["font_size"]) if raw.get("font_size") is not None else None,
            )
        )
    return units


def lint_layout(report: dict[str, Any], target_pixel_height: int | None = None) -> list[LayoutIssue]:
    """All issues in a layout record; each problem is reported once, at its first animation."""
    frame_w, frame_h = float(report["frame_width"]), float(report["frame_height"])
    px_per_unit = (target_pixel_height or int(report["pixel_height"])) / frame_h
    grid = layout_for(frame_w, frame_h)
    frame = grid.frame
    issues: dict[tuple[str, tuple[int, ...]], LayoutIssue] = {}

    def add(rule: str, severity: IssueSeverity, units: list[_Unit], message: str, index: int) -> None:
        key = (rule, tuple(sorted(u.id for u in units)))
        if key in issues or len(issues) >= MAX_ISSUES:
            return
        cells: list[str] = []
        for u in units:
            cells += [c for c in grid.cells_overlapping(u.box) if c not in cells]
        issues[key] = LayoutIssue(
            rule=rule,
            severity=severity,
            message=message,
            objects=[u.name for u in units],
            anchors=cells,
            line=next((u.line for u in units if u.line is not None), None),
            animation=index,
        )

    for snap in report.get("snapshots", []):
        index = int(snap.get("index", 0)) + 1
        units = _parse_units(snap)
        for u in units:
            b = u.box
            out = max(frame.left - b.left, b.right - frame.right, frame.bottom - b.bottom, b.top - frame.top)
            if out > EDGE_TOLERANCE:
                add(
                    "off_frame",
                    IssueSeverity.error,
                    [u],
                    f"{u.name} extends {out:.2f} units past the frame",
                    index,
                )
            elif out > -SAFE_MARGIN + EDGE_TOLERANCE:
                add(
                    "safe_margin",
                    IssueSeverity.warning,
                    [u],
                    f"{u.name} touches the frame's safe margin",
                    index,
                )
            if u.is_text and u.font_size is not None:
                px = u.font_size * UNITS_PER_FONT_POINT * px_per_unit
                if px < MIN_TEXT_PX:
                    add(
                        "small_text",
                        IssueSeverity.error,
                        [u],
                        f"{u.name} is about {px:.0f} px tall; make it at least {MIN_TEXT_PX:.0f} px",
                        index,
                    )
            if u.kind is UnitKind.text and (gaps := missing_glyphs(u.text)):
                shown = " ".join(gaps[:10])
                add(
                    "missing_glyphs",
                    IssueSeverity.error,
                    [u],
                    f"{u.name} has characters no installed font can draw (they show as empty boxes): {shown}",
                    index,
                )
            if u.role is UnitRole.lecture and _reaches(b, grid.area, grid.portrait):
                add(
                    "lecture_overflow",
                    IssueSeverity.error,
                    [u],
                    f"lecture line {u.name} runs into the animation area",
                    index,
                )
            if u.role is UnitRole.area and _intersection(b, grid.lecture) > PANEL_TOLERANCE * max(
                b.height, 0.01
            ):
                add(
                    "covers_lecture",
                    IssueSeverity.error,
                    [u],
                    f"{u.name} covers the lecture panel; keep it inside anchors A1-F6",
                    index,
                )
        texts = [u for u in units if u.is_text]
        for i, first in enumerate(texts):
            for second in texts[i + 1 :]:
                if first.role is second.role is UnitRole.lecture:
                    continue
                shared = _intersection(first.box, second.box)
                if shared > TEXT_OVERLAP * min(_area(first.box), _area(second.box)):
                    add(
                        "overlap",
                        IssueSeverity.error,
                        [first, second],
                        f"{first.name} overlaps {second.name}",
                        index,
                    )
        for image in (u for u in units if u.kind is UnitKind.image):
            _lint_image(image, texts, px_per_unit, index, add)
        shapes = [
            u for u in units if not u.is_text and u.kind is not UnitKind.image and u.role is UnitRole.area
        ]
        for t in texts:
            for s in shapes:
                share = _intersection(t.box, s.box) / max(_area(t.box), 1e-9)
                # A label fully inside a shape is intended; one hanging over its edge is not.
                if 0.25 < share < 0.85:
                    add(
                        "text_on_shape_edge",
                        IssueSeverity.warning,
                        [t, s],
                        f"{t.name} straddles the edge of {s.name}",
                        index,
                    )
    return list(issues.values())


def _lint_image(
    image: _Unit,
    texts: list[_Unit],
    px_per_unit: float,
    index: int,
    add: Callable[[str, IssueSeverity, list[_Unit], str, int], None],
) -> None:
    """An icon is an object like any other (the frame rules above), and also not tiny, not over text."""
    side_px = max(image.box.width, image.box.height) * px_per_unit
    if side_px < MIN_IMAGE_PX:
        add(
            "small_image",
            IssueSeverity.warning,
            [image],
            f"{image.name} is about {side_px:.0f} px; make it at least {MIN_IMAGE_PX:.0f} px",
            index,
        )
    for t in texts:
        if _intersection(t.box, image.box) > TEXT_OVERLAP * _area(t.box):
            add("image_over_text", IssueSeverity.error, [image, t], f"{image.name} covers {t.name}", index)


def _reaches(b: Box, area: Box, portrait: bool) -> bool:
    if portrait:
        return b.top > area.bottom + PANEL_TOLERANCE
    return b.right > area.left + PANEL_TOLERANCE
