"""The messy-model corpus over the real OpenAI Chat Completions wire, with real renders.

Each case is one `c2v generate --api openai-compatible` (the openai SDK, Ray, bubblewrap
renders at tier l) against :class:`tests.llm_fakes.FakeProvider` answering from the case's
reply set. Each ends with a video or one clearly failed section, and the manifest's token
totals equal the usage the server itself sent. The pipeline's decisions for the same sets
are covered fast in tests/unit/test_messy_corpus.py.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from c2v.core.slug import slugify
from c2v.media.probe import probe_video
from tests.conftest import run_c2v
from tests.llm_fakes import FakeProvider
from tests.messy_corpus import CASES, CorpusReplay, MessyCase

pytestmark = [pytest.mark.integration, pytest.mark.ray]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_messy_model_ends_with_a_video_or_one_failed_section(case: MessyCase, tmp_path):
    ray_tmp = Path(tempfile.mkdtemp(prefix="c2vray", dir="/tmp"))  # short: Ray's socket paths are bounded
    replay = CorpusReplay(case)
    try:
        with FakeProvider(responder=replay) as server:
            config = {
                "openai-compatible": {
                    "base_url": f"{server.url}/v1",
                    "api_key": "sk-messy",
                    "model": "messy-1",
                }
            }
            (tmp_path / "api_config.json").write_text(json.dumps(config))
            args = ("generate", case.topic, "--api", "openai-compatible", "-o", "out", "--folder_prefix", "m")
            env = {"RAY_TMPDIR": str(ray_tmp), "C2V_LLM_RPM": "600"}
            proc = run_c2v(*args, "--sandbox", "bwrap", *case.flags, cwd=tmp_path, env=env, timeout=600)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    root = tmp_path / "out" / "m" / slugify(case.topic)
    assert proc.returncode == 0, proc.stderr[-3000:]
    m = json.loads((root / "manifest.json").read_text())
    failed = [s["id"] for s in m["sections"] if s["status"] != "ok"]
    assert failed == ([case.failed] if case.failed else [])
    assert probe_video(root / "video.mp4") is not None
    if case.failed:
        assert f"section {case.failed}" in proc.stdout + proc.stderr
    tokens = m["tokens"]
    assert (tokens["input"], tokens["output"]) == (replay.input_tokens, replay.output_tokens) != (0, 0)
    assert bool(m["normalised"]) is case.normalised
    if case.name == "plain_scene_overlap":
        one = m["sections"][0]
        rules = {i["rule"] for i in one["layout_issues"]}
        assert rules, "a plain Scene's overlap and off-frame formula are linted"
