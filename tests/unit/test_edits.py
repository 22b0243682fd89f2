"""SEARCH/REPLACE edits as real models write them."""

import pytest

from c2v.agents.edits import (
    MatchKind,
    apply_edit_blocks,
    apply_reply,
    parse_edit_blocks,
)
from c2v.errors import ReplyParseError

CODE = """from manim import *
from c2v_layout import TeachingScene


class Section2(TeachingScene):
    def construct(self):
        self.show_title("Graphs")
        axes = Axes(x_range=[-3, 3], y_range=[-2, 2])
        self.place_at("C3", axes, span_to="E5")
        graph = axes.get_graph(lambda x: x**2 / 4, color=BLUE)
        label = MathTex("y = x^2 / 4")
        self.place_at("E2", label)
        self.play(ShowCreation(axes), ShowCreation(graph))
        self.play(Write(label))
        self.wait(1)
"""


def edit(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def test_exact_edit_is_applied_and_reported():
    reply = edit("        self.wait(1)", "        self.wait(2)")
    result = apply_reply(CODE, reply, "Section2")
    assert "self.wait(2)" in result.code and "self.wait(1)" not in result.code
    assert [a.kind for a in result.applied] == [MatchKind.exact]
    assert result.applied[0].first_line == 15
    assert not result.whole_file


def test_indentation_off_by_four_is_reindented():
    # The model dropped one indentation level from both sides.
    reply = edit(
        '    graph = axes.get_graph(lambda x: x**2 / 4, color=BLUE)\n    label = MathTex("y = x^2 / 4")',
        '    graph = axes.plot(lambda x: x**2 / 4, color=BLUE)\n    label = MathTex("y = x^2 / 4")',
    )
    result = apply_reply(CODE, reply, "Section2")
    assert "        graph = axes.plot(lambda x: x**2 / 4, color=BLUE)\n" in result.code
    assert "get_graph" not in result.code
    assert result.applied[0].kind is MatchKind.indent_offset
    assert result.applied[0].first_line == 10


def test_indentation_too_deep_is_reindented_the_other_way():
    reply = edit(
        "            self.play(Write(label))\n            self.wait(1)",
        "            self.play(Write(label))\n            self.wait(3)",
    )
    code = apply_reply(CODE, reply, "Section2").code
    assert "\n        self.wait(3)\n" in code


def test_an_inconsistent_offset_is_not_an_indent_match():
    reply = edit("    self.play(Write(label))\n        self.wait(1)", "        self.wait(2)")
    result = apply_reply(CODE, reply, "Section2")
    # Not an offset match; the whitespace rule still places it and keeps the file's indent.
    assert result.applied[0].kind is MatchKind.whitespace
    assert "\n        self.wait(2)\n" in result.code and "Write(label)" not in result.code


def test_whitespace_inside_lines_is_normalised():
    reply = edit("        self.play(Write(label),\trun_time=2)\n        self.wait(1)", "        self.wait(2)")
    code = CODE.replace("self.play(Write(label))", "self.play(Write(label),  run_time=2)")
    result = apply_reply(code, reply, "Section2")
    assert result.applied[0].kind is MatchKind.whitespace
    assert "\n        self.wait(2)\n" in result.code and "run_time=2" not in result.code


def test_close_match_above_the_threshold_is_applied():
    # The model misremembered one word in a three-line quote.
    reply = edit(
        "        graph = axes.get_graph(lambda x: x**2 / 4, color=BLUE)\n"
        '        label = MathTex("y = x^2 / 4")\n'
        '        self.place_at("E2", labels)',
        '        graph = axes.plot(lambda x: x**2 / 4, color=BLUE)\n        label = MathTex("y = x^2 / 4")\n'
        '        self.place_at("E2", label)',
    )
    result = apply_reply(CODE, reply, "Section2")
    assert result.applied[0].kind is MatchKind.fuzzy
    assert 0.88 <= result.applied[0].similarity < 1.0
    assert "axes.plot(" in result.code and "get_graph" not in result.code
    assert result.code.count('self.place_at("E2", label)') == 1


def test_a_far_match_is_refused_with_the_closest_place():
    reply = edit(
        "        dots = VGroup(*[Dot() for _ in range(5)])\n"
        "        dots.arrange(RIGHT)\n        self.add(dots)",
        "        pass",
    )
    with pytest.raises(ReplyParseError, match=r"the edit: the SEARCH text was not found .*closest: line"):
        apply_reply(CODE, reply, "Section2")


def test_a_short_misquote_is_never_guessed():
    with pytest.raises(ReplyParseError, match="not found"):
        apply_reply(CODE, edit("        self.wait(5)", "        self.wait(2)"), "Section2")


def test_ambiguous_edits_are_never_applied_at_any_rule():
    code = CODE + "        self.wait(1)\n"
    with pytest.raises(ReplyParseError, match=r"occurs 2 times \(lines 15, 16\)"):
        apply_reply(code, edit("        self.wait(1)", "        self.wait(2)"), "Section2")
    with pytest.raises(ReplyParseError, match="occurs 2 times"):
        apply_reply(code, edit("    self.wait(1)", "    self.wait(2)"), "Section2")


def test_ambiguous_close_matches_are_refused():
    block = '        a = Text("one")\n        b = Text("two")\n        c = Text("three")\n'
    code = CODE + block + "        self.wait(1)\n" + block
    reply = edit(
        '        a = Text("one")\n        b = Text("twi")\n        c = Text("three")', "        pass"
    )
    with pytest.raises(ReplyParseError, match="close to 2 places"):
        apply_reply(code, reply, "Section2")


def test_the_failing_block_is_named():
    reply = edit("        self.wait(1)", "        self.wait(2)") + edit("        self.nothing()", "")
    with pytest.raises(ReplyParseError, match=r"^edit 2 of 2: the SEARCH text was not found"):
        apply_reply(CODE, reply, "Section2")


def test_edits_apply_in_order_each_on_the_result_of_the_last():
    reply = edit("        self.wait(1)", "        self.wait(2)") + edit(
        "        self.wait(2)", "        self.wait(4)"
    )
    result = apply_reply(CODE, reply, "Section2")
    assert "self.wait(4)" in result.code and len(result.applied) == 2


def test_empty_search_is_refused():
    with pytest.raises(ReplyParseError, match="SEARCH part is empty"):
        apply_edit_blocks(CODE, parse_edit_blocks(edit("", "        self.wait(2)")))


def test_a_whole_file_where_edits_were_asked_is_taken():
    fixed = CODE.replace("ShowCreation", "Create")
    result = apply_reply(CODE, f"I rewrote the scene:\n```python\n{fixed}```\n", "Section2")
    assert result.whole_file and result.code == fixed and result.applied == []


def test_a_whole_file_with_the_wrong_class_is_refused():
    wrong = CODE.replace("Section2", "Section7")
    with pytest.raises(ReplyParseError, match="must be named Section2"):
        apply_reply(CODE, f"```python\n{wrong}```", "Section2")


def test_an_edit_that_renames_the_class_is_refused():
    reply = edit("class Section2(TeachingScene):", "class Scene2(TeachingScene):")
    with pytest.raises(ReplyParseError, match="must be named Section2"):
        apply_reply(CODE, reply, "Section2")


def test_prose_with_neither_edits_nor_code_is_refused():
    with pytest.raises(ReplyParseError, match="no SEARCH/REPLACE block and no complete scene"):
        apply_reply(CODE, "You should use Create instead of ShowCreation.", "Section2")
