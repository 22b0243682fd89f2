"""Offline end to end: a bundled topic becomes a real video (a renamed API rewritten), resume, re-render."""

import json
from pathlib import Path

import av
import pytest

from c2v.media.probe import probe_video

pytestmark = [pytest.mark.integration, pytest.mark.ray]

TOPIC = "Pythagorean theorem"


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    from tests.conftest import run_c2v

    out = tmp_path_factory.mktemp("e2e")
    proc = run_c2v("generate", TOPIC, "-o", str(out), "--folder_prefix", "it", "--log-json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    root = out / "it" / "pythagorean-theorem"
    return root, proc


def manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text())


def test_prints_where_the_video_and_manifest_are(case):
    root, proc = case
    assert f"video:    {root / 'video.mp4'}" in proc.stdout
    assert f"manifest: {root / 'manifest.json'}" in proc.stdout


def test_layout_of_the_case_folder(case):
    root, _ = case
    for name in (
        "outline.json",
        "storyboard.json",
        "manifest.json",
        "video.mp4",
        "sections",
        "calls",
        "renders",
    ):
        assert (root / name).exists(), name
    assert not list(root.rglob("*.part")), "no half-written files remain"


def test_video_matches_the_tier_and_the_sections(case):
    root, _ = case
    m = manifest(root)
    info = probe_video(root / "video.mp4")
    assert info is not None
    assert (info.width, info.height) == (854, 480) == (m["width"], m["height"])
    assert round(info.fps) == 15 == m["fps"]
    sections = [probe_video(root / s["video"]) for s in m["sections"]]
    total = sum(s.duration_s for s in sections)
    assert len(sections) >= 4
    assert abs(info.duration_s - total) <= 0.05 * total
    assert abs(m["video_duration_s"] - total) <= 0.05 * total


def test_sections_are_stitched_in_storyboard_order(case):
    root, _ = case
    m = manifest(root)
    board = json.loads((root / "storyboard.json").read_text())
    assert [s["id"] for s in m["sections"]] == [s["id"] for s in board["sections"]]


def test_frames_carry_content(case):
    root, _ = case
    with av.open(str(root / "video.mp4")) as container:
        frames = [
            f.to_ndarray(format="rgb24") for i, f in enumerate(container.decode(video=0)) if i % 150 == 100
        ]
    assert frames
    # Text, formulas and shapes light up a real share of pixels in every sampled frame.
    lit = [float((f.max(axis=2) > 60).mean()) for f in frames]
    assert min(lit) > 0.005, lit


def test_narration_is_heard_and_subtitled_in_sync_with_the_highlights(case):
    import pysubs2

    from c2v.speech.audio import media_duration_s

    root, _ = case
    m = manifest(root)
    video = root / "video.mp4"
    assert abs(media_duration_s(video, "video") - media_duration_s(video, "audio")) <= 0.1
    with av.open(str(video)) as container:
        assert sorted(s.type for s in container.streams) == ["audio", "subtitle", "video"]
    board = json.loads((root / "storyboard.json").read_text())
    lines = sum(len(s["narration"]) for s in board["sections"])
    assert m["speech"]["cached"] + m["speech"]["calls"] == lines and m["speech"]["voices"] == ["en-us"]
    starts, offset = [], 0.0
    for s in m["sections"]:
        result = json.loads(((root / s["video"]).parent / "result.json").read_text())
        starts += [offset + a["t"] for a in result["spoken"]]
        offset += media_duration_s(root / s["video"], "video")
    assert len(starts) == lines, "highlight_lecture recorded every segment"
    cues = pysubs2.load(str(root / "video.srt"))
    assert len(cues) == lines and (root / "video.vtt").is_file()
    for cue, start in zip(cues, sorted(starts), strict=True):
        assert abs(cue.start / 1000 - start) <= 0.2, (cue.text, cue.start, start)


