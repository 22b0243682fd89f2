"""A whole `c2v generate` end to end, through the OpenAI-compatible path against a local server.

The server replays the bundled Pythagorean-theorem transcript over the Chat Completions
wire, choosing each reply from the prompt it is sent. Everything else is real: the CLI,
api_config.json found in the working directory, the openai SDK, Ray actors with the shared
rate limiter, bubblewrap renders at tier l, the static check's mechanical rewrite of a
renamed Manim API (section 3's ``ShowCreation``), narration and subtitles, stitching, the
manifest with costs from the config's price table; then a second run (nothing asked, nothing
rendered), a re-render in portrait without the LLM, and a failing section with and without
``--allow-partial``, and the critic loop over the same wire (frames as image parts, a prose
review re-asked and counted). Every byte the run printed, logged or wrote (case folder, Ray's
session logs) is searched for the API key.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from c2v.llm.offline import transcripts_root
from c2v.media.probe import probe_video
from tests.conftest import run_c2v
from tests.llm_fakes import FakeProvider, TranscriptReplay

pytestmark = [pytest.mark.integration, pytest.mark.ray]

TOPIC = "Pythagorean theorem"
SECRET = "sk-e2e-DO-NOT-LEAK-7f3a9c1e5b2d4a6f"
PRICE = {"input": 1.0, "output": 2.0}  # USD per million tokens
PROVIDER = ("--api", "openai-compatible")


@dataclass
class Run:
    work: Path  # the working directory, holding api_config.json
    root: Path  # the case folder
    first: subprocess.CompletedProcess[str]
    first_manifest: dict  # as the first run wrote it (the second run rewrites its "this_run")
    second: subprocess.CompletedProcess[str]
    server: FakeProvider
    replay: TranscriptReplay
    ray_tmp: Path
    env: dict[str, str]

    def c2v(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Another `c2v` command in the same working directory and environment."""
        return run_c2v(*args, cwd=self.work, env=self.env)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Iterator[Run]:
    work = tmp_path_factory.mktemp("e2e")
    ray_tmp = Path(tempfile.mkdtemp(prefix="c2vray", dir="/tmp"))  # short: Ray's socket paths are bounded
    replay = TranscriptReplay(transcripts_root() / "pythagorean-theorem")
    with FakeProvider(responder=replay) as server:
        config = {
            "openai-compatible": {"base_url": f"{server.url}/v1", "api_key": SECRET, "model": "replay-1"},
            "iconfinder": {"api_key": "YOUR_ICONFINDER_KEY"},
            "prices": {"replay-1": PRICE},
        }
        (work / "api_config.json").write_text(json.dumps(config))
        env = {"RAY_TMPDIR": str(ray_tmp), "C2V_LLM_RPM": "600"}
        args = ("generate", TOPIC, *PROVIDER, "-o", str(work / "out"), "--folder_prefix", "it")
        first = run_c2v(*args, "--log-json", cwd=work, env=env)
        assert first.returncode == 0, first.stderr[-3000:]
        root = work / "out" / "it" / "pythagorean-theorem"
        size, first_manifest = (root / "video.mp4").stat().st_size, manifest(root)
        second = run_c2v(*args, cwd=work, env=env)
        assert (root / "video.mp4").stat().st_size == size
        yield Run(work, root, first, first_manifest, second, server, replay, ray_tmp, env)
    shutil.rmtree(ray_tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def case(run: Run) -> tuple[Path, subprocess.CompletedProcess[str]]:
    return run.root, run.first


def copy_case(root: Path, to: Path) -> Path:
    """A copy of a finished case without its own manifest, video and lock (its renders kept)."""
    top = {"manifest.json", "video.mp4", ".lock"}
    shutil.copytree(
        root, to, ignore=lambda folder, names: top & set(names) if Path(folder) == root else set()
    )
    return to


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


def test_manifest_fields(run):
    m = run.first_manifest
    assert m["topic"] == TOPIC and m["tier"] == "l"
    assert m["provider"] == "openai-compatible" and m["model"] == "replay-1"
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


def test_every_reply_came_over_the_wire_with_the_key(run):
    server, replay = run.server, run.replay
    assert replay.keys[:2] == ["planner.outline", "planner.storyboard"]
    # Section 3's ShowCreation (renamed Create) is rewritten by the static check before any
    # render, so the transcript's repair reply is never asked for: one call per section.
    assert sorted(replay.keys[2:]) == [f"coder.code.{i}" for i in range(1, 6)]  # asked in parallel
    for request in server.requests:
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        assert request.json["model"] == "replay-1"
    planner = [r.json for r in server.requests if "Write the outline" in json.dumps(r.json)]
    assert planner and planner[0]["response_format"]["json_schema"]["name"] == "Outline"
    coder = [r.json for r in server.requests if "Section 1 of" in json.dumps(r.json)]
    assert coder and "response_format" not in coder[0]


def test_tokens_and_cost_in_the_manifest(run):
    m, first = run.first_manifest, run.first
    tokens = m["tokens"]
    assert set(tokens["by_agent"]) == {"planner", "coder"} and set(tokens["by_stage"]) == {
        "planner.outline",
        "planner.storyboard",
        "coder.code",
    }
    three = next(s for s in m["sections"] if s["id"] == "3")
    assert [h["kind"] for h in three["history"]] == ["generate"] and three["status"] == "ok"
    assert {(r["old"], r["new"]) for r in three["history"][0]["rewrites"]} == {("ShowCreation", "Create")}
    expected = (tokens["input"] * PRICE["input"] + tokens["output"] * PRICE["output"]) / 1e6
    assert tokens["cost_usd"] == pytest.approx(expected, rel=1e-3) and tokens["cost_usd"] > 0
    assert tokens["unpriced_models"] == [] and tokens["by_model"]["replay-1"]["input"] == tokens["input"]
    assert "sections:" in first.stdout and "(~$" in first.stdout


def test_a_second_run_asks_nothing_and_renders_nothing(run):
    assert run.second.returncode == 0, run.second.stderr[-2000:]
    m = manifest(run.root)
    assert m["this_run"]["llm_calls"] == 0 and m["this_run"]["renders"] == 0
    assert m["this_run"]["renders_reused"] >= len(m["sections"])
    assert m["speech"]["calls"] == 0 and m["speech"]["cached"] > 0
    assert len(run.server.requests) == len(run.replay.keys)


def test_the_key_appears_nowhere(run):
    root, first, second, ray_tmp = run.root, run.first, run.second, run.ray_tmp
    needle = SECRET.encode()
    partial = SECRET[:16].encode()
    for proc in (first, second):
        for stream in (proc.stdout, proc.stderr):
            assert SECRET[:16] not in stream
    assert first.stderr.strip(), "--log-json wrote log lines, and they were searched"
    searched = 0
    for folder in (root, ray_tmp):
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                searched += 1
                assert needle not in data and partial not in data, f"the key leaked into {path}"
    assert searched > 20, "the case folder and Ray's logs were there to search"


def test_render_case_in_portrait_without_llm(run):
    root = run.root
    calls_before = sorted(p.name for p in (root / "calls").iterdir())
    proc = run.c2v("render", str(root), "--portrait")
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


def test_failed_section_stops_the_run_unless_partial_is_allowed(run):
    root = run.root
    out = root.parent.parent
    # A copy of the finished case: every call is journaled and every render but one cached.
    # Without the static check, section 3's removed ShowCreation reaches the sandbox and fails;
    # with no fix and no regeneration allowed, that section alone fails.
    copy = copy_case(root, out / "nofix" / root.name)
    strict = [
        *PROVIDER,
        "--folder_prefix",
        "nofix",
        "--max_fix_bug_tries",
        "0",
        "--max_regenerate_tries",
        "0",
    ]
    strict += ["--no-precheck"]
    proc = run.c2v("generate", TOPIC, "-o", str(out), *strict)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "section 3" in lines[0] and "--allow-partial" in lines[0]
    assert not (copy / "video.mp4").exists()
    m = manifest(copy)
    assert m["missing_sections"] == ["3"] and m["video"] is None

    proc = run.c2v("generate", TOPIC, "-o", str(out), *strict, "--allow-partial")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "missing:  sections 3" in proc.stdout
    m = manifest(copy)
    assert m["missing_sections"] == ["3"] and m["this_run"]["renders"] == 0
    kept = [s for s in m["sections"] if s["status"] == "ok"]
    assert [s["id"] for s in kept] == ["1", "2", "4", "5"]
    info = probe_video(copy / "video.mp4")
    total = sum(s["duration_s"] for s in kept)
    assert abs(info.duration_s - total) <= 0.05 * total


def test_the_critic_over_the_wire_and_an_unusable_critic_reply_recorded_and_counted(run):
    # The same case again with the critic loop, over the same wire: code and renders come from
    # the case folder, so only the Critic is asked. Section 1's bundled review is prose with no
    # JSON: it is re-asked, recorded as the round's critic_error (never taken for "no issues"),
    # and its three paid replies are counted.
    out = run.root.parent.parent
    copy = copy_case(run.root, out / "critic" / run.root.name)
    asked = len(run.replay.keys)
    flags = ("--folder_prefix", "critic", "--use_feedback", "--feedback_rounds", "1")
    proc = run.c2v("generate", TOPIC, *PROVIDER, "-o", str(out), *flags)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = manifest(copy)
    reviews = {s["id"]: s for s in m["feedback"][0]["sections"]}
    assert reviews["1"]["critic_error"] and "no JSON" in reviews["1"]["critic_error"]
    assert reviews["1"]["critic"] == [] and reviews["1"]["change"] == "none"
    assert all(reviews[i]["critic_error"] is None for i in ("2", "3", "4", "5"))
    assert m["video"] == "video.mp4" and m["this_run"]["renders"] == 0
    failed = json.loads(next((copy / "calls").glob("critic.review.1.1-*-failed*.json")).read_text())
    assert len(failed["replies"]) == 3 and "no JSON" in failed["error"]
    critic = run.replay.keys[asked:]
    assert sorted(critic) == sorted(["critic.review.1.1"] * 3 + [f"critic.review.{i}.1" for i in range(2, 6)])
    assert m["this_run"]["llm_calls"] == len(critic) == 7
    assert m["tokens"]["by_agent"]["critic"]["input"] > 0  # the frames went over the wire too
    frames = [r for r in run.server.requests if "The attached images are the frames" in json.dumps(r.json)]
    assert frames and all("image_url" in json.dumps(r.json) for r in frames)
