"""Storyboards and outlines past the limits: normalised with notes where safe, else refused."""

import json

import pytest

from c2v.agents.planner import Planner
from c2v.agents.storyboard import normalise_outline, normalise_storyboard, wrap_line
from c2v.errors import ReplyParseError
from c2v.models import MAX_LINE_CJK_CHARS, MAX_LINE_WORDS, Outline, line_too_long
from tests.llm_fakes import ScriptedLLM


def section(sid, lines=("One short line",), animations=("draw a circle at C3",), title=None):
    return {
        "id": sid,
        "title": title or f"Part {sid}",
        "lecture_lines": list(lines),
        "animations": list(animations),
    }


def board(*sections):
    return {"topic": "T", "sections": list(sections)}


def test_a_clean_storyboard_has_no_notes():
    sb, notes = normalise_storyboard(board(section("1"), section("2")))
    assert notes == [] and [s.id for s in sb.sections] == ["1", "2"]


def test_a_long_lecture_line_is_wrapped_into_lines_that_fit():
    long = " ".join(f"word{i}" for i in range(30))  # about 200 characters
    sb, notes = normalise_storyboard(board(section("1", lines=[long, "Second"])))
    lines = sb.sections[0].lecture_lines
    assert len(lines) == 4 and lines[-1] == "Second"
    assert " ".join(lines[:3]) == long and all(not line_too_long(x) for x in lines)
    assert notes == ["storyboard section 1: lecture line 1 wrapped into 3 lines"]


def test_a_long_chinese_line_is_wrapped_at_punctuation():
    line = "直角三角形的两条直角边的平方和，等于斜边的平方，这就是勾股定理的内容。"
    pieces = wrap_line(line)
    assert "".join(pieces) == line and len(pieces) == 2
    assert pieces[0].endswith("，") and all(len(p) <= MAX_LINE_CJK_CHARS for p in pieces)


def test_lines_that_cannot_fit_are_refused_precisely():
    long = " ".join(["w"] * (MAX_LINE_WORDS * 3))
    with pytest.raises(ReplyParseError, match=r"storyboard section 2: lecture line has more than 12 words"):
        normalise_storyboard(board(section("1"), section("2", lines=[long, long])))
    with pytest.raises(ReplyParseError, match="section 1 has 6 lecture lines; give at most 5"):
        normalise_storyboard(board(section("1", lines=["a"] * 6)))


def test_a_section_with_no_animations_draws_its_lecture_lines():
    sb, notes = normalise_storyboard(board(section("1", lines=["Legs meet", "Square them"], animations=[])))
    assert len(sb.sections[0].animations) == 2 and "Legs meet" in sb.sections[0].animations[0]
    assert notes == ["storyboard section 1: no animation steps given; one drawn per lecture line"]


def test_strings_where_lists_belong_are_accepted():
    raw = board({"id": "1", "title": "T", "lecture_lines": "first\nsecond", "animations": "draw it"})
    sb, notes = normalise_storyboard(raw)
    assert notes == []
    assert sb.sections[0].lecture_lines == ["first", "second"] and sb.sections[0].animations == ["draw it"]


def test_nine_sections_are_merged_to_six_and_renumbered():
    sb, notes = normalise_storyboard(board(*[section(str(n)) for n in range(1, 10)]), max_sections=6)
    assert [s.id for s in sb.sections] == ["1", "2", "3", "4", "5", "6"]
    assert sum(len(s.lecture_lines) for s in sb.sections) == 9
    assert len(notes) == 3 and notes[0].startswith("storyboard: merged sections")


def test_sections_that_cannot_merge_are_refused():
    full = [section(str(n), lines=["a", "b", "c"]) for n in range(1, 9)]
    with pytest.raises(ReplyParseError, match="has 8 sections; plan at most 6"):
        normalise_storyboard(board(*full), max_sections=6)


def test_an_outline_of_nine_sections_is_merged():
    raw = {
        "topic": "T",
        "sections": [{"id": str(n), "title": f"T{n}", "content": f"c{n}"} for n in range(1, 10)],
    }
    outline, notes = normalise_outline(raw)
    assert len(outline.sections) == 6 and len(notes) == 3
    assert sum(s.content.count("c") for s in outline.sections) == 9


def test_a_long_title_is_shortened():
    sb, notes = normalise_storyboard(board(section("1", title="word " * 40)))
    assert len(sb.sections[0].title) <= 120 and sb.sections[0].title.endswith("…")
    assert notes == ["storyboard section 1: title shortened to 120 characters"]


def test_the_planner_uses_the_normalised_storyboard_and_reports_the_notes():
    outline = Outline.model_validate(
        {
            "topic": "T",
            "sections": [
                {"id": "1", "title": "A", "content": "a"},
                {"id": "2", "title": "B", "content": "b"},
            ],
        }
    )
    long = " ".join(["word"] * 20)
    reply = (
        "Here is the storyboard:\n```json\n"
        + json.dumps(board(section("1", lines=[long]), section("2", animations=[])))
        + "\n```"
    )
    sb, notes, replies = Planner(ScriptedLLM([reply])).storyboard_with_notes("T", outline)
    assert len(replies) == 1 and len(sb.sections[0].lecture_lines) == 2 and len(notes) == 2
