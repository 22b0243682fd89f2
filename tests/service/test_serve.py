"""The hosted service for real: `c2v serve` (Ray Serve on a local Ray), the offline provider,
bubblewrap sandboxes, tier l.

One service on SQLite, publishing to S3 (moto's real server), serves the module's submit,
revise and cancel tests (a module-scoped instance: starting Ray and Serve is most of a short
test's time). The SIGKILL test kills its
own service. The load test (test_load.py) runs the restart and the cancel on PostgreSQL.
"""

import re
import time
from pathlib import Path

import boto3
import httpx
import pytest

from c2v.client import Client
from c2v.errors import ServiceError
from c2v.media.probe import probe_video
from c2v.models import Manifest
from c2v.store.schema import EventKind, VideoStatus
from tests.service.served import Served, c2v_cli, descendants, wait_gone
from tests.storage_fakes import FAKE_AWS, aws_credentials, moto_server

pytestmark = [pytest.mark.ray, pytest.mark.integration, pytest.mark.service, pytest.mark.timeout(900)]

REVISED = "4"  # the offline Binary search transcript answers a note on section 4


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


def cached_renders(out: Path) -> set[str]:
    return {p.parent.name for p in (out / "render-cache").glob("*/result.json")}


BUCKET = "c2v-served"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    out = tmp_path_factory.mktemp("served")
    env = {"C2V_DATABASE_URL": f"sqlite:///{out / 'store.db'}", **FAKE_AWS}
    key = make_key(env, out, "acme")
    with moto_server() as moto:
        s3 = boto3.client("s3", endpoint_url=moto, **aws_credentials())
        s3.create_bucket(Bucket=BUCKET)
        service = Served(out, env, "--storage", f"s3://{BUCKET}/videos", "--s3-endpoint-url", moto)
        service.key, service.moto, service.s3 = key, moto, s3
        yield service
        service.stop()


@pytest.fixture(scope="module")
def finished(served):
    """Binary search through the shared service, followed to its end: (id, view, events)."""
    with Client(served.url, served.key) as c2v:
        made = c2v.submit("Binary search", idempotency_key="first")
        assert c2v.submit("Binary search", idempotency_key="first").id == made.id
        seen = []
        done = c2v.wait(made.id, on_event=seen.append, timeout_s=600)
    assert done.status is VideoStatus.succeeded, done.error
    return made.id, done, seen


def test_submit_follow_download_and_probe(served, finished):
    video_id, done, seen = finished
    kinds = [e.kind for e in seen]
    assert EventKind.stage in kinds and EventKind.section in kinds
    assert [e.text for e in seen if e.kind is EventKind.status] == ["queued", "running", "succeeded"]
    assert {e.section_id for e in seen if e.kind is EventKind.section and e.done} == {"1", "2", "3", "4"}
    assert [s.status for s in done.sections] == ["ok"] * 4 and done.tokens > 0
    with Client(served.url, served.key) as c2v:
        video = c2v.download(video_id, served.out / "got.mp4")
    info = probe_video(video)
    assert info is not None and (info.width, info.height) == (854, 480) and info.duration_s > 5
    # Published to S3: the service redirects to a link it signs for this download, and the
    # bucket holds the very bytes of the case's video.
    assert video.read_bytes() == (case_of(served.out, video_id) / "video.mp4").read_bytes()
    auth = {"Authorization": f"Bearer {served.key}"}
    moved = httpx.get(done.video_url, headers=auth)
    assert moved.status_code == 307
    link = moved.headers["location"]
    assert link.startswith(f"{served.moto}/{BUCKET}/videos/service/{video_id}/video.mp4?"), link
    assert served.key not in link and FAKE_AWS["AWS_SECRET_ACCESS_KEY"] not in link
    with Client(served.url, served.key) as c2v:
        signed = c2v.link(video_id)
    assert (
        signed.signed
        and signed.url.startswith(f"{served.moto}/{BUCKET}/")
        and httpx.get(signed.url).is_success
    )
    part = httpx.get(link, headers={"Range": "bytes=0-1023"})
    assert part.status_code == 206 and len(part.content) == 1024
    assert part.content == video.read_bytes()[:1024]
    assert httpx.get(served.url + "/metrics").text.count('c2v_videos{status="succeeded"} 1.0') == 1


