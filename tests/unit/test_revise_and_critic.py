from c2v.agents.critic import placements
from c2v.models import CriticIssue, IssueSeverity, LayoutIssue
from c2v.review.keyframes import pick_times
from c2v.review.revise import plan_revision

CODE = """from manim import *
from c2v_layout import TeachingScene

class Section1(TeachingScene):
    def construct(self):
        a = Text("a")
        self.place_at("C3", a)
        b = Text("b")
        self.place_at('C3', b, span_to="D4")
        self.play(FadeIn(a), FadeIn(b))
"""


def lint(rule="overlap", line=7, severity=IssueSeverity.error):
    return LayoutIssue(
        rule=rule,
        severity=severity,
        message="Text('a') overlaps Text('b')",
        objects=[],
        anchors=["C3"],
        line=line,
    )


def test_placement_table_lists_anchor_calls_with_lines():
    assert placements(CODE) == [(7, 'self.place_at("C3", a)'), (9, "self.place_at('C3', b, span_to=\"D4\")")]


def test_anchor_move_is_a_line_edit_without_the_coder():
    plan = plan_revision(CODE, [lint(line=9)], [CriticIssue(problem="b hides a", line=9, anchor="e5")])
    assert plan.edited_lines == [9]
    assert "self.place_at('E5', b, span_to=\"D4\")" in plan.code
    assert plan.code.count("\n") == CODE.count("\n")
    assert not plan.needs_coder  # the lint issue on line 9 is covered by the edit


def test_issues_without_an_anchor_go_to_the_coder():
    plan = plan_revision(CODE, [lint(line=7)], [CriticIssue(problem="too crowded", fix="use clear_area")])
    assert plan.edited_lines == []
    assert plan.needs_coder
    assert any("too crowded" in r and "clear_area" in r for r in plan.remaining)
    assert any("[overlap]" in r and "line 7" in r for r in plan.remaining)


def test_warnings_alone_do_not_trigger_a_revision():
    plan = plan_revision(CODE, [lint(severity=IssueSeverity.warning)], [])
    assert not plan.needs_coder and not plan.edited_lines


def test_anchor_on_a_line_without_place_at_is_left_to_the_coder():
    plan = plan_revision(CODE, [], [CriticIssue(problem="move it", line=6, anchor="B2")])
    assert plan.edited_lines == [] and plan.needs_coder and "move it to B2" in plan.remaining[0]


def test_keyframe_times_are_bounded_and_inside_the_video():
    times = pick_times([0.5 * i for i in range(40)], duration=10.0, limit=6)
    assert len(times) == 6 and times == sorted(times)
    assert all(0 <= t < 10.0 for t in times)
    assert pick_times([], duration=4.0) == [3.95]
