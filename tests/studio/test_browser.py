"""The studio in Debian's headless chromium (driven by Playwright) against a real `c2v serve`.

One served instance, publishing to S3 (moto's real server, another origin than the page's),
and one video of the offline topic *Binary search* at tier l are shared by every step, in file
order: the player loads the video from the bucket through a signed link. Screenshots of the
main states go to the test's tmp folder; with ``C2V_UPDATE_SCREENSHOTS=1`` the finished page is
copied to ``docs/studio-screenshot.png``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import boto3
import httpx
import pytest

from tests.conftest import ROOT
from tests.llm_fakes import FakeProvider, Hang
from tests.service.served import Served, c2v_cli
from tests.storage_fakes import FAKE_AWS, aws_credentials, moto_server

pytestmark = [pytest.mark.integration, pytest.mark.service, pytest.mark.ray, pytest.mark.timeout(900)]

XSS = "<img src=x onerror=alert(1)>"
WAIT_MS = 600_000


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("studio-shots")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`c2v serve` with the offline provider and one whose server never answers (to cancel)."""
    out = tmp_path_factory.mktemp("studio")
    with FakeProvider(responder=lambda _: Hang(seconds=600)) as never, moto_server() as moto:
        s3 = boto3.client("s3", endpoint_url=moto, **aws_credentials())
        s3.create_bucket(Bucket="c2v-studio")
        config = out / "api_config.json"
        config.write_text(
            json.dumps({"slow": {"provider": "openai-compatible", "base_url": never.url, "model": "never-1"}})
        )
        made = c2v_cli("keys", "create", "acme", "-o", str(out), env={})
        assert made.returncode == 0, made.stderr
        tiny = c2v_cli("keys", "create", "tiny", "--rpm", "1", "-o", str(out), env={})
        assert tiny.returncode == 0, tiny.stderr
        storage = ("--storage", "s3://c2v-studio/videos", "--s3-endpoint-url", moto)
        service = Served(out, FAKE_AWS, "--api-config", str(config), *storage)
        service.tiny_key, service.moto = tiny.stdout.strip(), moto
        try:
            yield service, made.stdout.strip()
        finally:
            service.stop()


