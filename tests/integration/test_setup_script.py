"""`scripts/setup.sh` as a newcomer's `make demo` runs it: a plain install into a fresh
virtualenv, first run and second run, in a scratch copy of the project.

The system packages are already there (the suite itself was set up by the same script), so
this checks the virtualenv path, which is where a plain first install once exited 1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def _scratch_copy(dest: Path) -> Path:
    """The tracked files of the project, as a fresh clone has them (no .venv, no caches)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = Path(raw.decode())
        src = ROOT / rel
        if not src.is_file():
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    return dest


def _setup(project: Path, python: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONHOME"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if python is not None:
        env["PYTHON"] = str(python)
    return subprocess.run(
        ["bash", "scripts/setup.sh"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def _venv_state(project: Path) -> dict[str, float]:
    """Every file in the virtualenv's site-packages with its modification time."""
    site = next((project / ".venv" / "lib").glob("python3*/site-packages"))
    return {str(p.relative_to(site)): p.stat().st_mtime for p in site.rglob("*") if p.is_file()}


def test_plain_setup_twice_exits_zero_and_installs_nothing_the_second_time(tmp_path: Path) -> None:
    project = _scratch_copy(tmp_path / "checkout")
    assert not (project / ".venv").exists()

    first = _setup(project)
    assert first.returncode == 0, f"first run exited {first.returncode}:\n{first.stdout}\n{first.stderr}"
    assert "installing the project into .venv" in first.stdout
    assert "installing Debian packages" not in first.stdout
    before = _venv_state(project)

    second = _setup(project)
    assert second.returncode == 0, f"second run exited {second.returncode}:\n{second.stdout}\n{second.stderr}"
    assert "installing" not in second.stdout + second.stderr
    assert _venv_state(project) == before

    help_out = subprocess.run(
        [str(project / ".venv" / "bin" / "c2v"), "--help"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert help_out.returncode == 0, help_out.stderr
    assert "generate" in help_out.stdout and "demo" in help_out.stdout
    # The copy's own code is what got installed (editable), not the checkout's.
    where = subprocess.run(
        [str(project / ".venv" / "bin" / "python"), "-c", "import c2v; print(c2v.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert where.stdout.strip().startswith(str(project))


def test_setup_reports_a_failed_install_and_exits_non_zero(tmp_path: Path) -> None:
    project = _scratch_copy(tmp_path / "checkout")
    # A Python that cannot make a virtualenv: the failure is said, and the exit code says it.
    fake = tmp_path / "python-too-old"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    run = _setup(project, python=fake)
    assert run.returncode != 0
    assert "c2v needs Python >= 3.11" in run.stdout + run.stderr