def test_a_revision_renders_only_its_section_and_stitches_a_new_video(served, finished):
    video_id, before, _ = finished
    case = case_of(served.out, video_id)
    old_video = (case / "video.mp4").read_bytes()
    (served.out / "before-revision.mp4").write_bytes(old_video)
    old_manifest = Manifest.model_validate_json((case / "manifest.json").read_text())
    cache_before = cached_renders(served.out)
    with Client(served.url, served.key) as c2v:
        with pytest.raises(ServiceError, match="HTTP 404"):
            c2v.revise(video_id, "9", "no such section")
        queued = c2v.revise(video_id, REVISED, "Make the result stand out more")
        assert queued.status is VideoStatus.queued and queued.section_id == REVISED
        seen = []
        done = c2v.wait_revision(video_id, queued.id, on_event=seen.append, timeout_s=300)
        assert done.status is VideoStatus.succeeded, done.error
        after = c2v.get(video_id)
        assert [r.id for r in c2v.revisions(video_id)] == [queued.id]
        new_video = c2v.download(video_id, served.out / "revised.mp4").read_bytes()

    # The revision's events are on the video's stream: its section, the new attempt.
    revision_events = [e for e in seen if e.kind is EventKind.revision]
    since = [e for e in seen if e.id >= revision_events[0].id]
    assert [(e.text, e.section_id) for e in revision_events] == [
        ("queued", REVISED),
        ("running", REVISED),
        ("succeeded", REVISED),
    ]
    assert revision_events[-1].attempt == done.attempt == 2 and revision_events[-1].done
    assert {e.section_id for e in since if e.kind is EventKind.section} == {REVISED}
    assert not [e for e in since if e.kind is EventKind.status]  # the video itself stays succeeded
    # Only that section was asked for and rendered again: one new render in the cache.
    manifest = Manifest.model_validate_json((case / "manifest.json").read_text())
    assert manifest.this_run.llm_calls == 1 and manifest.this_run.renders == 1
    assert len(cached_renders(served.out) - cache_before) == 1
    old = {s.id: s for s in old_manifest.sections}
    new = {s.id: s for s in manifest.sections}
    assert new[REVISED].video != old[REVISED].video and new[REVISED].attempts == old[REVISED].attempts + 1
    assert all(
        new[i].video == old[i].video and new[i].attempts == old[i].attempts for i in old if i != REVISED
    )
    assert [s.attempts for s in after.sections] == [new[s.id].attempts for s in after.sections]
    # The video published again (downloaded through S3) is the one stitched again, and it
    # differs from the old one.
    assert new_video == (case / "video.mp4").read_bytes() != old_video
    stored = served.s3.get_object(Bucket=BUCKET, Key=f"videos/service/{video_id}/video.mp4")["Body"].read()
    assert stored == new_video
    old_info, info = (probe_video(served.out / n) for n in ("before-revision.mp4", "revised.mp4"))
    assert info is not None and old_info is not None
    assert info.duration_s > old_info.duration_s + 0.5  # the revised section waits a second longer
    assert (
        after.status is VideoStatus.succeeded and after.tokens == before.tokens + done.tokens > before.tokens
    )


def test_cancel_mid_render_leaves_no_sandbox(served):
    with Client(served.url, served.key) as c2v:
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
        statuses = [e.text for e in c2v.events(made.id) if e.kind is EventKind.status]
        assert statuses == ["queued", "running", "cancelled"]  # nothing finished it afterwards


def test_sigkill_mid_video_then_restart_repeats_no_render_or_llm_call(tmp_path):
    service_env = {"C2V_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}"}  # PostgreSQL: test_load.py
    key = make_key(service_env, tmp_path, "acme")
    served = Served(tmp_path, service_env)
    with Client(served.url, key) as c2v:
        made = c2v.submit("Binary search")
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if any(s.status == "ok" for s in c2v.get(made.id).sections):
                break
            time.sleep(0.5)
        else:
            pytest.fail("no section finished")
    below = served.crash()
    left = wait_gone([pid for pid, _ in below], timeout=30)
    assert left == [], [cmd[:120] for pid, cmd in below if pid in left]
    case = case_of(tmp_path, made.id)
    calls_before = len(list((case / "calls").glob("*.json")))
    renders_before = len(cached_renders(tmp_path))
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
    renders_after = len(cached_renders(tmp_path))
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
