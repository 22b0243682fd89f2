"""The messy-model corpus through the in-process executor: the pipeline's decisions, fast.

The same reply sets run over the real OpenAI wire with real renders in
tests/integration/test_messy_models.py; here each case's decisions are checked against
the fake sandbox, and the manifest's tokens against the usage the client reported.
"""

from __future__ import annotations

import pytest

from c2v.config import RunConfig
from c2v.core.tiers import Tier
from c2v.models import RenderStatus, SectionStatus
from c2v.pipeline import case_dir_for
from c2v.repair import RepairPolicy
from c2v.testing import pipeline_for
from tests.messy_corpus import CASES, CorpusLLM, MessyCase, run_config


def test_the_corpus_is_large_and_one_topic_per_case():
    assert len(CASES) >= 15 and len({c.topic for c in CASES}) == len(CASES)
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [c for c in CASES if not c.real_only], ids=lambda c: c.name)
def test_each_case_ends_with_a_video_or_one_clearly_failed_section(case: MessyCase, tmp_path):
    cfg = run_config(case, tmp_path)
    folder = case_dir_for(cfg)
    llm = CorpusLLM(case)
    pipeline, _ = pipeline_for(cfg, folder, llm)
    try:
        m = pipeline.generate()
    finally:
        folder.unlock()
    failed = [s.id for s in m.sections if s.status is not SectionStatus.ok]
    assert failed == ([case.failed] if case.failed else [])
    assert m.video == "video.mp4"
    by_id = {s.id: s for s in m.sections}
    for sid, kinds in case.history.items():
        assert [h.kind for h in by_id[sid].history] == kinds, by_id[sid].history
    if case.failed:
        last = by_id[case.failed].history[-1]
        assert last.status is RenderStatus.code_error and "NameError" in last.message
    # every reply the client reported, used or not, is in the manifest's totals
    assert m.tokens.total == llm.reported > 0
    assert m.tokens.input + m.tokens.output == m.tokens.total
    assert bool(m.normalised) is case.normalised, m.normalised


def _run(case: MessyCase, tmp_path, **kw: object):
    cfg = run_config(case, tmp_path).model_copy(update=kw)
    folder = case_dir_for(cfg)
    pipeline, executor = pipeline_for(cfg, folder, CorpusLLM(case))
    try:
        return pipeline.generate(), executor, folder
    finally:
        folder.unlock()


def _named(name: str) -> MessyCase:
    return next(c for c in CASES if c.name == name)


def test_a_timeout_is_fed_back_to_the_coder(tmp_path):
    m, executor, _ = _run(_named("scene_never_ends"), tmp_path)
    assert m.sections[0].history[0].status is RenderStatus.timeout
    fix = next(c for c in executor.calls if c.method == "fix_file")
    assert fix.args[3].status is RenderStatus.timeout


def test_unusable_replies_are_journaled_apart_and_a_rerun_asks_them_again(tmp_path):
    case = _named("search_not_in_file")
    m, _, folder = _run(case, tmp_path)
    failed = list((folder.root / "calls").glob("coder.fix_lines.2.*-failed1.json"))
    assert len(failed) == 1 and m.sections[1].history[1].status is RenderStatus.unusable_reply
    again, executor, _ = _run(case, tmp_path)
    assert [c.method for c in executor.calls] == ["fix_lines"]  # only the unusable call is asked again
    assert len(list((folder.root / "calls").glob("coder.fix_lines.2.*-failed*.json"))) == 2
    assert again.tokens.total > m.tokens.total  # the second run's unusable replies were paid too
    assert again.this_run.llm_calls == 2 and again.this_run.llm_calls_reused >= 4


def test_an_unusable_first_reply_with_no_regeneration_left_fails_that_section_only(tmp_path):
    m, _, _ = _run(
        _named("empty_reply"), tmp_path, allow_partial=True, repair=RepairPolicy(max_regenerate_tries=0)
    )
    two = m.sections[1]
    assert two.status is SectionStatus.failed and m.sections[0].status is SectionStatus.ok
    assert [h.status for h in two.history] == [RenderStatus.unusable_reply]
    assert m.missing_sections == ["2"] and m.video == "video.mp4"


def test_a_dead_endpoint_stops_the_topic(tmp_path):
    from c2v.errors import LLMUnavailable

    class Dead(CorpusLLM):
        def complete(self, request):
            if request.tag.agent == "coder":
                raise LLMUnavailable("cannot reach 127.0.0.1:9: gave up after 3 tries")
            return super().complete(request)

    cfg = run_config(CASES[0], tmp_path)
    folder = case_dir_for(cfg)
    pipeline, _ = pipeline_for(cfg, folder, Dead(CASES[0]))
    try:
        with pytest.raises(LLMUnavailable, match="cannot reach"):
            pipeline.generate()
    finally:
        folder.unlock()


