"""A person's note on one section of a finished video (the service's revise), in process."""

from __future__ import annotations

import pytest

from c2v.config import RunConfig
from c2v.errors import RevisionFailed, UsageError
from c2v.models import AttemptKind, Manifest
from c2v.pipeline import case_dir_for
from c2v.repair import RepairPolicy
from c2v.testing import (
    FakeSandbox,
    ScriptedLLM,
    edit_reply,
    outline_reply,
    pipeline_for,
    scene_reply,
    storyboard_reply,
)

TOPIC = "Fake topic"


def _finished(tmp_path, **kw: object) -> tuple[RunConfig, Manifest]:
    replies: dict = {
        "planner.outline": outline_reply(TOPIC, 3),
        "planner.storyboard": storyboard_reply(TOPIC, 3),
    }
    replies |= {f"coder.code.{i}": scene_reply(str(i)) for i in range(1, 4)}
    cfg = RunConfig(topic=TOPIC, output_dir=tmp_path, **kw)
    case = case_dir_for(cfg)
    pipeline, _ = pipeline_for(cfg, case, ScriptedLLM(replies))
    try:
        return cfg, pipeline.generate()
    finally:
        case.unlock()


def _revise(cfg: RunConfig, reply: str, section: str = "2", note: str = "slow down the ending"):
    case = case_dir_for(cfg)
    llm, sandbox = ScriptedLLM({"coder.revise.*": reply}), FakeSandbox()
    pipeline, _ = pipeline_for(cfg, case, llm, sandbox)
    try:
        return pipeline.revise_section(section, note), llm, sandbox, case
    finally:
        case.unlock()


def test_only_the_noted_section_is_revised_rendered_and_the_video_stitched_again(tmp_path):
    cfg, before = _finished(tmp_path)
    video = case_dir_for(cfg).video
    stitched_at = video.stat().st_mtime_ns
    after, llm, sandbox, case = _revise(cfg, edit_reply("self.wait(1)", "self.wait(2)"))

    assert llm.asked() == ["coder.revise.2.2"]  # the note goes to the Coder's revision call
    assert "slow down the ending" in llm.requests[0].messages[-1].plain_text()
    assert len(sandbox.runs) == 1 and "self.wait(2)" in sandbox.runs[0]
    assert after.this_run.renders == 1 and after.this_run.llm_calls == 1
    old, new = ({s.id: s for s in m.sections} for m in (before, after))
    assert new["2"].video != old["2"].video and new["2"].attempts == 2
    assert all(new[i].video == old[i].video and new[i].attempts == 1 for i in ("1", "3"))
    assert video.stat().st_mtime_ns != stitched_at and after.video == "video.mp4"
    # Both versions stay: the history names each one's code, and the new one is frozen.
    history = case.load_history("2")
    assert [h.kind for h in history] == [AttemptKind.generate, AttemptKind.note]
    first, second = (case.root / h.code for h in history)
    assert "self.wait(1)" in first.read_text() and "self.wait(2)" in second.read_text()
    assert "self.wait(2)" in case.final_code("2").read_text()
    # Every earlier call still counts in the manifest's tokens, plus the revision's.
    assert after.tokens.total > before.tokens.total


def test_a_revision_that_cannot_render_is_reverted_and_the_video_kept(tmp_path):
    cfg, before = _finished(tmp_path, repair=RepairPolicy(max_fix_bug_tries=0, max_regenerate_tries=0))
    case = case_dir_for(cfg)
    with pytest.raises(RevisionFailed, match=r"section 2 never rendered.*keeps the previous version"):
        _revise(cfg, edit_reply("# c2v-fake: ok", "# c2v-fake: code_error 8"))
    assert "code_error" not in case.final_code("2").read_text()
    assert case.load_manifest() == before
    assert [h.status.value for h in case.load_history("2")] == ["ok", "code_error"]


def test_an_unusable_revision_reply_changes_nothing(tmp_path):
    cfg, before = _finished(tmp_path)
    case = case_dir_for(cfg)
    with pytest.raises(RevisionFailed, match="could not be used"):
        _revise(cfg, "I would rather not.")
    assert case.load_manifest() == before and len(case.load_history("2")) == 1


def test_an_unknown_section_or_an_unfinished_case_is_a_usage_error(tmp_path):
    cfg, _ = _finished(tmp_path)
    with pytest.raises(UsageError, match="section '9' has no rendered version"):
        _revise(cfg, edit_reply("a", "b"), section="9")
    other = RunConfig(topic="Never made", output_dir=tmp_path)
    with pytest.raises(UsageError, match="no finished video to revise"):
        _revise(other, edit_reply("a", "b"))
