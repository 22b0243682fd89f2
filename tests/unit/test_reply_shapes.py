"""Reply shapes real models send: every one parsed, or refused with a message for the re-ask."""

import pytest

from c2v.errors import ReplyParseError
from c2v.llm.parsing import extract_json, extract_json_object, extract_python
from c2v.models import Outline

BODY = '{"topic": "T", "sections": [{"id": "1", "title": "Intro", "content": "c"}]}'
COMMENTED = """{
  // the video's topic
  "topic": "T",
  /* one section
     for now */
  "sections": [{"id": "1", "title": "Intro", "content": "c",},],
}"""


@pytest.mark.parametrize(
    "reply",
    [
        BODY,
        f"```json\n{BODY}\n```",
        f"```\n{BODY}\n```",
        f"```JSON\n{BODY}\n```",
        f"Sure! Here is the outline:\n\n{BODY}\n\nLet me know if you want changes.",
        f"```jsonc\n{COMMENTED}\n```",
        COMMENTED,
        f"Here it is:\n```json\n{COMMENTED}\n```\nDone.",
        f"  ```json\n{BODY}\n  ```",
    ],
    ids=[
        "bare",
        "fenced",
        "fence-no-lang",
        "upper",
        "prose",
        "jsonc",
        "bare-comments",
        "prose-comments",
        "indented",
    ],
)
def test_json_shapes_are_parsed(reply):
    outline = extract_json(reply, Outline)
    assert outline.topic == "T" and outline.sections[0].title == "Intro"


def test_json_object_is_returned_before_validation():
    assert extract_json_object(f"x {COMMENTED} y")["sections"][0]["id"] == "1"


def test_broken_json_names_line_and_column():
    with pytest.raises(ReplyParseError, match=r"invalid JSON: .* at line 1 column"):
        extract_json('```json\n{"topic": "T" "sections": []}\n```', Outline)


def test_prose_without_json_is_refused():
    with pytest.raises(ReplyParseError, match="no JSON object"):
        extract_json("The outline has four sections.", Outline)


SCENE = "from manim import *\n\nclass Section3(Scene):\n    def construct(self):\n        self.wait(1)\n"
HELPER = "def helper():\n    return 1\n"


@pytest.mark.parametrize("lang", ["python", "py", "python3", "Python", ""])
def test_python_fences_of_every_flavour(lang):
    assert extract_python(f"Code:\n```{lang}\n{SCENE}```\n", "Section3") == SCENE


def test_of_several_blocks_the_one_defining_the_scene_wins():
    other = SCENE.replace("Section3", "Demo") + "\n# a much longer example block\n" * 5
    reply = (
        f"First a helper:\n```python\n{HELPER}```\nAn example:\n```python\n{other}```\n"
        f"The scene:\n```py\n{SCENE}```"
    )
    assert extract_python(reply, "Section3") == SCENE


def test_unfenced_code_after_prose_is_cut_from_its_first_import():
    assert extract_python(f"Here is the fixed scene.\n\n{SCENE}", "Section3") == SCENE


def test_prose_with_no_code_is_refused():
    with pytest.raises(ReplyParseError, match="no Manim scene"):
        extract_python("I would use Create instead of ShowCreation here.", "Section3")
