"""Real renders: the lint sees a plain Scene, and a dry run finds runtime errors with no frames."""

import pytest

from c2v.models import RenderRequest, RenderStatus
from sandbox.bwrap import BwrapBackend
from sandbox.render import render_key, render_scene

pytestmark = pytest.mark.integration

PLAIN = """from manim import *

class Section1(Scene):
    def construct(self):
        a = Text("first label", font_size=36)
        b = Text("second label", font_size=36)
        self.play(FadeIn(a), FadeIn(b))
        f = MathTex(r"e^{i\\pi} + 1 = 0")
        f.move_to(RIGHT * (config.frame_width / 2 + 3))
        self.play(Write(f))
        self.wait(0.5)
"""

NOTHING_SHOWN = """from manim import *

class Section1(Scene):
    def construct(self):
        self.wait(1)
"""

BROKEN_LATE = """from manim import *

class Section1(Scene):
    def construct(self):
        for i in range(6):
            sq = Square().shift(LEFT * 3 + RIGHT * i)
            self.play(Create(sq), run_time=1.5)
        self.play(Write(Textt("never")))
"""


def request(code, **kw):
    return RenderRequest(
        case_id="t", section_id="1", scene_name="Section1", code=code, tier="l", orientation="landscape", **kw
    )


def test_a_plain_scene_is_linted_like_a_teaching_scene():
    out = render_scene(request(PLAIN), BwrapBackend())
    assert out.result.status is RenderStatus.ok, out.result.message
    assert out.result.layout_recorded
    issues = {i.rule: i for i in out.result.layout_issues}
    assert issues["overlap"].line == 5 and "first label" in issues["overlap"].message
    assert issues["off_frame"].line == 8 and "past the frame" in issues["off_frame"].message
    # No template panels in a plain scene: no lecture-panel rule fires.
    assert "covers_lecture" not in issues


def test_nothing_on_screen_means_nothing_recorded():
    out = render_scene(request(NOTHING_SHOWN), BwrapBackend())
    assert out.result.status is RenderStatus.ok, out.result.message
    assert not out.result.layout_recorded and out.result.layout_issues == []


def test_dry_run_reports_a_runtime_error_with_its_line_and_no_video():
    out = render_scene(request(BROKEN_LATE, dry_run=True), BwrapBackend())
    assert out.result.status is RenderStatus.code_error
    assert "Textt" in out.result.message and out.result.error_line == 8
    assert out.video is None


def test_dry_run_of_a_good_scene_is_ok_and_still_linted():
    out = render_scene(request(PLAIN, dry_run=True), BwrapBackend())
    assert out.result.status is RenderStatus.ok, out.result.message
    assert out.video is None and out.result.video_duration_s is None
    assert {"overlap", "off_frame"} <= {i.rule for i in out.result.layout_issues}


def test_a_dry_run_verdict_never_stands_for_a_render():
    assert render_key(request(PLAIN, dry_run=True)) != render_key(request(PLAIN))


OLD_API = """from manim import *
from c2v_layout import TeachingScene

class Section1(TeachingScene):
    def construct(self):
        self.show_title("Old names")
        self.show_lecture(["A parabola, drawn the old way"])
        axes = Axes(x_range=[-2, 2], y_range=[0, 4])
        self.place_at("B2", axes, span_to="E5")
        graph = axes.get_graph(lambda x: x**2, color=BLUE)
        label = TexMobject("y = x^2")
        self.place_at("E1", label)
        self.play(ShowCreation(axes), ShowCreation(graph))
        self.play(FadeInFrom(label, UP), FadeInFromDown(TextMobject("parabola").scale(0.6)))
"""


def test_code_the_precheck_rewrote_renders_where_the_original_fails():
    from c2v.agents.precheck import precheck

    broken = render_scene(request(OLD_API, dry_run=True), BwrapBackend())
    # Manim answers get_graph with a confusing getter TypeError at line 10; the precheck renames it.
    assert broken.result.status is RenderStatus.code_error and broken.result.error_line == 10
    checked = precheck(OLD_API, "Section1")
    assert checked.ok and len(checked.rewrites) == 7
    out = render_scene(request(checked.code), BwrapBackend())
    assert out.result.status is RenderStatus.ok, out.result.message