class Rejecting(CorpusLLM):
    """The corpus replies, except that every Coder call for section 2 raises ``exc``."""

    def __init__(self, case: MessyCase, exc: Exception) -> None:
        super().__init__(case)
        self.exc = exc

    def complete(self, request):
        if request.tag.agent == "coder" and request.tag.section == "2":
            raise self.exc
        return super().complete(request)


def test_a_prompt_the_provider_rejects_costs_that_section_only(tmp_path):
    from c2v.errors import LLMPromptRejected

    case = _named("json_without_fence")
    cfg = run_config(case, tmp_path).model_copy(update={"allow_partial": True})
    folder = case_dir_for(cfg)
    too_long = LLMPromptRejected("request rejected (HTTP 400): maximum context length is 8192 tokens")
    pipeline, _ = pipeline_for(cfg, folder, Rejecting(case, too_long))
    try:
        m = pipeline.generate()
    finally:
        folder.unlock()
    one, two = m.sections
    assert one.status is SectionStatus.ok and two.status is SectionStatus.failed
    assert two.history and {h.status for h in two.history} == {RenderStatus.unusable_reply}
    assert "maximum context length" in (two.history[-1].message or "")
    assert m.missing_sections == ["2"] and m.video == "video.mp4"


def test_an_unknown_model_stops_the_topic(tmp_path):
    from c2v.errors import LLMPromptRejected, LLMRequestError

    case = _named("json_without_fence")
    cfg = run_config(case, tmp_path).model_copy(update={"allow_partial": True})
    folder = case_dir_for(cfg)
    missing = LLMRequestError("model or endpoint not found (HTTP 404): no model gpt-9")
    assert not isinstance(missing, LLMPromptRejected)
    pipeline, _ = pipeline_for(cfg, folder, Rejecting(case, missing))
    try:
        with pytest.raises(LLMRequestError, match="no model gpt-9"):
            pipeline.generate()
    finally:
        folder.unlock()


def test_precheck_rewrites_are_recorded_and_errors_cost_no_sandbox(tmp_path):
    from tests.messy_corpus import py, scene

    renamed = py(scene("1", "        self.play(ShowCreation(dot), run_time=0.5)"))
    anchor = py(scene("2").replace('"B2"', '"G7"'))
    case = MessyCase(
        "precheck",
        "Precheck topic",
        {
            **CASES[0].replies,
            "coder.code.1": renamed,
            "coder.code.2": anchor,
            "coder.fix_lines.2": py(scene("2")),
        },
    )
    m, executor, _ = _run(case, tmp_path)
    one, two = m.sections
    assert [r.new for r in one.history[0].rewrites] == ["Create"] and one.status is SectionStatus.ok
    assert two.history[0].status is RenderStatus.code_error and "G7" in two.history[0].message
    assert two.history[0].render_key == "" and len(executor.renders) == 2  # no sandbox for the bad anchor


def test_the_dry_run_comes_first_and_its_verdicts_are_cached(tmp_path):
    case = _named("indent_off_in_search")
    m, executor, _ = _run(case, tmp_path, dry_run=True)
    dry = [r for r in executor.renders if r.dry_run]
    full = [r for r in executor.renders if not r.dry_run]
    # section 2's broken first version stops at its dry run; each good version gets both
    assert len(dry) == 3 and len(full) == 2 and all(s.status is SectionStatus.ok for s in m.sections)
    _, again, _ = _run(case, tmp_path, dry_run=True)
    assert again.renders == []
    auto = RunConfig(topic="t")
    assert auto.dry_run_at(Tier.l) is False and auto.dry_run_at(Tier.m) is True


def test_with_the_precheck_off_every_version_goes_to_the_sandbox_as_written(tmp_path):
    from tests.messy_corpus import py, scene

    renamed = py(scene("1", "        self.play(ShowCreation(dot), run_time=0.5)"))
    case = MessyCase("no precheck", "No precheck topic", {**CASES[0].replies, "coder.code.1": renamed})
    m, executor, folder = _run(case, tmp_path, precheck=False)
    first = m.sections[0].history[0]
    assert first.rewrites == [] and first.render_key
    assert "ShowCreation" in executor.renders[0].code
    assert "ShowCreation" in (folder.root / first.code).read_text()
