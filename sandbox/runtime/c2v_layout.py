"""The teaching-scene template that generated Manim code builds on (runs inside the sandbox).

Generated scenes subclass :class:`TeachingScene`::

    from manim import *
    from c2v_layout import TeachingScene

    class Section1(TeachingScene):
        def construct(self):
            self.show_title("Right triangles")
            self.show_lecture(["A right triangle has one 90° angle", "Its longest side is the hypotenuse"])
            tri = Polygon(ORIGIN, RIGHT * 3, UP * 2, color=BLUE)
            self.place_at("C3", tri)
            self.play(Create(tri))
            self.highlight_lecture(1)

The frame holds a title band, a lecture-line panel (left in landscape, bottom in portrait)
and an animation area split into a 6x6 grid of anchors A1-F6 (columns A-F left to right,
rows 1-6 top to bottom). Objects are placed by anchor, which gives the critic exact words.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from c2v_anchors import Box, Layout, layout_for
from c2v_images import DEFAULT_HEIGHT, load_image
from c2v_record import install as install_recorder
from c2v_record import record_speech
from manim import (
    DOWN,
    GRAY_B,
    LEFT,
    UL,
    UP,
    WHITE,
    YELLOW,
    FadeIn,
    FadeOut,
    Mobject,
    Scene,
    Text,
    TexTemplate,
    VGroup,
    Write,
    config,
)

TITLE_FONT_SIZE = 40
LECTURE_FONT_SIZE = 24
MIN_LECTURE_FONT_SIZE = 16
LECTURE_COLOR = GRAY_B
HIGHLIGHT_COLOR = YELLOW
#: Written by the host into the work dir: ``[{"file": "narration/0.wav", "duration_s": 2.1}, ...]``.
SEGMENTS_FILE = "segments.json"


def chinese_tex_template() -> TexTemplate:
    """XeLaTeX + ctex, for Tex/MathTex with Chinese: ``Tex("勾股定理 $a^2+b^2=c^2$", tex_template=CJK_TEX)``.

    Slimmer than Manim's own ctex template, which also loads dsfont from the ~1 GB
    texlive-fonts-extra.
    """
    return TexTemplate(
        tex_compiler="xelatex",
        output_format=".xdv",
        preamble="\n".join(
            [
                r"\usepackage[UTF8,fontset=fandol]{ctex}",
                r"\usepackage{amsmath}",
                r"\usepackage{amssymb}",
            ]
        ),
    )


CJK_TEX = chinese_tex_template()


def load_segments(path: str = SEGMENTS_FILE) -> list[tuple[str, float]]:
    """The section's spoken segments (file, seconds), one per lecture line; none when absent."""
    try:
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
        return [(str(e["file"]), float(e["duration_s"])) for e in entries]
    except (OSError, ValueError, KeyError, TypeError):
        return []


install_recorder()


def current_layout() -> Layout:
    return layout_for(config.frame_width, config.frame_height)


def anchor_point(anchor: str) -> np.ndarray:
    """Scene coordinates (x, y, 0) of the centre of an anchor cell such as "C3"."""
    x, y = current_layout().point(anchor)
    return np.array([x, y, 0.0])


def _fit(mobj: Mobject, box: Box, fill: float) -> None:
    if mobj.width > box.width * fill:
        mobj.scale_to_fit_width(box.width * fill)
    if mobj.height > box.height * fill:
        mobj.scale_to_fit_height(box.height * fill)


def place_at(anchor: str, mobj: Mobject, span_to: str | None = None, fill: float = 0.92) -> Mobject:
    """Centre ``mobj`` on ``anchor``; with ``span_to`` ("B2" to "E5"), fit it inside that span.

    Without ``span_to`` the object is only shrunk when it would not fit the whole
    animation area, so it never spills over the lecture panel.
    """
    layout = current_layout()
    if span_to is not None:
        box = layout.span(anchor, span_to)
        _fit(mobj, box, fill)
        x, y = box.center
    else:
        _fit(mobj, layout.area, fill)
        x, y = layout.point(anchor)
    mobj.move_to(np.array([x, y, 0.0]))
    return mobj


# Characters that may break a line anywhere: CJK ideographs, kana, Hangul and full-width forms.
_BREAK_ANYWHERE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_TOKENS = re.compile(
    r"\s+|[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+"
)


@lru_cache(maxsize=4096)
def _token_width(token: str, font_size: float) -> float:
    """Advance of one word or character: what it adds to a line's width.

    A single character (a CJK ideograph, say) is measured as the difference between two
    copies and one, which includes its side bearings; a space between two letters.
    """
    if token.isspace():
        space = Text("a a", font_size=font_size).width - Text("aa", font_size=font_size).width
        return float(space) * len(token)
    if len(token) == 1:
        return float(Text(token * 2, font_size=font_size).width - Text(token, font_size=font_size).width)
    return float(Text(token, font_size=font_size).width)


def _wrap_words(text: str, font_size: float, max_width: float) -> list[str]:
    """Greedy wrap: between words, and between any two CJK characters (no spaces needed).

    Widths are summed per token (each measured once), so a long Chinese line costs one
    measurement per distinct character instead of one per prefix.
    """
    lines: list[str] = []
    current, width = "", 0.0
    for tok in _TOKENS.findall(text):
        w = _token_width(tok, font_size)
        if current.strip() and not tok.isspace() and width + w > max_width:
            lines.append(current.strip())
            current, width = tok, w
        else:
            current, width = current + tok, width + w
    if current.strip():
        lines.append(current.strip())
    return lines or [text]


