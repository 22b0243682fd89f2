"""A run killed with SIGKILL mid-render resumes without repeating finished work."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from c2v.media.probe import probe_video

pytestmark = [pytest.mark.integration, pytest.mark.ray]

TOPIC = "Binary search"


def test_killed_run_resumes(tmp_path, c2v):
    cmd = [sys.executable, "-m", "c2v.app.cli", "generate", TOPIC, "-o", str(tmp_path), "--log-json"]
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True
    )
    rendered = 0
    deadline = time.monotonic() + 300
    assert proc.stderr is not None
    for line in proc.stderr:
        if '"event": "rendered"' in line and '"status": "ok"' in line:
            rendered += 1
            break
        assert time.monotonic() < deadline, "no render finished in time"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert rendered == 1

    root = tmp_path / "c2v" / "binary-search"
    assert not (root / "manifest.json").exists(), "killed before the end: no manifest yet"
    finished = list((root / "renders").glob("*/result.json"))
    assert finished, "the finished render was kept"
    calls_before = {p.name for p in (root / "calls").iterdir()}

    done = c2v("generate", TOPIC, "-o", str(tmp_path), "--log-json")
    assert done.returncode == 0, done.stderr[-2000:]
    m = json.loads((root / "manifest.json").read_text())
    assert m["this_run"]["renders_reused"] >= len(finished)
    # Every LLM call the first run had finished is replayed from disk, not asked again.
    assert m["this_run"]["llm_calls_reused"] >= len(calls_before)
    new_calls = {p.name for p in (root / "calls").iterdir()} - calls_before
    assert m["this_run"]["llm_calls"] == len(new_calls)
    assert m["this_run"]["renders"] + m["this_run"]["renders_reused"] == sum(
        s["attempts"] for s in m["sections"]
    )
    info = probe_video(root / "video.mp4")
    assert info is not None and (info.width, info.height) == (854, 480)
    assert not list(root.rglob("*.part"))
