"""Chunked final renders: the plan, the exactness check's decision, caching and retries, the
manifest, and the final tier pipelined with the critic (no Manim: a sandbox that writes frames)."""

from __future__ import annotations

import itertools
import json
import re
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import av
import click
import pytest

from c2v.app.options import ChunkChoice
from c2v.case import CaseDir
from c2v.config import RunConfig
from c2v.core.progress import NullReporter
from c2v.core.tiers import Tier
from c2v.media.encoders import NVENC, NVIDIA_DEVICE, X264, choose_encoder
from c2v.models import (
    AnimationRange,
    AttemptKind,
    RenderRequest,
    RenderResult,
    RenderStatus,
    RunCounters,
    SandboxLimits,
    SectionStatus,
    StoryboardSection,
)
from c2v.pipeline import case_dir_for
from c2v.pipeline.chunks import MIN_CHUNK_S, Chunker, ChunkNote, chunk_count, compare_frames, plan_ranges
from c2v.pipeline.inprocess import InProcessExecutor
from c2v.pipeline.loop import EventLoop
from c2v.pipeline.render_cache import RenderCache
from c2v.pipeline.sections import SectionRun
from c2v.testing import (
    FakeSandbox,
    ScriptedLLM,
    critic_reply,
    outline_reply,
    pipeline_for,
    scene_reply,
    storyboard_reply,
    tiny_mp4,
)
from sandbox.base import ProcessOutcome

PLAYS = 6  # one second each


# --- planning ----------------------------------------------------------------------------------
def test_a_plan_is_contiguous_balanced_by_frames_and_open_at_the_end():
    ends = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert plan_ranges(ends, 30, 2) == [AnimationRange(start=0, end=2), AnimationRange(start=3)]
    assert plan_ranges(ends, 30, 3) == [
        AnimationRange(start=0, end=1),
        AnimationRange(start=2, end=3),
        AnimationRange(start=4),
    ]
    # Frames, not plays: one long play is a chunk of its own.
    assert plan_ranges([6.0, 6.5, 7.0, 7.5, 8.0], 60, 2) == [
        AnimationRange(start=0, end=0),
        AnimationRange(start=1),
    ]


def test_a_plan_never_has_an_empty_chunk_nor_more_chunks_than_plays():
    for n in range(1, 8):
        ranges = plan_ranges([0.1, 0.2, 9.0, 9.1], 15, n)
        assert len(ranges) == min(n, 4)
        starts = [r.start for r in ranges]
        assert starts == sorted(set(starts)) and starts[0] == 0 and ranges[-1].end is None
        for r, nxt in itertools.pairwise(ranges):
            assert r.end == nxt.start - 1


