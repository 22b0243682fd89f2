"""The hosted service for real: `c2v serve` (Ray Serve on a local Ray), the offline provider,
bubblewrap sandboxes, tier l, on SQLite and on a throw-away PostgreSQL."""

import re
import time
from pathlib import Path

import httpx
import pytest

from c2v.client import Client
from c2v.media.probe import probe_video
from c2v.models import Manifest
from c2v.store.schema import EventKind, VideoStatus
from tests.service.served import Served, c2v_cli, descendants, wait_gone

pytestmark = [pytest.mark.ray, pytest.mark.integration, pytest.mark.service, pytest.mark.timeout(900)]


@pytest.fixture
def service_env(db_url, tmp_path):
    return {"C2V_DATABASE_URL": db_url}


def make_key(env, tmp_path, tenant):
    made = c2v_cli("keys", "create", tenant, "-o", str(tmp_path), env=env)
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"c2v_[a-z0-9]{12}_[A-Za-z0-9_-]+\n", made.stdout)  # the key alone
    return made.stdout.strip()


def is_bwrap(cmdline: str) -> bool:
    return Path(cmdline.split(" ", 1)[0]).name == "bwrap"


def case_of(tmp_path: Path, video_id: str) -> Path:
    (case,) = (tmp_path / "videos" / video_id).iterdir()
    return case


def test_submit_follow_download_and_probe(service_env, tmp_path):
    key = make_key(service_env, tmp_path, "acme")
    served = Served(tmp_path, service_env)
    try:
        with Client(served.url, key) as c2v:
            made = c2v.submit("Binary search", idempotency_key="first")
            assert c2v.submit("Binary search", idempotency_key="first").id == made.id
            seen = []
            done = c2v.wait(made.id, on_event=seen.append, timeout_s=600)
            assert done.status is VideoStatus.succeeded, done.error
            kinds = [e.kind for e in seen]
            assert EventKind.stage in kinds and EventKind.section in kinds
            assert [e.text for e in seen if e.kind is EventKind.status] == ["queued", "running", "succeeded"]
            assert {e.section_id for e in seen if e.kind is EventKind.section and e.done} == {
                "1",
                "2",
                "3",
                "4",
            }
            assert [s.status for s in done.sections] == ["ok"] * 4 and done.tokens > 0
            video = c2v.download(made.id, tmp_path / "got.mp4")
            info = probe_video(video)
            assert info is not None and (info.width, info.height) == (854, 480) and info.duration_s > 5
            part = httpx.get(
                done.video_url, headers={"Authorization": f"Bearer {key}", "Range": "bytes=0-1023"}
            )
            assert part.status_code == 206 and len(part.content) == 1024
            assert part.content == video.read_bytes()[:1024]
            assert httpx.get(served.url + "/metrics").text.count('c2v_videos{status="succeeded"} 1.0') == 1
    finally:
        served.stop()


def test_cancel_mid_render_leaves_no_sandbox(service_env, tmp_path):
    key = make_key(service_env, tmp_path, "acme")
    served = Served(tmp_path, service_env)
    try:
        with Client(served.url, key) as c2v:
            made = c2v.submit("Euler's formula")
            deadline = time.monotonic() + 300
            sandboxes: list[tuple[int, str]] = []
            while not sandboxes and time.monotonic() < deadline:
                sandboxes = [p for p in descendants(served.proc.pid) if is_bwrap(p[1])]
                time.sleep(0.2)
            assert sandboxes, "no render started"
            view = c2v.cancel(made.id, wait_s=60)
            assert view.status is VideoStatus.cancelled
            assert wait_gone([pid for pid, _ in sandboxes], timeout=30) == []
            left = [p for p in descendants(served.proc.pid) if is_bwrap(p[1]) or "scene.py" in p[1]]
            assert left == []
            time.sleep(3)  # nothing finishes it afterwards
            assert c2v.get(made.id).status is VideoStatus.cancelled
    finally:
        served.stop()


def test_sigkill_mid_video_then_restart_repeats_no_render_or_llm_call(service_env, tmp_path):
    key = make_key(service_env, tmp_path, "acme")
    served = Served(tmp_path, service_env)
    with Client(served.url, key) as c2v:
        made = c2v.submit("Pythagorean theorem")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if any(s.status == "ok" for s in c2v.get(made.id).sections):
                break
            time.sleep(0.5)
        else:
            pytest.fail("no section finished")
    below = served.kill()
    left = wait_gone([pid for pid, _ in below], timeout=120)
    assert left == [], [cmd[:120] for pid, cmd in below if pid in left]
    case = case_of(tmp_path, made.id)
    calls_before = len(list((case / "calls").glob("*.json")))
    renders_before = len(list((tmp_path / "render-cache").glob("*/result.json")))
    assert calls_before > 0 and renders_before > 0
    assert not (case / "manifest.json").exists()

    again = Served(tmp_path, service_env)
    try:
        with Client(again.url, key) as c2v:
            done = c2v.wait(made.id, timeout_s=600)
            assert done.status is VideoStatus.succeeded, done.error
            # Two runs, or more when a worker of the restarted service is lost too (a loaded
            # machine); either way the work below is never repeated.
            assert done.runs >= 2
    finally:
        again.stop()
    manifest = Manifest.model_validate_json((case / "manifest.json").read_text())
    calls_after = len(list((case / "calls").glob("*.json")))
    renders_after = len(list((tmp_path / "render-cache").glob("*/result.json")))
    # The last run asked only what no earlier run had journaled and rendered only keys no
    # earlier run had cached: every call and render it made is a new file.
    assert manifest.this_run.llm_calls_reused >= calls_before
    assert manifest.this_run.llm_calls <= calls_after - calls_before
    assert manifest.this_run.renders_reused >= renders_before
    assert manifest.this_run.renders <= renders_after - renders_before
    if done.runs == 2:
        assert manifest.this_run.llm_calls_reused == calls_before
        assert manifest.this_run.llm_calls == calls_after - calls_before
        assert manifest.this_run.renders == renders_after - renders_before
