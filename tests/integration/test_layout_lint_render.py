"""Real renders of scenes with known defects: the lint finds them with anchors and lines."""

import pytest

from c2v.models import RenderRequest, RenderStatus
from sandbox.bwrap import BwrapBackend
from sandbox.render import render_scene

pytestmark = pytest.mark.integration

DEFECTS = """from manim import *
from c2v_layout import TeachingScene

class Section1(TeachingScene):
    def construct(self):
        self.show_title("Defects")
        self.show_lecture(["Two labels collide", "A formula leaves the frame"])
        a = Text("left label", font_size=30)
        b = Text("right label", font_size=30)
        self.place_at("C3", a)
        self.place_at("C3", b)
        self.play(FadeIn(a), FadeIn(b))
        f = MathTex(r"e^{i\\pi} + 1 = 0")
        f.move_to(RIGHT * 7.5)
        self.play(Write(f))
        tiny = Text("tiny words", font_size=12.5)
        self.place_at("E5", tiny)
        self.play(FadeIn(tiny))
"""

CLEAN = """from manim import *
from c2v_layout import TeachingScene

class Section1(TeachingScene):
    def construct(self):
        self.show_title("A clean scene")
        self.show_lecture(["A square and its label", "A formula below"])
        sq = Square(side_length=2, color=BLUE)
        self.place_at("C3", sq)
        label = MathTex("a^2").move_to(sq)
        self.play(Create(sq), Write(label))
        self.highlight_lecture(1)
        f = MathTex("A = a^2")
        self.place_at("C5", f)
        self.play(Write(f))
"""


def render(code):
    req = RenderRequest(
        case_id="t", section_id="1", scene_name="Section1", code=code, tier="l", orientation="landscape"
    )
    out = render_scene(req, BwrapBackend())
    assert out.result.status is RenderStatus.ok, out.result.message
    assert out.result.layout_recorded
    return out.result.layout_issues


def test_known_defects_are_found_where_they_are():
    issues = {i.rule: i for i in render(DEFECTS)}
    assert set(issues) >= {"overlap", "off_frame", "small_text"}
    assert issues["overlap"].line == 8 and "C3" in issues["overlap"].anchors
    assert issues["off_frame"].line == 13
    assert issues["small_text"].line == 16 and issues["small_text"].anchors == ["E5"]
    assert issues["small_text"].animation == 5


def test_clean_scene_raises_nothing():
    assert render(CLEAN) == []
