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