def test_the_renamed_api_is_rewritten_before_any_render(case):
    # The bundled section 3 uses ShowCreation (renamed Create): the static check rewrites it
    # mechanically and records the rewrite, so no render fails and no repair call is made.
    root, _ = case
    m = manifest(root)
    three = next(s for s in m["sections"] if s["id"] == "3")
    assert three["status"] == "ok" and [h["kind"] for h in three["history"]] == ["generate"]
    rewrites = three["history"][0]["rewrites"]
    assert {(r["old"], r["new"]) for r in rewrites} == {("ShowCreation", "Create")}
    final = (root / "sections" / "3" / "final.py").read_text()
    assert "ShowCreation" not in final and "Create(" in final
    assert "coder.fix_lines" not in m["tokens"]["by_stage"]


def test_manifest_fields(case):
    root, _ = case
    m = manifest(root)
    assert m["topic"] == TOPIC and m["provider"] == "offline" and m["tier"] == "l"
    t = m["timings_s"]
    stages = ("plan", "sections", "critic", "final_tier", "stitch")
    assert sum(t[k] for k in stages) <= t["total"] + 0.01  # wall-clock stages never overlap
    assert t["render_task_s"] > 0 and t["coder_task_s"] >= 0  # summed task seconds, named as such
    assert m["tokens"]["total"] == m["tokens"]["input"] + m["tokens"]["output"] > 0
    assert set(m["tokens"]["by_agent"]) == {"planner", "coder"}
    assert m["this_run"]["llm_calls"] >= len(m["sections"]) + 2
    assert m["this_run"]["renders"] >= len(m["sections"])
    for s in m["sections"]:
        assert s["status"] == "ok" and s["duration_s"] > 1 and s["attempts"] >= 1


def test_second_run_repeats_nothing(case, c2v):
    root, _ = case
    before = (root / "video.mp4").stat().st_size
    proc = c2v("generate", TOPIC, "-o", str(root.parent.parent), "--folder_prefix", "it")
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = manifest(root)
    assert m["this_run"]["llm_calls"] == 0
    assert m["this_run"]["renders"] == 0
    assert m["this_run"]["renders_reused"] >= len(m["sections"])
    assert m["speech"]["calls"] == 0 and m["speech"]["cached"] > 0
    assert (root / "video.mp4").stat().st_size == before


def test_render_case_in_portrait_without_llm(case, c2v):
    root, _ = case
    calls_before = sorted(p.name for p in (root / "calls").iterdir())
    proc = c2v("render", str(root), "--portrait")
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = manifest(root)
    assert (m["width"], m["height"], m["orientation"]) == (480, 854, "portrait")
    assert m["this_run"]["llm_calls"] == 0 and m["this_run"]["llm_calls_reused"] == 0
    assert m["this_run"]["renders"] == len(m["sections"])
    info = probe_video(root / "video.mp4")
    assert (info.width, info.height) == (480, 854)
    assert sorted(p.name for p in (root / "calls").iterdir()) == calls_before
    three = next(s for s in m["sections"] if s["id"] == "3")
    assert three["history"][0]["rewrites"], "the section histories are kept (section 3's static rename)"


def test_failed_section_stops_the_run_unless_partial_is_allowed(case, c2v):
    import shutil

    root, _ = case
    out = root.parent.parent
    # A copy of the finished case: every call is journaled and every render but one cached.
    # Without the static check, section 3's removed ShowCreation reaches the sandbox and fails;
    # with no fix and no regeneration allowed, that section alone fails.
    copy = out / "nofix" / root.name
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("manifest.json", "video.mp4", ".lock"))
    strict = ["--folder_prefix", "nofix", "--max_fix_bug_tries", "0", "--max_regenerate_tries", "0"]
    strict += ["--no-precheck"]
    proc = c2v("generate", TOPIC, "-o", str(out), *strict)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "section 3" in lines[0] and "--allow-partial" in lines[0]
    assert not (copy / "video.mp4").exists()
    m = manifest(copy)
    assert m["missing_sections"] == ["3"] and m["video"] is None

    proc = c2v("generate", TOPIC, "-o", str(out), *strict, "--allow-partial")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "missing:  sections 3" in proc.stdout
    m = manifest(copy)
    assert m["missing_sections"] == ["3"] and m["this_run"]["renders"] == 0
    kept = [s for s in m["sections"] if s["status"] == "ok"]
    assert [s["id"] for s in kept] == ["1", "2", "4", "5"]
    info = probe_video(copy / "video.mp4")
    total = sum(s["duration_s"] for s in kept)
    assert abs(info.duration_s - total) <= 0.05 * total
