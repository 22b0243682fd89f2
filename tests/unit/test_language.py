import pytest

from c2v.agents.planner import Planner
from c2v.core.language import check_language, detect_language, language_rule
from c2v.errors import ConfigError
from tests.unit.test_offline_and_agents import ScriptedLLM


@pytest.mark.parametrize(
    ("topic", "code"),
    [
        ("勾股定理", "zh"),
        ("線形代数とは", "ja"),
        ("피타고라스 정리", "ko"),
        ("Теорема Пифагора", "ru"),
        ("Pythagorean theorem", "en"),
        ("Euler's formula e^{iπ} = -1", "en"),
    ],
)
def test_detects_the_script_of_the_topic(topic, code):
    assert detect_language(topic) == code


def test_cjk_limits_count_characters_and_others_words():
    assert "20 characters" in language_rule("zh") and "Simplified Chinese" in language_rule("zh")
    assert "10 words" in language_rule("en")


def test_unknown_language_is_a_usage_error():
    with pytest.raises(ConfigError, match="klingon"):
        check_language("klingon")
    assert check_language(" ZH ") == "zh"


def test_planner_prompts_carry_the_language():
    good = '```json\n{"topic": "勾股定理", "sections": [{"id": "1", "title": "直角", "content": "c"}]}\n```'
    llm = ScriptedLLM([good])
    Planner(llm, "zh").outline("勾股定理")
    system = llm.requests[0].messages[0].plain_text()
    assert "Simplified Chinese" in system and "20 characters" in system


def test_coder_prompt_describes_the_portrait_layout():
    from c2v.agents.coder import Coder
    from c2v.models import StoryboardSection

    code = "from manim import *\nclass Section1(Scene):\n    def construct(self):\n        pass\n"
    llm = ScriptedLLM([f"```python\n{code}```"])
    section = StoryboardSection(id="1", title="t", lecture_lines=["一行"], animations=["画一个三角形"])
    Coder(llm, "zh", "portrait").write("勾股定理", section, 1)
    system = llm.requests[0].messages[0].plain_text()
    assert "portrait (9:16" in system and "Simplified Chinese" in system
