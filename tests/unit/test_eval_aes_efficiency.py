"""AES (a scripted judge's spread over repeats, a bad reply re-asked) and efficiency from manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from c2v.errors import UsageError
from c2v.evaluation.aes import run_aes
from c2v.evaluation.efficiency import run_efficiency
from c2v.evaluation.judge import Judge, judge_llm
from c2v.evaluation.models import AES_DIMENSIONS, EfficiencyResult
from c2v.evaluation.store import load_result, save_result
from c2v.evaluation.targets import find_targets
from c2v.llm.settings import resolve_provider
from tests.eval_cases import write_case
from tests.llm_fakes import FakeProvider
from tests.vlm_fakes import ScriptedJudge, aes_reply


def _judge(url: str, tmp_path: Path, eval_dir: Path) -> Judge:
    config = tmp_path / "api_config.json"
    config.write_text(
        json.dumps({"gemini": {"base_url": url, "api_key": "test-key-1234", "model": "gemini-2.5-flash"}})
    )
    settings = resolve_provider("gemini", config, env={"C2V_LLM_MAX_TRIES": "1"})
    return Judge(judge_llm(settings), eval_dir, workers=1)


def test_aes_reports_the_judges_mean_and_spread_and_re_asks_a_bad_reply(tmp_path):
    case = write_case(tmp_path / "case", "Binary search")
    replies = {1: "I liked it a lot!", 2: aes_reply(12), 3: aes_reply(16)}
    judge = ScriptedJudge({}, aes_policy=lambda n: replies[n])
    with FakeProvider(responder=judge) as fake:
        j = _judge(fake.url, tmp_path, case / "eval")
        result = run_aes(j, find_targets(case), repeats=2)
        assert len(fake.requests) == 3  # the unusable first reply was quoted back once
        sent = fake.requests[0].json["contents"][0]["parts"]
        assert any("inlineData" in p for p in sent)  # the video went whole
    (topic,) = result.topics
    assert topic.unusable == 0
    for dim in AES_DIMENSIONS:
        assert topic.dimensions[dim].mean == 14.0
        assert topic.dimensions[dim].std == pytest.approx(2.8284, abs=1e-3)
    assert topic.total is not None
    assert (topic.total.mean, topic.total.low, topic.total.high) == (70.0, 60.0, 80.0)
    assert result.total == 70.0
    assert j.calls == 2 and j.totals().total == 3 * 312  # every reply's tokens, the re-ask's too

    with FakeProvider(responder=ScriptedJudge({})) as fake:
        again = run_aes(_judge(fake.url, tmp_path, case / "eval"), find_targets(case), repeats=2)
        assert fake.requests == []
    assert again.topics == result.topics


def test_aes_records_a_repeat_that_stays_unusable_and_goes_on(tmp_path):
    case = write_case(tmp_path / "case", "Binary search")
    judge = ScriptedJudge({}, aes_policy=lambda n: "no scores from me")
    with FakeProvider(responder=judge) as fake:
        result = run_aes(_judge(fake.url, tmp_path, case / "eval"), find_targets(case), repeats=1)
    (topic,) = result.topics
    assert topic.unusable == 1 and topic.total is None and result.total is None
    record = json.loads(next((case / "eval" / "calls").glob("judge.aes*.json")).read_text())
    assert "unusable reply" in record["error"] and len(record["replies"]) == 3


def test_efficiency_sums_the_manifests_of_a_batch(tmp_path):
    batch = tmp_path / "batch"
    write_case(batch / "one", "Binary search", wall_s=30.0)
    write_case(batch / "two", "Euler's formula", wall_s=50.0)
    result = run_efficiency(find_targets(batch))
    assert [t.topic for t in result.topics] == ["Binary search", "Euler's formula"]
    total = result.total
    assert total is not None
    assert (total.wall_s, total.llm_calls, total.tokens, total.renders, total.render_s) == (
        80.0,
        2,
        300,
        2,
        9.0,
    )
    assert total.stage_s["sections"] == 76.0
    assert "coder_task_s" not in total.stage_s
    assert result.mean["wall_s"] == 40.0
    save_result(batch, result)
    assert load_result(batch, EfficiencyResult) == result
    summary = (batch / "eval" / "summary.md").read_text()
    assert "| Euler's formula | 50.0 | 1 | 150 |" in summary


def test_a_folder_without_cases_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="holds no c2v case"):
        find_targets(tmp_path)
