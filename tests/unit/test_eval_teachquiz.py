"""TeachQuiz against scripted judges on the real Gemini and OpenAI wires (127.0.0.1 only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from c2v.errors import ConfigError
from c2v.evaluation.answers import parse_answer
from c2v.evaluation.judge import Judge, judge_llm
from c2v.evaluation.models import Stage
from c2v.evaluation.questions import load_questions, orders, shown
from c2v.evaluation.targets import find_targets
from c2v.evaluation.teachquiz import run_teachquiz
from c2v.llm.settings import ProviderSettings, resolve_provider
from tests.eval_cases import write_case
from tests.llm_fakes import FakeProvider
from tests.vlm_fakes import QuizAsk, ScriptedJudge

MMMC = Path(__file__).resolve().parents[2] / ".." / "shared" / "mmmc" / "teachquiz_questions.json"
TOPICS = ("Euler's formula e^{iπ}", "Pythagorean triples and their connection to complex numbers")
FAST = {"C2V_LLM_TIMEOUT_S": "5", "C2V_LLM_MAX_TRIES": "2", "C2V_LLM_BACKOFF_S": "0.01"}


@pytest.fixture(scope="module")
def quiz_file(tmp_path_factory) -> Path:
    data = json.loads(MMMC.read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("quiz") / "questions.json"
    path.write_text(json.dumps({t: data[t] for t in TOPICS}, ensure_ascii=False))
    return path


@pytest.fixture
def batch(tmp_path) -> Path:
    for n, topic in enumerate(TOPICS):
        write_case(tmp_path / "batch" / f"topic-{n}", topic)
    return tmp_path / "batch"


def settings(wire: str, url: str, tmp_path: Path) -> ProviderSettings:
    config = tmp_path / "api_config.json"
    if wire == "gemini":
        entry = {"gemini": {"base_url": url, "api_key": "test-key-gemini", "model": "gemini-2.5-flash"}}
        name = "gemini"
    else:
        entry = {"judge": {"provider": "openai-compatible", "base_url": url + "/v1", "model": "judge-vl"}}
        name = "judge"
    config.write_text(json.dumps(entry))
    return resolve_provider(name, config, env=FAST)


def evaluate(wire: str, judge: ScriptedJudge, batch: Path, quiz_file: Path, tmp_path: Path, k: int = 3):
    judge.wire = wire
    with FakeProvider(responder=judge) as fake:
        j = Judge(judge_llm(settings(wire, fake.url, tmp_path)), batch / "eval", workers=4)
        result = run_teachquiz(j, find_targets(batch), load_questions(quiz_file), str(quiz_file), k)
        return result, j, fake


# -- the answer parser ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"answer": "C"}', "C"),
        ('```json\n{"answer": "b"}\n```', "B"),
        ('{"answer": null}', None),
        ("A video would show that the answer is C", "C"),
        ("A video would show the concept clearly.", None),
        ("A", "A"),
        ("(D)", "D"),
        ("Answer: (D) because the circle...", "D"),
        ("I would pick option B.", "B"),
        ("The answer is B, or maybe the answer is C.", None),
        ("As a model I cannot watch videos.", None),
    ],
)
def test_the_parser_never_reads_an_article_as_a_letter(reply, expected):
    assert parse_answer(reply) == expected


def test_four_orders_show_the_right_answer_once_at_every_position():
    data = load_questions(MMMC)
    question = data[TOPICS[0]][0]
    seen = [shown(question, order)[1] for order in orders(TOPICS[0], 0, 4)]
    assert sorted(seen) == ["A", "B", "C", "D"]
    three = orders(TOPICS[0], 0, 3)
    assert len({tuple(o) for o in three}) == 3
    assert orders(TOPICS[0], 0, 3) == three  # reproducible


def test_a_questions_file_of_the_wrong_shape_is_one_clear_line(tmp_path):
    bad = tmp_path / "q.json"
    bad.write_text(json.dumps({"t": [{"question": "q", "options": {"A": "x"}, "answer": "A"}]}))
    with pytest.raises(ConfigError, match=r"questions file .*q\.json: t\.0"):
        load_questions(bad)


def test_the_offline_provider_cannot_judge():
    with pytest.raises(ConfigError, match="cannot judge"):
        judge_llm(ProviderSettings.offline())


# -- scripted judges --------------------------------------------------------------------------------
def known(ask: QuizAsk) -> str:
    """Knows every answer; unlearns all of them; the video teaches questions 0-2 (topic 1: 0-3)."""
    if ask.stage == "plain":
        return json.dumps({"answer": ask.correct})
    if ask.stage == "unlearned":
        return json.dumps({"answer": ask.wrong()})
    taught = 3 if ask.topic == TOPICS[0] else 4
    return json.dumps({"answer": ask.correct if ask.index < taught else ask.wrong()})


def test_known_answers_give_exact_accuracies_gains_and_the_t_test(batch, quiz_file, tmp_path):
    judge = ScriptedJudge(json.loads(quiz_file.read_text()), policy=known)
    result, j, fake = evaluate("gemini", judge, batch, quiz_file, tmp_path)
    first, second = result.topics
    assert [first.stages[s].accuracy for s in Stage] == [1.0, 0.0, 0.6]
    assert [second.stages[s].accuracy for s in Stage] == [1.0, 0.0, 0.8]
    assert (first.gain, second.gain) == (0.6, 0.8)
    assert first.unlearning_held and second.unlearning_held
    assert result.overall[Stage.video].asked == 2 * 5 * 3
    assert result.gain == pytest.approx(0.7)
    # diffs 0.6 and 0.8: mean 0.7, standard error 0.1, t = 7 with 1 degree of freedom
    assert result.test.t == pytest.approx(7.0)
    assert result.test.ci95_low == pytest.approx(0.7 - 12.7062 * 0.1, abs=1e-3)
    assert result.test.ci95_high == pytest.approx(0.7 + 12.7062 * 0.1, abs=1e-3)
    assert 0.05 < result.test.p_value < 0.1
    # each of 10 questions x 3 stages x 3 orders was one Gemini request; the video went whole
    assert j.calls == len(fake.requests) == 90
    video_asks = [a for a in judge.asked if a.stage == "video"]
    assert len(video_asks) == 30 and all(a.media == 1 for a in video_asks)
    assert all(a.schema and a.schema["properties"]["answer"] for a in judge.asked)
    record = result.records[0]
    assert record.raw_reply and record.parsed is not None and record.order


def test_an_always_b_judge_shows_its_bias_once_options_are_shuffled(batch, quiz_file, tmp_path):
    judge = ScriptedJudge(json.loads(quiz_file.read_text()), policy=lambda ask: '{"answer": "B"}')
    result, _, _ = evaluate("openai", judge, batch, quiz_file, tmp_path, k=4)
    assert result.position_bias == {"A": 0.0, "B": 1.0, "C": 0.0, "D": 0.0}
    assert result.key_positions == {"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.25}
    assert [result.overall[s].accuracy for s in Stage] == [0.25, 0.25, 0.25]  # chance, not MMMC's ~50%
    assert result.gain == 0.0
    # OpenAI's chat API takes no video: the video stage carried sampled frames instead
    video_asks = [a for a in judge.asked if a.stage == "video"]
    assert video_asks and all(a.media >= 2 for a in video_asks)
    assert all(a.media == 0 for a in judge.asked if a.stage != "video")


def test_unusable_replies_count_as_wrong_and_are_reported(batch, quiz_file, tmp_path):
    judge = ScriptedJudge(json.loads(quiz_file.read_text()), policy=lambda ask: "A video would show it.")
    result, _, _ = evaluate("gemini", judge, batch, quiz_file, tmp_path, k=1)
    for stage in Stage:
        assert result.overall[stage].accuracy == 0.0
        assert result.overall[stage].unusable == result.overall[stage].asked == 10
    assert all(r.parsed is None and not r.correct for r in result.records)
    assert result.position_bias == {"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}


def test_a_rerun_reuses_every_journaled_answer(batch, quiz_file, tmp_path):
    judge = ScriptedJudge(json.loads(quiz_file.read_text()), policy=known)
    first, j1, fake1 = evaluate("gemini", judge, batch, quiz_file, tmp_path, k=2)
    assert j1.calls == len(fake1.requests) == 60
    assert len(list((batch / "eval" / "calls").glob("*.json"))) == 60
    assert not list((batch / "eval" / "calls").glob(".*.part"))
    again, j2, fake2 = evaluate("gemini", ScriptedJudge({}, policy=known), batch, quiz_file, tmp_path, k=2)
    assert fake2.requests == [] and j2.calls == 0 and j2.reused == 60
    assert again.overall == first.overall and again.records == first.records
    assert j2.totals().total == j1.totals().total > 0