def test_how_many_chunks_a_section_gets_and_why_not():
    long = [float(i) for i in range(1, 13)]  # 12 plays, 12 s
    assert chunk_count("off", long, 8) == (1, "chunking is off")
    assert chunk_count(3, long, 1) == (3, "")  # a fixed count ignores the pool
    assert chunk_count(20, long, 1) == (12, "")  # but never splits a play
    assert chunk_count("auto", long, 8) == (int(12 // MIN_CHUNK_S), "")
    assert chunk_count("auto", long, 2) == (2, "")
    n, why = chunk_count("auto", long, 1)
    assert n == 1 and "no idle render slot" in why
    n, why = chunk_count("auto", [1.0, 2.0, 4.0], 8)
    assert n == 1 and "too short" in why
    n, why = chunk_count("auto", [30.0], 8)
    assert n == 1 and "one animation" in why


# --- the exactness check's decision --------------------------------------------------------------
def test_the_check_passes_only_on_the_same_frames_in_the_same_order():
    whole = ["a", "b", "c", "d", "e"]
    assert compare_frames(whole, [["a", "b"], ["c", "d", "e"]]) is None
    assert "5 frames, the whole render 4" in (compare_frames(whole[:4], [["a", "b"], ["c", "d", "e"]]) or "")
    # A duplicated boundary frame is a count mismatch; a drifted state names the chunk.
    assert compare_frames(whole, [["a", "b", "b"], ["c", "d", "e"]]) is not None
    why = compare_frames(whole, [["a", "b"], ["c", "x", "y"]]) or ""
    assert "frame 3" in why and "chunk 2, its frame 1" in why and "does not survive" in why


# --- renders through the cache -------------------------------------------------------------------
class FrameSandbox(FakeSandbox):
    """Acts out Manim's ``-n``: a second of black frames per play rendered, every play recorded.

    ``drift``: chunks starting after play 0 render one frame less (a scene whose state does
    not survive skipping). ``kill``: the first run of this range is killed.
    """

    def __init__(self, drift: bool = False, kill: str | None = None) -> None:
        super().__init__()
        self.drift, self.kill = drift, kill
        self.ranges: list[str | None] = []

    def run(self, workdir: Path, argv: list[str], env: dict[str, str], limits: SandboxLimits,
            labels: dict[str, str] | None = None) -> ProcessOutcome:  # fmt: skip
        plays = argv[argv.index("-n") + 1] if "-n" in argv else None
        self.ranges.append(plays)
        if plays is not None and plays == self.kill:
            self.kill = None
            return ProcessOutcome(exit_code=None, signal=int(signal.SIGKILL), timed_out=False,
                                  stdout_tail="", stderr_tail="", wall_s=0.1)  # fmt: skip
        outcome = super().run(workdir, argv, env, limits, labels)
        if outcome.exit_code != 0:
            return outcome  # the scene failed as its `# c2v-fake:` comment says: no frames
        cfg = dict(re.findall(r"^(\w+) = (\S+)$", (workdir / "manim.cfg").read_text(), re.M))
        width, height, fps = int(cfg["pixel_width"]), int(cfg["pixel_height"]), int(cfg["frame_rate"])
        start, end = 0, PLAYS - 1
        if plays is not None:
            first, _, last = plays.partition(",")
            start, end = int(first), int(last) if last else PLAYS - 1
        seconds = end - start + 1 - (1 / fps if self.drift and start > 0 else 0)
        (next((workdir / "media").rglob("section.mp4"))).write_bytes(tiny_mp4(width, height, fps, seconds))
        unit = {"id": 1, "cls": "Square", "line": 5, "bbox": [-1, 1, -1, 1], "role": "free", "kind": "shape"}
        record: dict[str, Any] = {"frame_width": float(cfg["frame_width"]), "frame_height": 8.0,
                                  "pixel_height": height, "boxes": {},
                                  "snapshots": [{"t": i + 1.0, "index": i, "label": "p", "units": [unit]}
                                                for i in range(PLAYS)],
                                  "play_ends": [float(i + 1) for i in range(PLAYS)]}  # fmt: skip
        (workdir / "layout.json").write_text(json.dumps(record))
        return outcome


def chunker(tmp_path: Path, sandbox: FrameSandbox, setting: int | str = 2) -> tuple[Chunker, CaseDir]:
    case = CaseDir.create(tmp_path / "case")
    loop = EventLoop(InProcessExecutor(ScriptedLLM({}), sandbox))
    cache = RenderCache(case, loop, RunCounters(), NullReporter())
    return Chunker(cache, case, setting, check_tier=Tier.l, slots=1), case


def final(chunks: Chunker, tier: str = "m") -> tuple[str, RenderResult, ChunkNote]:
    request = RenderRequest(case_id="t", section_id="1", scene_name="Section1", code="# six plays",
                            tier=tier, orientation="landscape")  # fmt: skip
    found: list[tuple[str, RenderResult, ChunkNote]] = []
    chunks.render(request, 1, lambda key, result, note: found.append((key, result, note)))
    chunks.renders.loop.drain()
    return found[0]


def test_an_exact_section_is_checked_at_the_check_tier_then_rendered_in_chunks_and_joined(tmp_path):
    sandbox = FrameSandbox()
    _, result, note = final(chunker(tmp_path, sandbox)[0])
    assert note == ChunkNote(2, "") and result.status is RenderStatus.ok
    assert result.video_duration_s == pytest.approx(PLAYS, abs=0.05)
    # whole at l (the plan's record), both chunks at l (the check), both chunks at m
    assert sandbox.ranges == [None, "0,2", "3", "0,2", "3"]


def test_a_section_that_drifts_at_a_boundary_is_rendered_whole_and_says_why(tmp_path):
    sandbox = FrameSandbox(drift=True)
    _, result, note = final(chunker(tmp_path, sandbox)[0])
    assert note.chunks == 1 and "frames" in note.why_whole and result.status is RenderStatus.ok
    assert sandbox.ranges == [None, "0,2", "3", None]  # the final render is the whole section


def test_a_killed_chunk_is_retried_alone_and_a_rerun_repeats_nothing(tmp_path):
    sandbox = FrameSandbox(kill="3")
    key, result, note = final(chunker(tmp_path, sandbox)[0])
    assert note.chunks == 2 and result.status is RenderStatus.ok
    assert sandbox.ranges == [None, "0,2", "3", "3", "0,2", "3"]  # only the killed one twice
    again = final(chunker(tmp_path, sandbox)[0])  # a second run over the same case folder
    assert again[0] == key and sandbox.ranges[6:] == []  # the plan's record and the joined video are cached


# --- through the pipeline: the manifest, and the final tier pipelined -----------------------------
TOPIC = "Fake topic"


def _script(n: int) -> dict[str, Any]:
    replies: dict[str, Any] = {
        "planner.outline": outline_reply(TOPIC, n),
        "planner.storyboard": storyboard_reply(TOPIC, n),
        "critic.review.*": critic_reply(),
    }
    for i in range(1, n + 1):
        replies[f"coder.code.{i}"] = scene_reply(str(i))
    return replies


def _generate(tmp_path: Path, replies: dict[str, Any], sandbox: FakeSandbox, **kw: Any):
    cfg = RunConfig(topic=TOPIC, output_dir=tmp_path, use_feedback=True, tier="m", **kw)
    case = case_dir_for(cfg)
    pipeline, executor = pipeline_for(cfg, case, ScriptedLLM(replies), sandbox)
    try:
        return pipeline.generate(), case, executor
    finally:
        case.unlock()


def test_the_manifest_says_which_sections_were_chunked_and_why_not(tmp_path):
    manifest, _, _ = _generate(tmp_path / "a", _script(2), FrameSandbox(), chunks=2)
    assert [(s.chunks, s.chunk_note) for s in manifest.sections] == [(2, ""), (2, "")]
    assert manifest.video_duration_s == pytest.approx(2 * PLAYS, abs=0.1)
    manifest, _, _ = _generate(tmp_path / "b", _script(2), FrameSandbox(), chunks="auto")
    assert {s.chunk_note for s in manifest.sections} == {"no idle render slot in the pool"}
    assert all(s.chunks == 1 for s in manifest.sections)


def test_the_pipelined_final_tier_gives_the_sequential_video(tmp_path):
    replies = _script(2)
    replies["critic.review.2.1"] = critic_reply({"problem": "the dot is too small", "fix": "make it bigger"})
    replies["coder.revise.2.1"] = scene_reply("2", extra="# bigger dot")
    videos, orders = [], []
    for pipelined in (False, True):
        manifest, case, executor = _generate(
            tmp_path / str(pipelined), replies, FakeSandbox(), chunks="off", pipeline_final=pipelined
        )
        assert manifest.video is not None
        videos.append(case.video.read_bytes())
        orders.append([(r.section_id, r.tier.value) for r in executor.renders])
    assert videos[0] == videos[1]
    # Sequential: every final render after the loop; pipelined: section 1's starts in round 1,
    # before section 2's revision has rendered.
    assert orders[0][-2:] == [("1", "m"), ("2", "m")]
    assert orders[1].index(("1", "m")) < orders[1].index(("2", "l"), 2)


# --- the NVENC check (its inputs faked at the boundary: no test needs a GPU) --------------------
def test_nvenc_is_chosen_only_when_the_device_the_codec_and_a_trial_encode_all_work():
    listed = {NVENC, X264}

    def works(codec: str) -> None:
        assert codec == NVENC

    def fails(codec: str) -> None:
        raise av.error.ExternalError(1, "no CUDA-capable device is detected")

    assert choose_encoder(lambda: True, lambda: listed, works).codec == NVENC
    no_device = choose_encoder(lambda: False, lambda: listed, works)
    assert no_device.codec == X264 and "no NVIDIA device" in no_device.why
    unlisted = choose_encoder(lambda: True, lambda: {X264}, works)
    assert unlisted.codec == X264 and "has no h264_nvenc" in unlisted.why
    broken = choose_encoder(lambda: True, lambda: listed, fails)
    assert broken.codec == X264 and "cannot encode" in broken.why


def test_the_real_check_never_claims_nvenc_without_a_device():
    choice = choose_encoder()
    assert choice.codec in {NVENC, X264} and choice.why
    assert choice.codec == X264 or NVIDIA_DEVICE.exists()


def test_a_section_revised_after_its_final_render_started_ends_with_the_revised_version(tmp_path):
    cfg = RunConfig(topic=TOPIC, output_dir=tmp_path, use_feedback=True, tier="m", chunks="off")
    case = case_dir_for(cfg)
    pipeline, executor = pipeline_for(cfg, case, ScriptedLLM({}), FakeSandbox())
    sections = pipeline._wire()
    board = StoryboardSection(id="1", title="One", lecture_lines=["a line"], animations=["a square"])
    first, revised = (
        scene_reply("1", extra=x).split("```python\n")[1].split("```")[0] for x in ("", "  # v2")
    )
    run = SectionRun.of(board, code=first)
    sections.adopt([run], 1)
    sections.fmt, sections.final_fmt = pipeline.preview_fmt, pipeline.final_fmt
    sections.start_final(run)  # the critic passed the first version
    sections.submit(run, AttemptKind.revise, revised)  # ... and then it changed
    sections.render_frozen([run], pipeline.final_fmt)
    case.unlock()
    finals = [r for r in executor.renders if r.tier is Tier.m]
    assert [r.code for r in finals] == [first, revised]  # the first one started, and was superseded
    assert run.status is SectionStatus.ok and run.code == revised
    assert run.final_key == pipeline.renders.key(finals[1])


def test_the_chunks_option_takes_auto_off_or_a_count_and_nothing_else():
    choice = ChunkChoice()
    assert [choice.convert(v, None, None) for v in ("auto", "OFF", "3")] == ["auto", "off", 3]
    for bad in ("0", "33", "two", "-1"):
        with pytest.raises(click.BadParameter, match="auto, off or a number of chunks"):
            choice.convert(bad, None, None)
    with pytest.raises(ValueError):
        RunConfig(topic=TOPIC, chunks=0)


def test_c2v_render_chunks_a_frozen_case_and_checks_it_at_the_cheapest_tier(tmp_path):
    _, case, _ = _generate(tmp_path, _script(2), FrameSandbox(), chunks="off")
    cfg = RunConfig(topic=TOPIC, output_dir=tmp_path, tier="h", chunks=2)
    pipeline, executor = pipeline_for(cfg, case, ScriptedLLM({}), FrameSandbox())
    board = case.read_storyboard()
    assert board is not None
    try:
        manifest = pipeline.rerender(board, case.frozen_code(board))
    finally:
        case.unlock()
    assert [(s.chunks, s.chunk_note) for s in manifest.sections] == [(2, ""), (2, "")]
    assert sorted({r.tier.value for r in executor.renders}) == ["h", "l"]  # no check at h
    assert manifest.video_duration_s == pytest.approx(2 * PLAYS, abs=0.1)


def test_without_the_critic_sections_that_may_be_split_are_repaired_at_the_preview_tier(tmp_path):
    replies = _script(2)
    replies["coder.code.2"] = scene_reply("2", "code_error 7")
    replies["coder.fix_lines.2.*"] = scene_reply("2")
    replies["coder.fix_file.2.*"] = scene_reply("2")
    for chunks, split in ((2, True), ("off", False)):
        cfg = RunConfig(topic=TOPIC, output_dir=tmp_path / str(chunks), tier="m", chunks=chunks)
        case = case_dir_for(cfg)
        sandbox = FrameSandbox()
        pipeline, executor = pipeline_for(cfg, case, ScriptedLLM(replies), sandbox)
        try:
            manifest = pipeline.generate()
        finally:
            case.unlock()
        by_tier = Counter(r.tier.value for r in executor.renders if r.animations is None and not r.dry_run)
        two = manifest.sections[1]
        assert [h.status for h in two.history][-1] is RenderStatus.ok and len(two.history) == 2
        if split:  # the failed first version cost a render at l, not at m
            assert manifest.preview_tier == "l" and by_tier["l"] == 3 and by_tier["m"] == 0
            assert [(s.chunks, s.chunk_note) for s in manifest.sections] == [(2, ""), (2, "")]
        else:  # nothing to split: every attempt renders at the final tier, as before
            assert manifest.preview_tier is None and by_tier == {"m": 2}  # v1 failed its dry run at m
            assert {s.chunks for s in manifest.sections} == {1}
        assert manifest.video_duration_s == pytest.approx(2 * PLAYS, abs=0.1)
