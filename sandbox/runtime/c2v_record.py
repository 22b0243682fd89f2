"""Record what is on screen after every animation, for the host's layout lint.

Installed by ``c2v_manim`` before the scene module is imported, so it sees every Manim
``Scene`` the code defines, whether or not it builds on ``TeachingScene``: the hooks sit on
Manim's render manager (``play``, which ``wait`` goes through, and ``tear_down``), below
anything a scene overrides. Every mobject remembers the line of scene.py that created it;
after each ``play`` the scene's visible objects are flattened into units (a text, a
formula or a shape) with their bounding boxes, and at the end everything is written to
``layout.json`` in the work dir. Sizes are capped so a hostile scene cannot make the host
read a huge file. A scene without the template has no panels: its objects get the role
``free`` (frame, size and overlap rules apply; panel rules do not).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
from c2v_anchors import layout_for
from manim import (
    DecimalNumber,
    Group,
    MarkupText,
    Mobject,
    SingleStringMathTex,
    Text,
    VGroup,
    VMobject,
    Wait,
    config,
)
from manim.manager import Manager

REPORT_NAME = "layout.json"
SCENE_FILE = "scene.py"
MAX_UNITS = 300
MAX_SNAPSHOTS = 400
MAX_TEXT = 200
MAX_PLAYS = 5000

_original_init = Mobject.__init__


_SCENE_PATHS = {SCENE_FILE, str(Path(SCENE_FILE).absolute())}


def _creation_line() -> int | None:
    """The line of the scene file (not of Manim's own scene.py) that created a mobject."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename in _SCENE_PATHS:
            return frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _recording_init(self: Mobject, *args: Any, **kwargs: Any) -> None:
    self._c2v_line = _creation_line()
    _original_init(self, *args, **kwargs)


Mobject.__init__ = _recording_init  # type: ignore[method-assign]


def _visible(m: Mobject) -> bool:
    if m.width <= 1e-6 and m.height <= 1e-6:
        return False
    family = m.get_family()
    for sub in family:
        if isinstance(sub, VMobject):
            if sub.get_fill_opacity() > 0.05 or (
                sub.get_stroke_opacity() > 0.05 and sub.get_stroke_width() > 0
            ):
                return True
        elif getattr(sub, "points", None) is not None and len(sub.points):
            return True
    return False


def _bbox(m: Mobject) -> list[float]:
    left, bottom = m.get_corner([-1, -1, 0])[:2]
    right, top = m.get_corner([1, 1, 0])[:2]
    return [round(float(left), 4), round(float(right), 4), round(float(bottom), 4), round(float(top), 4)]


def _unit(m: Mobject, role: str) -> dict[str, Any]:
    unit: dict[str, Any] = {
        "id": id(m),
        "cls": type(m).__name__,
        "line": getattr(m, "_c2v_line", None),
        "bbox": _bbox(m),
        "role": role,
    }
    if isinstance(m, (Text, MarkupText)):
        unit["kind"] = "text"
        unit["text"] = str(getattr(m, "original_text", getattr(m, "text", "")))[:MAX_TEXT]
        unit["font_size"] = round(float(m.font_size), 2)
    elif isinstance(m, SingleStringMathTex):
        unit["kind"] = "formula"
        unit["text"] = str(getattr(m, "tex_string", ""))[:MAX_TEXT]
        unit["font_size"] = round(float(m.font_size), 2)
    elif isinstance(m, DecimalNumber):
        unit["kind"] = "text"
        unit["text"] = str(m.get_value())
        unit["font_size"] = round(float(m.font_size), 2)
    elif getattr(m, "_c2v_image", None):
        unit["kind"] = "image"
        unit["text"] = str(m._c2v_image)[:MAX_TEXT]  # type: ignore[attr-defined]
    else:
        unit["kind"] = "shape"
    return unit


def _flatten(m: Mobject, role: str, out: list[dict[str, Any]]) -> None:
    if len(out) >= MAX_UNITS or not _visible(m):
        return
    if type(m) in (VGroup, Group) or (type(m) is VMobject and m.submobjects and not len(m.points)):
        for sub in m.submobjects:
            _flatten(sub, role, out)
        return
    out.append(_unit(m, role))


class Recorder:
    """Snapshots of the scene; written once, at the end of the render."""

    def __init__(self) -> None:
        self.snapshots: list[dict[str, Any]] = []
        self.dropped = 0
        self.speech: list[dict[str, Any]] = []  # {"index", "t"}: when each segment started
        self.play_ends: list[float] = []  # section time at the end of every play, skipped ones too

    def snapshot(self, scene: Any, label: str, roles: dict[int, str], default_role: str = "area") -> None:
        if len(self.snapshots) >= MAX_SNAPSHOTS:
            self.dropped += 1
            return
        units: list[dict[str, Any]] = []
        for m in scene.mobjects:
            _flatten(m, roles.get(id(m), default_role), units)
        t = float(getattr(getattr(scene, "renderer", None), "time", 0.0) or 0.0)
        index = len(self.snapshots)
        self.snapshots.append({"index": index, "label": label, "t": round(t, 3), "units": units})

    def write(self, layout: Any) -> None:
        report = {
            "pixel_width": config.pixel_width,
            "pixel_height": config.pixel_height,
            "frame_width": config.frame_width,
            "frame_height": config.frame_height,
            "boxes": {
                name: [box.left, box.right, box.bottom, box.top]
                for name, box in (("title", layout.title), ("lecture", layout.lecture), ("area", layout.area))
            },
            "snapshots": self.snapshots,
            "speech": self.speech[:MAX_SNAPSHOTS],
            "play_ends": self.play_ends[:MAX_PLAYS],
            "dropped_snapshots": self.dropped,
        }
        tmp = REPORT_NAME + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(report, fh)
        os.replace(tmp, REPORT_NAME)


def _recorder_of(scene: Any) -> Recorder:
    recorder = scene.__dict__.get("_c2v_recorder")
    if recorder is None:
        recorder = Recorder()
        scene._c2v_recorder = recorder
    return recorder


def record_speech(scene: Any, index: int, t: float) -> None:
    """Note that spoken segment ``index`` started ``t`` seconds into the section."""
    _recorder_of(scene).speech.append({"index": index, "t": round(t, 3)})


def _snapshot(scene: Any, label: str) -> None:
    """Roles come from the template's ``_c2v_roles`` where the scene has it."""
    roles_of = getattr(scene, "_c2v_roles", None)
    if callable(roles_of):
        _recorder_of(scene).snapshot(scene, label, roles_of(), "area")
    else:
        _recorder_of(scene).snapshot(scene, label, {}, "free")


def _clock_as_rendered(manager: Any, start: float) -> None:
    """Move the clock after a skipped play (``-n``) to where rendering it would have.

    Manim adds a skipped play's exact run time, but a rendered one adds whole frames (one
    per step of ``arange(0, run_time, 1/fps)``, or ``int(run_time * fps)`` for a still wait).
    Scenes that wait on the clock (the template's speech) would drift by a frame per play.
    """
    duration = float(manager.scene.duration)
    dt = 1 / config.frame_rate
    animations = getattr(manager.scene, "animations", None) or []
    still = len(animations) == 1 and isinstance(animations[0], Wait) and bool(animations[0].is_static_wait)
    if still:
        manager.time = start + int(duration / dt) * dt
        return
    t = start
    for _ in range(len(np.arange(0, duration, dt))):
        t += dt
    manager.time = t


def _stopped_early(manager: Any) -> bool:
    """Whether the render ended at its ``-n`` upper bound, before the scene's own end."""
    end = config.upto_animation_number
    return end is not None and end >= 0 and manager.num_plays > end


def install() -> None:
    """Hook the recorder into Manim's render manager (idempotent)."""
    if getattr(Manager.play, "_c2v_recording", False):
        return
    original_play = Manager.play
    original_tear_down = Manager.tear_down

    def play(self: Any, *args: Any, **kwargs: Any) -> None:
        start = float(self.time)
        original_play(self, *args, **kwargs)
        if self.skip_animations:
            _clock_as_rendered(self, start)
        recorder = _recorder_of(self.scene)
        recorder.play_ends.append(round(float(self.time), 4))
        _snapshot(self.scene, f"play {len(recorder.snapshots) + 1}")

    def tear_down(self: Any) -> None:
        # A chunk that stops before the scene's end (``-n START,END``) leaves the template's
        # tear-down plays (the last speech waits) to the chunk that holds them.
        if not _stopped_early(self):
            original_tear_down(self)
        scene = self.scene
        _snapshot(scene, "end")
        layout = getattr(scene, "layout", None)
        if layout is None or not hasattr(layout, "lecture"):
            layout = layout_for(config.frame_width, config.frame_height)
        _recorder_of(scene).write(layout)

    play._c2v_recording = True  # type: ignore[attr-defined]
    Manager.play = play
    Manager.tear_down = tear_down
