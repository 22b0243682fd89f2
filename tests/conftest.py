import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
C2V = [sys.executable, "-m", "c2v.app.cli"]


def run_c2v(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 900):
    """Run the real `c2v` command line in a subprocess.

    Chunked final-tier renders are off unless a test asks for them: ``--chunks auto`` chunks
    only where the machine has idle render slots, and the counts of renders these tests assert
    must not depend on how many cores the machine has.
    """
    full_env = {"C2V_CHUNKS": "off", **os.environ, **(env or {})}
    return subprocess.run(
        [*C2V, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def c2v():
    return run_c2v
