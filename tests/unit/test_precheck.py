"""The pre-render check: mechanical renames, removed APIs, imports, template misuse."""

import ast
import inspect

import manim
import pytest

from c2v.agents.manim_api import api_table
from c2v.agents.precheck import precheck
from sandbox.classify import error_line

HEAD = "from manim import *\nfrom c2v_layout import TeachingScene\n\n\nclass Section1(TeachingScene):\n"


def scene(*body: str) -> str:
    return HEAD + "    def construct(self):\n" + "".join(f"        {line}\n" for line in body)


def test_every_table_entry_matches_the_installed_manim():
    table = api_table()
    for entry in table["name"] + table["call"]:
        assert not hasattr(manim, entry["old"]), entry["old"]
        if "new" in entry:
            assert hasattr(manim, entry["new"]), entry["new"]
        else:
            assert entry["hint"]
    for entry in table["method"]:
        owner = getattr(manim, entry["owner"])
        assert not hasattr(owner, entry["old"]) and hasattr(owner, entry["new"]), entry
    for entry in table["kwarg"]:
        for owner in entry["owners"]:
            params = inspect.signature(getattr(manim, owner).__init__).parameters
            assert not set(entry["names"]) & set(params), owner
    assert all(e["changelog"] for kind in table.values() for e in kind)


def test_a_clean_scene_passes_unchanged():
    code = scene("c = Circle()", 'self.place_at("C3", c, span_to="E5")', "self.play(Create(c))")
    result = precheck(code, "Section1")
    assert result.ok and result.code == code and result.rewrites == []


def test_renames_are_rewritten_but_strings_and_comments_are_not():
    code = scene(
        "c = Circle()  # ShowCreation was the old name",
        'label = TextMobject("ShowCreation and TexMobject")',
        'f = TexMobject(r"a^2")',
        "axes = Axes()",
        "g = axes.get_graph(lambda x: x)",
        "self.play(ShowCreation(c), ShowCreation(g))",
    )
    result = precheck(code, "Section1")
    assert result.ok, result.error
    assert "# ShowCreation was the old name" in result.code
    assert 'Tex("ShowCreation and TexMobject")' in result.code
    assert 'MathTex(r"a^2")' in result.code and "axes.plot(lambda x: x)" in result.code
    assert "self.play(Create(c), Create(g))" in result.code
    assert [(r.line, r.old, r.new) for r in result.rewrites] == [
        (8, "TextMobject", "Tex"),
        (9, "TexMobject", "MathTex"),
        (11, "get_graph", "plot"),
        (12, "ShowCreation", "Create"),
        (12, "ShowCreation", "Create"),
    ]
    ast.parse(result.code)


def test_fade_variants_become_fade_with_shift():
    code = scene(
        "a, b, c, d = Dot(), Dot(), Dot(), Dot()",
        "self.play(FadeInFromDown(a), FadeInFrom(b, LEFT), FadeInFrom(c, 2 * RIGHT), FadeOutAndShift(d))",
        "self.play(FadeOutAndShiftDown(a,))",
    )
    result = precheck(code, "Section1")
    assert result.ok, result.error
    assert (
        "FadeIn(a, shift=UP), FadeIn(b, shift=-LEFT), FadeIn(c, shift=-(2 * RIGHT)), FadeOut(d, shift=DOWN)"
        in (result.code)
    )
    assert "FadeOut(a, shift=DOWN)" in result.code
    assert {r.rule for r in result.rewrites} >= {
        "call:FadeInFrom",
        "call:FadeInFromDown",
        "call:FadeOutAndShift",
    }


def test_imported_old_names_are_renamed_in_the_import_too():
    code = (
        "from manim import Scene, ShowCreation, Circle\n\nclass Section1(Scene):\n    def construct(self):\n"
    )
    code += "        self.play(ShowCreation(Circle()))\n"
    result = precheck(code, "Section1")
    assert result.ok and "from manim import Scene, Create, Circle" in result.code
    assert "self.play(Create(Circle()))" in result.code


def test_a_name_the_scene_defines_itself_is_left_alone():
    code = "def ShowCreation(m):\n    return Create(m)\n\n" + scene("self.play(ShowCreation(Circle()))")
    assert precheck(code, "Section1").code == code


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        (("self.play(ShowCreationThenDestruction(Circle()))",), 7, "ShowPassingFlash"),
        (("axes = Axes(x_min=-3, x_max=3)",), 7, "x_range"),
        (("self.play(Transform(Circle(), Square(), PI / 2))",), 7, "path_arc=... by keyword"),
        (("self.play(Transform(Circle(), Square(), path_arc=90))",), 7, "radians"),
        (('self.place_at("G7", Circle())',), 7, "'G7'"),
        (('self.place_at("B2", Circle(), span_to="E9")',), 7, "'E9'"),
        (('self.show_lecture("one line")',), 7, "list of lines"),
        (('self.show_lecture(["a", "b"])', "self.highlight_lecture(2)"), 8, "highlight_lecture(2)"),
        (("import os",), 7, "may not import os"),
        (("import sympy",), 7, "No module named 'sympy'"),
    ],
)
def test_misuse_is_an_error_at_its_line(body, line, words):
    result = precheck(scene(*body), "Section1")
    assert result.error is not None
    assert result.error.error_line == line and words in result.error.message
    # The Coder sees it exactly as a render's code_error: the traceback names scene.py and the line.
    assert error_line(result.error.traceback) == line
    failure = result.error.to_render_result("1")
    assert failure.status.value == "code_error" and failure.error_line == line


def test_graph_scene_and_config_dicts_are_errors():
    code = "from manim import *\n\nclass Section1(GraphScene):\n    CONFIG = {'x_min': 0}\n\n"
    code += "    def construct(self):\n        self.setup_axes()\n"
    result = precheck(code, "Section1")
    assert result.error is not None and result.error.error_line == 3
    assert "GraphScene was removed" in result.error.message and "1 more" in result.error.message
    assert "line 4: AttributeError: CONFIG" in result.error.traceback


def test_syntax_errors_and_wrong_class_names_are_caught_first():
    bad = precheck(scene("self.play(Create(Circle())"), "Section1")
    assert bad.error is not None and bad.error.message.startswith("SyntaxError") and bad.error.error_line
    wrong = precheck(scene("self.wait()"), "Section2")
    assert wrong.error is not None and "must be named Section2" in wrong.error.message
    no_construct = precheck(HEAD + "    pass\n", "Section1")
    assert no_construct.error is not None and "no construct" in no_construct.error.message


def test_manimlib_imports_are_named():
    result = precheck(
        "from manimlib import *\n\nclass Section1(Scene):\n    def construct(self):\n        pass\n",
        "Section1",
    )
    assert result.error is not None and "import from manim" in result.error.message