class TeachingScene(Scene):
    """A Scene with a title band, a lecture-line panel and an anchored animation area."""

    # Defaults for a scene whose setup() does not call the template's.
    _segments: list[tuple[str, float]] = []
    _spoken: set[int] = set()
    _speaking_until = 0.0

    def setup(self) -> None:
        self.layout = current_layout()
        self.title_mobject: Mobject | None = None
        self.lecture_group = VGroup()
        self._segments = load_segments()
        self._spoken: set[int] = set()
        self._speaking_until = 0.0

    # -- narration: the audio sets the pace, the scene waits for each segment to finish ------
    def _finish_speech(self) -> None:
        remaining = self._speaking_until - self.time
        if remaining > 1e-3:  # whole frames, rounded up: the picture never ends mid-word
            self.wait(max(1, math.ceil(remaining * config.frame_rate - 1e-6)) / config.frame_rate)

    def _speak(self, index: int) -> None:
        self._finish_speech()
        if not 0 <= index < len(self._segments) or index in self._spoken:
            return
        path, duration = self._segments[index]
        self._spoken.add(index)
        record_speech(self, index, self.time)
        self.add_sound(path)
        self._speaking_until = self.time + duration

    def tear_down(self) -> None:
        """Speak the segments the scene never highlighted, then let the last one finish."""
        for index in range(len(self._segments)):
            self._speak(index)
        self._finish_speech()
        super().tear_down()

    # -- layout recording (c2v_record snapshots every scene; this names the panels) ----------
    def _c2v_roles(self) -> dict[int, str]:
        roles = {id(self.lecture_group): "lecture"}
        if self.title_mobject is not None:
            roles[id(self.title_mobject)] = "title"
        return roles

    # -- geometry -------------------------------------------------------------
    def anchor(self, name: str) -> np.ndarray:
        return anchor_point(name)

    def place_at(self, anchor: str, mobj: Mobject, span_to: str | None = None, fill: float = 0.92) -> Mobject:
        return place_at(anchor, mobj, span_to=span_to, fill=fill)

    def place_image(
        self, file: str, anchor: str, height: float = DEFAULT_HEIGHT, span_to: str | None = None
    ) -> Mobject:
        """An icon from ``assets/`` (its exact file name), ``height`` units tall, centred on ``anchor``."""
        return place_at(anchor, load_image(file, height), span_to=span_to)

    # -- title and lecture lines ---------------------------------------------------
    def show_title(self, text: str, animate: bool = True) -> Mobject:
        box = self.layout.title
        title = Text(text, font_size=TITLE_FONT_SIZE, color=WHITE, weight="BOLD")
        _fit(title, box, 1.0)
        title.move_to(np.array([*box.center, 0.0]))
        if self.title_mobject is not None:
            self.remove(self.title_mobject)
        self.title_mobject = title
        if animate:
            self.play(Write(title), run_time=0.8)
        else:
            self.add(title)
        return title

    def show_lecture(self, lines: list[str], animate: bool = True) -> VGroup:
        """Write the lecture lines into the panel (replacing earlier ones); one item per line."""
        box = self.layout.lecture
        font_size: float = LECTURE_FONT_SIZE
        while True:
            items = VGroup()
            for line in lines:
                parts = [
                    Text(p, font_size=font_size, color=LECTURE_COLOR)
                    for p in _wrap_words(line, font_size, box.width)
                ]
                items.add(VGroup(*parts).arrange(DOWN, aligned_edge=LEFT, buff=0.12))
            items.arrange(DOWN, aligned_edge=LEFT, buff=0.3)
            if items.height <= box.height or font_size <= MIN_LECTURE_FONT_SIZE:
                break
            font_size -= 2
        _fit(items, box, 1.0)
        items.move_to(np.array([box.left, box.top, 0.0]), aligned_edge=UL)
        if len(self.lecture_group) and animate:
            self.play(FadeOut(self.lecture_group), run_time=0.3)
        elif len(self.lecture_group):
            self.remove(self.lecture_group)
        self.lecture_group = items
        if animate:
            self.play(FadeIn(items, shift=UP * 0.1), run_time=0.6)
        else:
            self.add(items)
        return items

    def highlight_lecture(self, index: int) -> None:
        """Colour lecture line ``index`` (0-based, as given to show_lecture) and dim the rest.

        Starts the narration of that line; the previous one is first allowed to finish.
        """
        self._speak(index)
        animations: list[Any] = []
        for i, item in enumerate(self.lecture_group):
            color = HIGHLIGHT_COLOR if i == index else LECTURE_COLOR
            animations.append(item.animate.set_color(color))
        if animations:
            self.play(*animations, run_time=0.3)

    def clear_area(self, run_time: float = 0.5) -> None:
        """Fade out everything except the title and the lecture lines."""
        keep = {id(self.lecture_group), id(self.title_mobject)}
        gone = [m for m in self.mobjects if id(m) not in keep]
        if gone:
            self.play(*[FadeOut(m) for m in gone], run_time=run_time)