@pytest.fixture(scope="module")
def page(served):
    from playwright.sync_api import sync_playwright

    browser_path = shutil.which("chromium")
    assert browser_path, "Debian chromium is missing: scripts/setup.sh --dev installs it"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=browser_path, args=["--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        tab = context.new_page()
        tab.problems = []  # CSP violations, script errors, dialogs (an alert is an XSS)
        tab.on("console", lambda m: "Content Security Policy" in m.text and tab.problems.append(m.text))
        tab.on("pageerror", lambda e: tab.problems.append(f"page error: {e}"))
        tab.on("dialog", lambda d: (tab.problems.append(f"dialog: {d.message}"), d.dismiss()))
        tab.goto(served[0].url + "/")
        yield tab
        context.close()
        browser.close()


def api(served, path: str) -> dict:
    service, key = served
    answer = httpx.get(service.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def test_a_wrong_key_shows_one_error_line(page, shots):
    page.fill("#key", "c2v_000000000000_not-a-key")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error") == "unknown or revoked API key"
    assert page.is_hidden("#studio")
    assert "not-a-key" not in page.url
    page.screenshot(path=shots / "wrong-key.png")
    assert page.problems == []


def test_sign_in_by_keyboard_and_a_refused_topic_is_shown_as_text(page, served, shots):
    page.focus("#key")
    page.keyboard.type(served[1])
    page.keyboard.press("Enter")
    page.wait_for_selector("#studio:not([hidden])")
    assert page.is_hidden("#error") and served[1] not in page.url
    providers = page.eval_on_selector_all("#provider option", "os => os.map(o => o.value)")
    assert set(providers) == {"offline", "slow"}
    assert page.input_value("#provider") == "offline"
    page.fill("#topic", XSS)
    assert page.inner_text("#topic-count") == f"{len(XSS)} / 300 characters"
    page.click("#make-button")
    page.wait_for_selector("#error:not([hidden])")
    line = page.inner_text("#error")
    assert line.startswith(f"the offline provider has no transcript for '{XSS}'"), line
    assert "\n" not in line
    assert page.locator('img[src="x"]').count() == 0
    page.screenshot(path=shots / "refused-topic.png")
    assert page.problems == []


def test_history_shows_the_topic_as_text_and_cancels_a_running_video(page, served, shots):
    page.select_option("#provider", "slow")
    page.fill("#topic", XSS)
    page.click("#make-button")
    item = page.locator("#history-list li", has=page.get_by_role("button", name=f"Open the video “{XSS}”"))
    item.wait_for()
    assert item.locator("button.topic").inner_text() == XSS
    page.wait_for_selector("#current-title")
    assert page.inner_text("#current-title") == XSS
    page.wait_for_selector('#history-list li[data-status="running"]', timeout=120_000)
    page.screenshot(path=shots / "running.png", full_page=True)
    item.get_by_role("button", name=f"Cancel the video “{XSS}”").click()
    page.wait_for_selector('#history-list li[data-status="cancelled"]', timeout=120_000)
    assert page.locator('img[src="x"]').count() == 0
    (video,) = [v for v in api(served, "/v1/videos")["videos"] if v["topic"] == XSS]
    assert video["status"] == "cancelled"
    assert page.problems == []


def test_binary_search_renders_four_thumbnails_and_plays(page, served, shots):
    page.select_option("#provider", "offline")
    page.fill("#topic", "Binary search")
    page.focus("#make-button")
    page.keyboard.press("Enter")
    page.wait_for_selector('#current[data-status="running"]', timeout=120_000)
    page.wait_for_function(
        "() => document.querySelectorAll('#cards .thumb img').length >= 1", timeout=WAIT_MS
    )
    page.screenshot(path=shots / "progress.png", full_page=True)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#cards .thumb img')]"
        ".filter(i => i.complete && i.naturalWidth > 0).length === 4",
        timeout=WAIT_MS,
    )
    page.wait_for_selector('#current[data-status="succeeded"]', timeout=WAIT_MS)
    assert page.locator("#stages li").count() >= 2
    page.wait_for_function("() => document.getElementById('player').duration > 0", timeout=60_000)
    played = page.evaluate(
        "async () => { const v = document.getElementById('player'); v.muted = true; await v.play();"
        " await new Promise(r => setTimeout(r, 700)); v.pause(); return [v.duration, v.currentTime]; }"
    )
    assert played[0] > 5 and played[1] > 0  # it has a duration, and it played
    # Straight from the bucket through a link signed for the page, never through a blob
    service, _ = served
    src = page.evaluate("() => document.getElementById('player').currentSrc")
    assert src.startswith(f"{service.moto}/c2v-studio/videos/service/") and "X-Amz-Signature=" in src
    assert page.get_attribute("#download", "href") == src
    assert "tokens" in page.inner_text("#usage")
    cards = page.eval_on_selector_all("#cards li", "ls => ls.map(l => l.dataset.status)")
    assert cards == ["ok"] * 4
    view = api(served, f"/v1/videos/{page.get_attribute('#current', 'data-video')}")
    assert view["status"] == "succeeded" and [s["status"] for s in view["sections"]] == ["ok"] * 4
    page.click("#detail-2 summary")
    page.wait_for_selector("#detail-2 .frame img")
    page.screenshot(path=shots / "finished.png", full_page=True)
    assert page.problems == []


def test_revising_one_section_renders_only_it_again_and_shows_both_versions(page, served, shots):
    vid = page.get_attribute("#current", "data-video")
    before = {s["id"]: s["attempts"] for s in api(served, f"/v1/videos/{vid}")["sections"]}
    old_thumb = page.get_attribute('#cards li[data-section="4"] .thumb img', "data-render")
    old_duration = page.evaluate("() => document.getElementById('player').duration")
    page.click("#detail-4 summary")
    page.fill("#note-4", "Make the table of looks larger and easier to read")
    page.click("#detail-4 form.revise button[type=submit]")
    page.wait_for_selector("#detail-4 .compare", timeout=WAIT_MS)
    captions = page.locator("#detail-4 .compare figcaption").all_inner_texts()
    assert captions == ["Before the note (attempt 1)", "After the note (attempt 2, in the video)"]
    assert page.locator("#detail-4 .compare .frame img").count() >= 2
    page.wait_for_function(
        "() => [...document.querySelectorAll('#detail-4 .compare .frame img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=60_000,
    )
    after = {s["id"]: s["attempts"] for s in api(served, f"/v1/videos/{vid}")["sections"]}
    assert after == {**before, "4": before["4"] + 1}  # only section 4 was worked on again
    (revision,) = api(served, f"/v1/videos/{vid}/revisions")
    assert (revision["section_id"], revision["status"], revision["attempt"]) == ("4", "succeeded", 2)
    new_thumb = page.get_attribute('#cards li[data-section="4"] .thumb img', "data-render")
    assert new_thumb and new_thumb != old_thumb
    page.wait_for_function(
        f"() => document.getElementById('player').duration > {old_duration} + 0.5", timeout=60_000
    )  # the revised video, published again (its section 4 waits a second longer)
    page.locator("#detail-4").screenshot(path=shots / "revised.png")
    assert page.is_hidden("#error") and page.problems == []


def test_phone_width_keeps_everything_in_the_window(page, shots):
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.screenshot(path=shots / "phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_screenshot_for_the_readme(page, shots):
    """Last: the finished page, copied into docs/ when asked to."""
    png = shots / "studio.png"
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=png, full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1800})
    print(f"studio screenshots: {shots}")
    if os.environ.get("C2V_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(png, ROOT / "docs" / "studio-screenshot.png")
    assert png.stat().st_size > 10_000


def test_a_tenant_over_its_request_rate_is_told_how_long_to_wait(page, served):
    """After the screenshot: signs out, and in with a key allowed one request a minute."""
    page.click("#sign-out")
    page.wait_for_selector("#signin:not([hidden])")
    page.fill("#key", served[0].tiny_key)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#error:not([hidden])")
    line = page.inner_text("#error")
    assert line.startswith("too many requests for this tenant; retry later — try again in "), line
    assert line.endswith(" s") and "\n" not in line
    assert page.problems == []
