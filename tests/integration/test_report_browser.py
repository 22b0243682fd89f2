"""`c2v report` on a real offline case, opened in headless Debian chromium; the screenshot is kept."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_c2v
from tests.llm_fakes import FakeProvider
from tests.vlm_fakes import ScriptedJudge, aes_reply

pytestmark = [pytest.mark.integration, pytest.mark.ray]


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    proc = run_c2v("demo", "-o", str(out), "--log-json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out / "demo" / "binary-search"


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


def test_the_report_opens_from_the_file_system_with_keyframes_and_plots(case, tmp_path_factory):
    with FakeProvider(responder=ScriptedJudge({}, aes_policy=lambda n: aes_reply(15))) as fake:
        config = case.parent / "api_config.json"
        config.write_text(
            json.dumps({"gemini": {"base_url": fake.url, "api_key": "k-test-1", "model": "gemini-2.5-flash"}})
        )
        aes = run_c2v("eval", "aes", str(case), "--api", "gemini", "--api-config", str(config))
        assert aes.returncode == 0, aes.stderr
    assert run_c2v("eval", "efficiency", str(case)).returncode == 0
    proc = run_c2v("report", str(case))
    assert proc.returncode == 0, proc.stderr
    html = case / "report.html"
    text = html.read_text()
    assert text.count("data:image/jpeg;base64,") >= 4 * 4  # every section's keyframes, and more
    assert "overlap" in text  # the demo's overlapping labels, boxed on the frame before the revision
    assert "AES" in text and "Efficiency" in text

    out = tmp_path_factory.mktemp("screenshots")
    png = screenshot(html, out / "report.png")
    print(f"report screenshot: {png}")
    pixels = np.asarray(Image.open(png).convert("RGB"))
    assert pixels.shape[:2] == (2400, 1280)
    assert share_near(pixels, (0, 0, 0), tol=8) > 0.03  # Manim's black keyframes are on screen
    assert share_near(pixels, (31, 119, 180)) > 0.002  # matplotlib's first series colour: a plot drew
    assert share_near(pixels, (255, 127, 14)) > 0.0005  # and its second (output tokens)
