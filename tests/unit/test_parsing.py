import pytest

from c2v.agents.edits import apply_search_replace
from c2v.errors import ReplyParseError
from c2v.llm.parsing import extract_json, extract_python, fenced_blocks, scene_class
from c2v.models import Outline

OUTLINE = '{"topic": "T", "audience": "a", "sections": [{"id": "1", "title": "Intro", "content": "c"}]}'


def test_json_in_fence_with_prose_around_it():
    reply = f"Sure! Here is the outline.\n\n```json\n{OUTLINE}\n```\nLet me know if you want changes."
    outline = extract_json(reply, Outline)
    assert outline.sections[0].title == "Intro"


def test_json_inside_prose_without_fence():
    reply = f"The plan is {OUTLINE} and that is all."
    assert extract_json(reply, Outline).topic == "T"


def test_braces_inside_strings_do_not_confuse_the_scanner():
    text = '{"topic": "sets {a, b}", "sections": [{"id": "1", "title": "x}", "content": "{"}]}'
    assert extract_json("prefix " + text, Outline).topic == "sets {a, b}"


def test_broken_json_reports_position():
    with pytest.raises(ReplyParseError, match="invalid JSON"):
        extract_json('```json\n{"topic": "T", "sections": [\n```', Outline)


def test_schema_mismatch_names_the_field():
    with pytest.raises(ReplyParseError, match=r"sections"):
        extract_json('```json\n{"topic": "T", "sections": []}\n```', Outline)


def test_unknown_field_is_rejected():
    bad = OUTLINE.replace('"audience"', '"mood": "x", "audience"')
    with pytest.raises(ReplyParseError, match="mood"):
        extract_json(bad, Outline)


def test_no_json_at_all():
    with pytest.raises(ReplyParseError, match="no JSON"):
        extract_json("I cannot help with that.", Outline)


def test_later_valid_candidate_wins_over_earlier_invalid_one():
    reply = '```json\n{"oops": 1}\n```\nCorrected:\n```json\n' + OUTLINE + "\n```"
    assert extract_json(reply, Outline).sections[0].id == "1"


SCENE = "from manim import *\n\nclass Section1(Scene):\n    def construct(self):\n        self.wait(1)\n"


def test_python_fence_is_extracted():
    code = extract_python(f"Here you go:\n```python\n{SCENE}```\nThis shows a wait.")
    assert code == SCENE


def test_unfenced_code_is_accepted():
    assert extract_python(SCENE) == SCENE


def test_unterminated_fence_is_still_read():
    assert "class Section1" in extract_python("```python\n" + SCENE)


def test_reply_without_scene_is_rejected():
    with pytest.raises(ReplyParseError, match="no Manim scene"):
        extract_python("```python\nprint('hi')\n```")


def test_scene_class_must_have_the_expected_name():
    with pytest.raises(ReplyParseError, match="Section2"):
        scene_class(SCENE, "Section2")
    assert scene_class(SCENE, "Section1") == "Section1"


def test_fenced_blocks_keep_order_and_language():
    blocks = fenced_blocks("```json\n{}\n```\ntext\n```python\nx = 1\n```")
    assert [lang for lang, _ in blocks] == ["json", "python"]


EDIT = """The problem is the removed API.

<<<<<<< SEARCH
        self.wait(1)
=======
        self.wait(2)
>>>>>>> REPLACE
"""


def test_search_replace_applies_exactly():
    assert "self.wait(2)" in apply_search_replace(SCENE, EDIT)
    assert "self.wait(1)" not in apply_search_replace(SCENE, EDIT)


def test_search_replace_tolerates_trailing_whitespace():
    code = SCENE.replace("self.wait(1)\n", "self.wait(1)   \n")
    assert "self.wait(2)" in apply_search_replace(code, EDIT)


def test_search_text_missing_is_reported():
    with pytest.raises(ReplyParseError, match="not found"):
        apply_search_replace(SCENE.replace("wait(1)", "wait(3)"), EDIT)


def test_ambiguous_search_text_is_rejected():
    twice = SCENE + "        self.wait(1)\n"
    with pytest.raises(ReplyParseError, match="2 times"):
        apply_search_replace(twice, EDIT)


def test_reply_without_edits_is_rejected():
    with pytest.raises(ReplyParseError, match="no SEARCH/REPLACE"):
        apply_search_replace(SCENE, "just use wait(2)")
