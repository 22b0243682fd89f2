import pytest
from pydantic import ValidationError

from c2v.models import Outline, RenderStatus, Storyboard, StoryboardSection, TokenUsage, line_too_long


def section(**kw):
    base = {"id": "1", "title": "t", "lecture_lines": ["one line"], "animations": ["draw"]}
    base.update(kw)
    return StoryboardSection.model_validate(base)


def test_lecture_line_word_limit():
    section(lecture_lines=["word " * 12])
    with pytest.raises(ValidationError, match="more than 12 words"):
        section(lecture_lines=["word " * 13])


def test_at_most_five_lecture_lines():
    section(lecture_lines=["a"] * 5)
    with pytest.raises(ValidationError):
        section(lecture_lines=["a"] * 6)


def test_cjk_lines_count_by_characters():
    assert line_too_long("直角三角形两条直角边的平方和等于斜边的平方") is None  # 21 characters
    assert "26 characters" in line_too_long("直角三角形两条直角边的平方和等于斜边的平方这就是定理")
    assert line_too_long("勾股定理 a² + b² = c²") is None
    assert line_too_long("a b c") is None


def test_extra_fields_are_forbidden():
    with pytest.raises(ValidationError, match="extra"):
        section(colour="red")


def test_section_ids_unique_and_safe():
    with pytest.raises(ValidationError, match="unique"):
        Outline.model_validate({"topic": "t", "sections": [{"id": "1", "title": "a", "content": "c"}] * 2})
    with pytest.raises(ValidationError):
        section(id="../etc")


def test_storyboard_lookup():
    board = Storyboard(topic="t", sections=[section(id="1"), section(id="10")])
    assert board.section("10").id == "10"
    with pytest.raises(KeyError):
        board.section("2")


def test_models_fault_statuses():
    assert RenderStatus.code_error.is_models_fault()
    assert RenderStatus.timeout.is_models_fault()
    assert not RenderStatus.infra_error.is_models_fault()
    assert not RenderStatus.ok.is_models_fault()


def test_token_usage_adds():
    total = TokenUsage(input=3, output=4) + TokenUsage(input=1, output=1)
    assert (total.input, total.output, total.total) == (4, 5, 9)
