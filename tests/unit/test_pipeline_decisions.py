"""Every decision of the pipeline, through the in-process executor (no Ray, no Manim, no model)."""

from __future__ import annotations

import json

import pytest

from c2v.config import RunConfig
from c2v.errors import SectionsFailed
from c2v.models import AttemptKind, RenderStatus, SectionStatus
from c2v.pipeline import case_dir_for
from c2v.pipeline.render_cache import INFRA_RETRIES
from c2v.repair import RepairPolicy
from c2v.testing import (
    FakeSandbox,
    ScriptedLLM,
    critic_reply,
    edit_reply,
    outline_reply,
    pipeline_for,
    scene_reply,
    storyboard_reply,
)

TOPIC = "Fake topic"
PLACE_LINE = 7  # the place_at line of scene_reply's code


def script(n: int = 2) -> dict:
    base: dict = {
        "planner.outline": outline_reply(TOPIC, n),
        "planner.storyboard": storyboard_reply(TOPIC, n),
    }
    for i in range(1, n + 1):
        base[f"coder.code.{i}"] = scene_reply(str(i))
    return base


def config(tmp_path, **kw: object) -> RunConfig:
    return RunConfig(topic=TOPIC, output_dir=tmp_path, **kw)


def run(tmp_path, replies: dict | ScriptedLLM, sandbox: FakeSandbox | None = None, **kw: object):
    cfg = config(tmp_path, **kw)
    case = case_dir_for(cfg)
    llm = replies if isinstance(replies, ScriptedLLM) else ScriptedLLM(replies)
    pipeline, executor = pipeline_for(cfg, case, llm, sandbox)
    try:
        manifest = pipeline.generate()
    finally:
        case.unlock()
    return manifest, llm, executor, pipeline


# --- the repair ladder -------------------------------------------------------------------------
def test_a_targeted_error_climbs_fix_lines_then_fix_file_then_regenerate(tmp_path):
    broken = scene_reply("2", f"code_error {PLACE_LINE}")
    replies = script(2)
    replies["coder.code.2"] = broken
    replies["coder.fix_lines.2.*"] = edit_reply("self.wait(1)", "self.wait(2)")  # still broken
    replies["coder.fix_file.2.*"] = scene_reply("2", "timeout")
    replies["coder.regenerate.2.*"] = scene_reply("2")
    m, llm, _, _ = run(tmp_path, replies, repair=RepairPolicy(max_fix_bug_tries=2, max_regenerate_tries=1))
    two = next(s for s in m.sections if s.id == "2")
    assert [h.kind for h in two.history] == [
        AttemptKind.generate,
        AttemptKind.fix_lines,
        AttemptKind.fix_file,
        AttemptKind.regenerate,
    ]
    assert [h.status for h in two.history][-1] is RenderStatus.ok and two.status is SectionStatus.ok
    assert "coder.regenerate.2.3" in llm.asked()


def test_an_untargeted_failure_starts_at_fix_file(tmp_path):
    replies = script(1)
    replies["coder.code.1"] = scene_reply("1", "oom")
    replies["coder.fix_file.1.1"] = scene_reply("1")
    m, _, _, _ = run(tmp_path, replies)
    assert [h.kind for h in m.sections[0].history] == [AttemptKind.generate, AttemptKind.fix_file]


def test_an_exhausted_ladder_fails_that_section_and_leaves_the_others(tmp_path):
    replies = script(3)
    replies["coder.code.2"] = scene_reply("2", "code_error 7")
    replies["coder.fix_lines.2.*"] = edit_reply("self.wait(1)", "self.wait(3)")
    replies["coder.*.2.*"] = scene_reply("2", "code_error 8")
    policy = RepairPolicy(max_fix_bug_tries=2, max_regenerate_tries=1)
    m, _, _, _ = run(tmp_path, replies, repair=policy, allow_partial=True)
    by_id = {s.id: s for s in m.sections}
    assert by_id["2"].status is SectionStatus.failed and len(by_id["2"].history) == 6
    assert by_id["1"].status is by_id["3"].status is SectionStatus.ok
    assert m.missing_sections == ["2"] and m.video == "video.mp4"
    with pytest.raises(SectionsFailed, match="section 2"):
        run(tmp_path / "strict", replies, repair=policy)


