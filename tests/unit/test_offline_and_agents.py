import pytest

from c2v.agents.coder import Coder, failing_lines, scene_name_for
from c2v.agents.planner import Planner
from c2v.errors import ReplyParseError, TranscriptError, UnknownTopicError
from c2v.llm.base import CallTag, LLMRequest, Message
from c2v.llm.offline import OfflineLLM, bundled_transcripts, find_transcript
from c2v.models import RenderResult, RenderStatus, StoryboardSection
from tests.llm_fakes import ScriptedLLM


def test_at_least_three_bundled_topics():
    topics = {t.topic for t in bundled_transcripts()}
    assert len(topics) >= 3
    assert "Pythagorean theorem" in topics


def test_topic_lookup_is_forgiving_about_case_and_punctuation():
    assert find_transcript("  pythagorean THEOREM ").slug == "pythagorean-theorem"
    assert find_transcript("Euler’s formula".replace("’", "'")).slug == "eulers-formula"


def test_unknown_topic_lists_the_bundled_ones():
    with pytest.raises(UnknownTopicError) as info:
        find_transcript("Quantum chromodynamics")
    assert "Pythagorean theorem" in str(info.value)
    assert info.value.exit_code == 2


def test_offline_replays_raw_text_and_estimates_tokens():
    llm = OfflineLLM()
    req = LLMRequest(
        messages=[Message.text("user", "plan it")],
        tag=CallTag(agent="planner", stage="outline", topic="Pythagorean theorem"),
    )
    reply = llm.complete(req)
    assert "```json" in reply.text  # raw model-style text, not pre-parsed JSON
    assert reply.usage.input > 0 and reply.usage.output > 0


def test_offline_missing_call_is_a_clear_error():
    req = LLMRequest(
        messages=[Message.text("user", "x")],
        tag=CallTag(agent="coder", stage="fix_file", topic="Binary search", section="9", attempt=7),
    )
    with pytest.raises(TranscriptError, match=r"coder\.fix_file\.9\.7"):
        OfflineLLM().complete(req)


def test_every_bundled_transcript_parses_end_to_end():
    for t in bundled_transcripts():
        planner = Planner(OfflineLLM())
        outline, _ = planner.outline(t.topic)
        board, _ = planner.storyboard(t.topic, outline)
        assert 4 <= len(board.sections) <= 6, t.slug
        coder = Coder(OfflineLLM())
        for s in board.sections:
            code, _ = coder.write(t.topic, s, len(board.sections))
            assert f"class {scene_name_for(s.id)}(TeachingScene)" in code


def test_parse_failure_is_quoted_back_and_counted():
    good = '```json\n{"topic": "T", "sections": [{"id": "1", "title": "a", "content": "c"}]}\n```'
    llm = ScriptedLLM(["Sorry, here it is: {broken", good])
    outline, replies = Planner(llm).outline("T")
    assert outline.sections[0].id == "1"
    assert len(replies) == 2  # both calls are counted
    followup = llm.requests[1].messages
    assert followup[-2].role == "assistant" and "{broken" in followup[-2].plain_text()
    assert "could not be used" in followup[-1].plain_text()


def test_parse_failure_is_bounded():
    llm = ScriptedLLM(["nope"] * 3)
    with pytest.raises(ReplyParseError, match="after 3 tries"):
        Planner(llm).outline("T")


SCENE = (
    "from manim import *\nfrom c2v_layout import TeachingScene\n\n"
    "class Section2(TeachingScene):\n    def construct(self):\n        self.play(ShowCreation(Circle()))\n"
)


def test_fix_lines_prompt_points_at_the_line_and_applies_the_edit():
    edit = (
        "<<<<<<< SEARCH\n        self.play(ShowCreation(Circle()))\n=======\n"
        "        self.play(Create(Circle()))\n>>>>>>> REPLACE"
    )
    llm = ScriptedLLM([edit])
    failure = RenderResult(
        status=RenderStatus.code_error,
        section_id="2",
        message="NameError: name 'ShowCreation' is not defined",
        traceback='File "/sandbox/scene.py", line 6, in construct\nNameError: ShowCreation',
        error_line=6,
    )
    fixed, _ = Coder(llm).fix_lines("T", "2", SCENE, failure, attempt=1)
    assert "Create(Circle())" in fixed and "ShowCreation" not in fixed
    prompt = llm.requests[0].messages[-1].plain_text()
    assert "line 6" in prompt and "ShowCreation" in prompt
    # The code the model must quote is shown as it is in the file: no line-number prefixes.
    assert "\n        self.play(ShowCreation(Circle()))\n" in prompt and "6>" not in prompt
    assert llm.requests[0].tag.key == "coder.fix_lines.2.1"


def test_failing_lines_are_shown_verbatim():
    where = failing_lines("a\n    b\nc\nd\ne\n", 3, radius=1)
    assert where is not None
    assert (where.text, where.first, where.last) == ("c", 2, 4)
    assert where.context.splitlines() == ["    b", "c", "d"]
    assert failing_lines("a\n", 9) is None


def test_coder_prompt_carries_the_storyboard():
    section = StoryboardSection(
        id="1", title="Legs", lecture_lines=["Two legs meet"], animations=["draw a triangle at C3"]
    )
    llm = ScriptedLLM([f"```python\n{SCENE.replace('Section2', 'Section1')}```"])
    Coder(llm).write("T", section, 5)
    prompt = llm.requests[0].messages[-1].plain_text()
    assert (
        "Two legs meet" in prompt
        and "draw a triangle at C3" in prompt
        and "Section1(TeachingScene)" in prompt
    )
