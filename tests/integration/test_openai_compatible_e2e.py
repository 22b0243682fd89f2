"""A whole `c2v generate` through the OpenAI-compatible path, against a local server.

The server replays the bundled Pythagorean-theorem transcript over the Chat Completions
wire, choosing each reply from the prompt it is sent. Everything else is real: the CLI,
api_config.json found in the working directory, the openai SDK, Ray actors with the shared
rate limiter, bubblewrap renders at tier l, the static check's mechanical rewrite of a
renamed Manim API (section 3's ``ShowCreation``), stitching, the manifest with
costs from the config's price table. Every byte the run printed, logged or wrote (case
folder, Ray's session logs) is then searched for the API key.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from c2v.llm.offline import transcripts_root
from c2v.media.probe import probe_video
from tests.conftest import run_c2v
from tests.llm_fakes import FakeProvider, TranscriptReplay

pytestmark = [pytest.mark.integration, pytest.mark.ray]

TOPIC = "Pythagorean theorem"
SECRET = "sk-e2e-DO-NOT-LEAK-7f3a9c1e5b2d4a6f"
PRICE = {"input": 1.0, "output": 2.0}  # USD per million tokens


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("compat")
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
        args = ("generate", TOPIC, "--api", "openai-compatible", "-o", "out", "--folder_prefix", "it")
        first = run_c2v(*args, "--log-json", cwd=work, env=env)
        second = run_c2v(*args, cwd=work, env=env)
        yield work, work / "out" / "it" / "pythagorean-theorem", first, second, server, replay, ray_tmp
    shutil.rmtree(ray_tmp, ignore_errors=True)


def test_the_run_makes_a_video(run):
    _, root, first, *_ = run
    assert first.returncode == 0, first.stderr[-3000:]
    m = json.loads((root / "manifest.json").read_text())
    assert m["provider"] == "openai-compatible" and m["model"] == "replay-1"
    assert all(s["status"] == "ok" for s in m["sections"]) and len(m["sections"]) >= 4
    info = probe_video(root / "video.mp4")
    assert info is not None and (info.width, info.height) == (854, 480)


def test_every_reply_came_over_the_wire_with_the_key(run):
    *_, server, replay, _ = run
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
    _, root, first, *_ = run
    m = json.loads((root / "manifest.json").read_text())
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


def test_a_second_run_asks_nothing(run):
    _, root, _, second, server, replay, _ = run
    assert second.returncode == 0, second.stderr[-2000:]
    m = json.loads((root / "manifest.json").read_text())
    assert m["this_run"]["llm_calls"] == 0 and m["this_run"]["renders"] == 0
    assert len(server.requests) == len(replay.keys)


def test_the_key_appears_nowhere(run):
    _, root, first, second, _, _, ray_tmp = run
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