def test_infrastructure_failures_are_retried_never_repaired(tmp_path):
    replies = script(1)
    replies["coder.code.1"] = scene_reply("1", "infra_error")
    m, llm, executor, _ = run(tmp_path, replies, allow_partial=True)
    assert len(executor.renders) == 1 + INFRA_RETRIES and m.this_run.renders == 1 + INFRA_RETRIES
    assert m.sections[0].status is SectionStatus.failed and not any(
        k.startswith("coder.fix") for k in llm.asked()
    )


def test_a_syntax_error_is_repaired_without_a_render(tmp_path):
    replies = script(1)
    replies["coder.code.1"] = scene_reply("1").replace("def construct(self):", "def construct(self:")
    replies["coder.fix_lines.1.1"] = edit_reply("def construct(self:", "def construct(self):")
    m, _, executor, _ = run(tmp_path, replies)
    assert m.sections[0].history[0].message.startswith("SyntaxError") and len(executor.renders) == 1


# --- resume after a crash ----------------------------------------------------------------------
class Crash(BaseException):
    """A kill -9 at this point (nothing below catches a BaseException)."""


def _crash(request):
    raise Crash(request.tag.key)


@pytest.mark.parametrize(
    "at",
    ["planner.storyboard", "coder.code.2", "coder.fix_lines.2.1", "critic.review.1.1", "critic.review.2.1"],
)
def test_a_run_killed_at_any_call_resumes_without_asking_again(tmp_path, at):
    replies = script(2)
    replies["coder.code.2"] = scene_reply("2", "code_error 7")
    replies["coder.fix_lines.2.1"] = edit_reply("# c2v-fake: code_error 7", "# c2v-fake: ok")
    replies["critic.review.*"] = critic_reply()
    first = ScriptedLLM(dict(replies, **{at: _crash}))
    with pytest.raises(Crash):
        run(tmp_path, first, use_feedback=True)
    m, llm, _, _ = run(tmp_path, replies, use_feedback=True)
    answered = set(first.asked()[:-1])  # journaled before the crash: never asked again
    assert first.asked()[-1] == at and at in llm.asked() and not answered & set(llm.asked())
    assert m.this_run.llm_calls_reused == len(answered)
    assert all(s.status is SectionStatus.ok for s in m.sections) and m.video == "video.mp4"


def test_a_run_killed_in_a_render_or_the_stitch_resumes_from_the_cache(tmp_path, monkeypatch):
    sandbox = FakeSandbox()
    real = sandbox.run

    def dies_on_second(*args, **kw):
        if len(sandbox.runs) == 1:
            sandbox.runs.append("crashed")
            raise Crash("render")
        return real(*args, **kw)

    sandbox.run = dies_on_second  # type: ignore[method-assign]
    with pytest.raises(Crash):
        run(tmp_path, script(2), sandbox)
    import c2v.pipeline.driver as driver

    monkeypatch.setattr(driver, "stitch", lambda *a: (_ for _ in ()).throw(Crash("stitch")))
    with pytest.raises(Crash):
        run(tmp_path, script(2))
    monkeypatch.undo()
    m, llm, executor, _ = run(tmp_path, script(2))
    assert llm.asked() == [] and executor.renders == [] and m.this_run.renders_reused == 2
    assert m.video == "video.mp4"


# --- the critic loop ---------------------------------------------------------------------------
def critic_script(n: int = 3) -> dict:
    replies = script(n)
    replies["critic.review.1.1"] = critic_reply(
        {"problem": "too far left", "line": PLACE_LINE, "anchor": "C3"}
    )
    replies["critic.review.2.1"] = critic_reply({"problem": "the dot is too small", "fix": "make it bigger"})
    replies["coder.revise.2.1"] = edit_reply("self.wait(1)", "self.wait(1)\n        self.wait(0.5)")
    replies["critic.review.*"] = critic_reply()
    return replies


