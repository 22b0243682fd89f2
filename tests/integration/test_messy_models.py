"""A few messy-model cases through the real CLI, with real renders, on one Ray cluster.

Each is one `c2v generate --api openai-compatible` (the openai SDK, bubblewrap renders at
tier l) against :class:`tests.llm_fakes.FakeProvider` answering from the case's reply set,
every run joining the same `ray start --head` (token auth on). These are the cases whose
point needs Manim: a plain ``Scene`` whose overlap the lint must see, a scene that never
ends (a real timeout fed back to the Coder), an edit whose SEARCH is indented wrong applied
to real code, and a fix that repeats its error (one failed section, the others stitched).
Every corpus case runs over the same wire, fast, in tests/unit/test_messy_wire.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from c2v.core.slug import slugify
from c2v.media.probe import probe_video
from tests.cluster.localcluster import LocalCluster
from tests.conftest import run_c2v
from tests.llm_fakes import FakeProvider
from tests.messy_corpus import CASES, CorpusReplay, MessyCase

pytestmark = [pytest.mark.integration, pytest.mark.ray]

REAL = ("plain_scene_overlap", "scene_never_ends", "indent_off_in_search", "fix_repeats_the_error")


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    c = LocalCluster()
    try:
        c.start_head(num_cpus=2)
        yield c
    finally:
        c.stop()


@dataclass
class Run:
    replay: CorpusReplay
    proc: subprocess.CompletedProcess[str]
    root: Path
    manifest: dict


def generate(case: MessyCase, folder: Path, cluster: LocalCluster, *extra: str) -> Run:
    replay = CorpusReplay(case)
    with FakeProvider(responder=replay) as server:
        config = {
            "openai-compatible": {"base_url": f"{server.url}/v1", "api_key": "sk-messy", "model": "messy-1"}
        }
        (folder / "api_config.json").write_text(json.dumps(config))
        args = ("generate", case.topic, "--api", "openai-compatible", "-o", "out", "--folder_prefix", "m")
        env = cluster.env(RAY_ADDRESS=cluster.address, C2V_LLM_RPM="600")
        proc = run_c2v(*args, "--sandbox", "bwrap", *case.flags, *extra, cwd=folder, env=env, timeout=300)
    root = folder / "out" / "m" / slugify(case.topic)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Run(replay, proc, root, json.loads((root / "manifest.json").read_text()))


@pytest.mark.parametrize("case", [c for c in CASES if c.name in REAL], ids=lambda c: c.name)
def test_a_messy_model_ends_with_a_video_or_one_failed_section(case: MessyCase, tmp_path, cluster):
    run = generate(case, tmp_path, cluster)
    m = run.manifest
    failed = [s["id"] for s in m["sections"] if s["status"] != "ok"]
    assert failed == ([case.failed] if case.failed else [])
    assert probe_video(run.root / "video.mp4") is not None
    if case.failed:
        # one line names the section and the last cause
        assert (
            f"failed:   section {case.failed} (Part {case.failed}): code_error: NameError" in run.proc.stdout
        )
        assert m["missing_sections"] == [case.failed]
    tokens = m["tokens"]
    assert (
        (tokens["input"], tokens["output"]) == (run.replay.input_tokens, run.replay.output_tokens) != (0, 0)
    )
    by_id = {s["id"]: s for s in m["sections"]}
    for sid, kinds in case.history.items():
        assert [h["kind"] for h in by_id[sid]["history"]] == [k.value for k in kinds], by_id[sid]["history"]
    if case.name == "plain_scene_overlap":
        one = by_id["1"]
        assert {"overlap", "off_frame"} <= {i["rule"] for i in one["layout_issues"]}
    if case.name == "scene_never_ends":
        first = by_id["1"]["history"][0]
        assert first["status"] == "timeout"
        assert "fix_file.1" in " ".join(run.replay.keys)  # the Coder was told, and rewrote it


def test_a_verdict_under_a_short_timeout_is_not_replayed_under_the_default(tmp_path, cluster):
    case = next(c for c in CASES if c.name == "json_without_fence")
    # generated under a third limit, so that no verdict of the default one is in the cache
    run = generate(case, tmp_path, cluster, "--render-timeout", "90")
    env = cluster.env(RAY_ADDRESS=cluster.address)
    case_dir = str(run.root)
    short = run_c2v(
        "render",
        case_dir,
        "--sandbox",
        "bwrap",
        "--render-timeout",
        "0.3",
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    # 0.3 s is shorter than starting the sandbox and importing Manim on any machine: a fast
    # machine renders these two small scenes in under 2 s, which a 2 s limit let through
    assert short.returncode != 0 and "did not finish within 0.3 s" in short.stderr, short.stderr[-2000:]
    again = run_c2v("render", case_dir, "--sandbox", "bwrap", cwd=tmp_path, env=env, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "rerun to retry" not in again.stdout + again.stderr
    final = json.loads((run.root / "manifest.json").read_text())
    assert all(s["status"] == "ok" for s in final["sections"])
    assert final["this_run"]["renders"] == 2, final["this_run"]  # rendered again, not replayed
    assert probe_video(run.root / "video.mp4") is not None
