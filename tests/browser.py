"""Headless Debian chromium for tests: a screenshot of a page, and colour shares in it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np


def screenshot(html: Path, png: Path, height: int = 2400) -> Path:
    browser = shutil.which("chromium")
    assert browser, "Debian chromium is missing: scripts/setup.sh --dev installs it"
    profile = png.parent / "chromium-profile"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",  # the suite may run as root, where chromium's own sandbox refuses to start
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size=1280,{height}",
            f"--screenshot={png}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return png


def share_near(pixels: np.ndarray, colour: tuple[int, int, int], tol: int = 12) -> float:
    return float(np.all(np.abs(pixels.astype(int) - colour) <= tol, axis=-1).mean())