def test_the_critic_loop_edits_anchors_revises_and_stops_early(tmp_path):
    m, llm, _, _ = run(tmp_path, critic_script(), use_feedback=True, feedback_rounds=5)
    first = {s.id: s for s in m.feedback[0].sections}
    assert (
        first["1"].change == "anchor_edit" and first["2"].change == "revise" and first["3"].change == "none"
    )
    assert len(m.feedback) == 2 and {s.id for s in m.feedback[1].sections} == {"1", "2"}
    assert all(s.change == "none" for s in m.feedback[1].sections)  # nothing changed: no third round
    final = (tmp_path / "c2v" / "fake-topic" / "sections" / "1" / "final.py").read_text()
    assert 'place_at("C3"' in final
    assert "coder.revise.2.1" in llm.asked() and not any(k.startswith("coder.revise.1") for k in llm.asked())
    assert m.feedback[0].renders == 2 and m.preview_tier is not None


def test_the_round_limit_holds_while_the_critic_keeps_asking(tmp_path):
    replies = critic_script(1)
    replies["critic.review.*"] = critic_reply({"problem": "still left", "line": PLACE_LINE, "anchor": "D4"})
    replies["critic.review.1.2"] = critic_reply({"problem": "now right", "line": PLACE_LINE, "anchor": "B2"})
    m, _, _, _ = run(tmp_path, replies, use_feedback=True, feedback_rounds=2)
    assert [r.round for r in m.feedback] == [1, 2]


def test_a_revision_that_cannot_render_is_reverted(tmp_path):
    replies = critic_script(2)
    replies["coder.revise.2.1"] = edit_reply("# c2v-fake: ok", "# c2v-fake: code_error 8")
    policy = RepairPolicy(max_fix_bug_tries=0, max_regenerate_tries=0)
    m, _, _, _ = run(tmp_path, replies, use_feedback=True, repair=policy)
    two = next(s for s in m.feedback[0].sections if s.id == "2")
    assert two.change == "reverted"
    final = (tmp_path / "c2v" / "fake-topic" / "sections" / "2" / "final.py").read_text()
    assert "code_error" not in final and all(s.status is SectionStatus.ok for s in m.sections)
    assert {s.id for s in m.feedback[1].sections} == {"1"}  # a reverted section leaves the loop


def test_an_unusable_critic_reply_is_recorded_and_counted_not_taken_for_no_issues(tmp_path):
    replies = critic_script(1)
    replies["critic.review.1.1"] = "I like it!"
    m, _, _, _ = run(tmp_path, replies, use_feedback=True)
    review = m.feedback[0].sections[0]
    assert review.critic_error and "unusable reply" in review.critic_error and review.change == "none"
    # planner 2 + coder 1 + three unusable critic replies
    assert m.this_run.llm_calls == 6
    failed = list((tmp_path / "c2v" / "fake-topic" / "calls").glob("critic.review.1.1-*-failed*.json"))
    assert len(failed) == 1


# --- the render cache --------------------------------------------------------------------------
def test_the_render_cache_hits_on_rerun_and_misses_on_a_new_tier(tmp_path):
    run(tmp_path, script(2))
    m, _, executor, _ = run(tmp_path, script(2))
    assert executor.renders == [] and m.this_run.renders_reused == 2 and m.this_run.llm_calls_reused == 4
    cfg = config(tmp_path, tier="m")
    case = case_dir_for(cfg)
    from c2v.models import Storyboard

    board = Storyboard.model_validate_json(case.storyboard.read_text())
    frozen = {s.id: case.final_code(s.id).read_text() for s in board.sections}
    pipeline, executor = pipeline_for(cfg, case, ScriptedLLM({}))
    m = pipeline.rerender(board, frozen)
    assert len(executor.renders) == 2 and m.this_run.renders == 2 and m.tier == "m"
    assert m.tokens.total > 0  # the frozen code's calls are still counted


