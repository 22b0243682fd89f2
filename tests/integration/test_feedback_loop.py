"""Offline critic loop end to end: only flagged sections are revised and re-rendered.

The same case is then evaluated and its run report opened in headless chromium.
"""

import json

import numpy as np
import pytest
from PIL import Image

from c2v.media.probe import probe_video
from tests.browser import screenshot, share_near
from tests.conftest import run_c2v
from tests.llm_fakes import FakeProvider
from tests.vlm_fakes import ScriptedJudge, aes_reply

pytestmark = [pytest.mark.integration, pytest.mark.ray]


@pytest.fixture(scope="module")
def binary_search(tmp_path_factory):
    out = tmp_path_factory.mktemp("fb")
    proc = run_c2v("generate", "Binary search", "-o", str(out), "--use_feedback", "--feedback_rounds", "3")
    assert proc.returncode == 0, proc.stderr[-3000:]
    root = out / "c2v" / "binary-search"
    return root, json.loads((root / "manifest.json").read_text())


def test_lint_and_critic_flag_the_scripted_defects(binary_search):
    _, m = binary_search
    first = {s["id"]: s for s in m["feedback"][0]["sections"]}
    assert [i["rule"] for i in first["2"]["lint_before"]] == ["overlap"]
    assert (
        "lo" in first["2"]["lint_before"][0]["message"] and "mid" in first["2"]["lint_before"][0]["message"]
    )
    assert first["2"]["critic"] and first["2"]["change"] == "revise"
    assert first["3"]["change"] == "anchor_edit" and first["3"]["critic"][0]["anchor"] == "A3"
    assert first["1"]["change"] == first["4"]["change"] == "none"


def test_revisions_fix_them_and_the_loop_stops_early(binary_search):
    _, m = binary_search
    first = {s["id"]: s for s in m["feedback"][0]["sections"]}
    assert first["2"]["lint_after"] == [] and first["3"]["lint_after"] == []
    assert len(m["feedback"]) == 2, "round 2 finds nothing, so round 3 never runs"
    assert {s["id"] for s in m["feedback"][1]["sections"]} == {"2", "3"}
    assert all(s["change"] == "none" for s in m["feedback"][1]["sections"])
    for s in m["sections"]:
        assert not [i for i in s["layout_issues"] if i["severity"] == "error"], s["id"]


def test_only_flagged_sections_are_rerendered(binary_search):
    _, m = binary_search
    assert m["feedback"][0]["renders"] == 2  # sections 2 and 3, not 1 and 4
    assert m["feedback"][1]["renders"] == 0
    # 4 first renders + 2 revisions (section 3's get_graph is rewritten to plot before any render)
    assert m["this_run"]["renders"] == 6
    kinds = {s["id"]: [h["kind"] for h in s["history"]] for s in m["sections"]}
    assert kinds == {
        "1": ["generate"],
        "2": ["generate", "revise"],
        "3": ["generate", "anchor_edit"],
        "4": ["generate"],
    }


def test_the_final_code_is_the_revised_code(binary_search):
    root, _ = binary_search
    assert "stack mid below lo" in (root / "sections" / "2" / "final.py").read_text()
    assert 'place_at("A3", chart' in (root / "sections" / "3" / "final.py").read_text()
    assert "critic" in json.loads((root / "manifest.json").read_text())["tokens"]["by_agent"]


def test_the_report_opens_from_the_file_system_with_keyframes_and_plots(binary_search, tmp_path_factory):
    """`c2v eval` and `c2v report` on this case, opened in headless chromium; the screenshot is kept."""
    case, _ = binary_search
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


def test_rerun_reuses_every_call_and_render(binary_search, c2v):
    root, _ = binary_search
    proc = c2v(
        "generate", "Binary search", "-o", str(root.parent.parent), "--use_feedback", "--feedback_rounds", "3"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads((root / "manifest.json").read_text())
    assert m["this_run"]["llm_calls"] == 0 and m["this_run"]["renders"] == 0


def test_final_tier_renders_frozen_sections_once(binary_search, c2v):
    root, _ = binary_search
    proc = c2v(
        "generate",
        "Binary search",
        "-o",
        str(root.parent.parent),
        "--use_feedback",
        "--feedback_rounds",
        "3",
        "--video_quality",
        "m",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads((root / "manifest.json").read_text())
    assert m["preview_tier"] == "l" and m["tier"] == "m"
    assert m["this_run"]["llm_calls"] == 0
    assert m["this_run"]["renders"] == 4  # the loop at l is all cached; each frozen section once at m
    info = probe_video(root / "video.mp4")
    assert (info.width, info.height, round(info.fps)) == (1280, 720, 30)
