"""Render work dirs: removed when the render ends, swept when its process was killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from sandbox.scratch import LIVE, PREFIX, sweep_orphans, work_dir

HOLD = """
import sys, time
from pathlib import Path
from sandbox.scratch import work_dir
with work_dir(Path(sys.argv[1])) as folder:
    (folder / "work").mkdir()
    (folder / "work" / "frame.png").write_bytes(b"x" * 4096)
    print(folder, flush=True)
    time.sleep(120)
"""


def hold(tmp_path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def test_a_work_dir_is_gone_when_its_render_ends(tmp_path):
    with work_dir(tmp_path) as folder:
        assert folder.name.startswith(PREFIX) and (folder / LIVE).is_file()
        (folder / "work").mkdir()
    assert not folder.exists()


def test_the_dir_of_a_killed_render_is_swept_and_a_live_one_is_kept(tmp_path):
    live, live_dir = hold(tmp_path)
    killed, killed_dir = hold(tmp_path)
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        assert os.path.isdir(killed_dir)  # what a killed worker leaves behind
        with work_dir(tmp_path) as mine:
            assert os.path.isdir(live_dir) and mine.is_dir()
            assert not os.path.exists(killed_dir)
            assert sweep_orphans(tmp_path) == []  # neither the other live render nor this one
    finally:
        live.kill()
        live.wait(timeout=30)
    assert [p.name for p in sweep_orphans(tmp_path)] == [os.path.basename(live_dir)]
    assert list(tmp_path.iterdir()) == []


def test_a_folder_without_a_lock_file_is_never_guessed_at(tmp_path):
    stranger = tmp_path / f"{PREFIX}someone-else"
    stranger.mkdir()
    (stranger / "data").write_text("kept")
    assert sweep_orphans(tmp_path) == [] and (stranger / "data").read_text() == "kept"