def test_what_invalidates_a_render_key(tmp_path):
    from c2v.core.tiers import Orientation, Tier
    from c2v.models import RenderRequest, SandboxLimits
    from c2v.pipeline.render_cache import verdict_key

    base = RenderRequest(
        case_id="c", section_id="1", scene_name="Section1", code="x", tier="l", orientation="landscape"
    )
    key = verdict_key(base, "bwrap")
    assert verdict_key(base.model_copy(update={"attempt": 7, "case_id": "other"}), "bwrap") == key
    for change in (
        {"code": "y"},
        {"tier": Tier.m},
        {"orientation": Orientation.portrait},
        {"scene_name": "S"},
        {"dry_run": True},
        {"limits": SandboxLimits(wall_s=2)},
        {"limits": SandboxLimits(memory_mb=1024)},
        {"limits": SandboxLimits(processes=64)},
        {"limits": SandboxLimits(workdir_mb=512)},
        {"limits": SandboxLimits(cpus=2)},
    ):
        assert verdict_key(base.model_copy(update=change), "bwrap") != key, change
    assert verdict_key(base, "docker:c2v-sandbox:abc") != key
    assert verdict_key(base, "docker:c2v-sandbox:abc") != verdict_key(base, "docker:c2v-sandbox:def")


def test_a_timeout_under_a_short_limit_is_rendered_again_under_the_default(tmp_path):
    from c2v.models import SandboxLimits

    replies = script(1)
    replies["coder.code.1"] = scene_reply("1", "timeout")
    once = {"allow_partial": True, "repair": RepairPolicy(max_fix_bug_tries=0, max_regenerate_tries=0)}
    short = SandboxLimits(wall_s=2)
    first, _, ex1, _ = run(tmp_path, replies, limits=short, **once)
    assert first.sections[0].status is SectionStatus.failed and len(ex1.renders) == 1
    again, _, ex2, _ = run(tmp_path, replies, limits=short, **once)
    assert ex2.renders == [] and again.this_run.renders_reused == 1  # same limits: the verdict holds
    _, _, ex3, _ = run(tmp_path, replies, **once)
    assert len(ex3.renders) == 1 and ex3.renders[0].limits.wall_s == SandboxLimits().wall_s


def test_infrastructure_failures_are_not_cached(tmp_path):
    replies = script(1)
    replies["coder.code.1"] = scene_reply("1", "killed")
    run(tmp_path, replies, allow_partial=True)
    _, _, executor, _ = run(tmp_path, replies, allow_partial=True)
    assert len(executor.renders) == 1 + INFRA_RETRIES


# --- the manifest ------------------------------------------------------------------------------
def test_the_manifest_counts_calls_renders_tokens_and_honest_timings(tmp_path):
    replies = script(2)
    replies["coder.code.2"] = scene_reply("2", "code_error 7")
    replies["coder.fix_lines.2.1"] = edit_reply("# c2v-fake: code_error 7", "# c2v-fake: ok")
    m, _, _, _ = run(tmp_path, replies)
    assert m.this_run.llm_calls == 5 and m.this_run.renders == 3 and m.this_run.renders_reused == 0
    assert set(m.tokens.by_agent) == {"planner", "coder"} and "coder.fix_lines" in m.tokens.by_stage
    assert m.provider == "offline" and m.model == "scripted-model"
    t = m.timings_s
    assert t.plan + t.sections + t.critic + t.final_tier + t.stitch <= t.total
    assert t.render_task_s > 0 and t.coder_task_s == pytest.approx(0.03)
    on_disk = json.loads((tmp_path / "c2v" / "fake-topic" / "manifest.json").read_text())
    assert on_disk["sections"][1]["attempts"] == 2 and on_disk["video_duration_s"] > 0
