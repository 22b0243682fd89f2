"""30 videos from 3 tenants through one `c2v serve` on PostgreSQL, offline provider, tier l,
with a SIGKILL of the service mid-render and a cancel mid-render on the same store.

Each video is its own case (own folder, LLM journal, manifest and stitched video). Renders
are shared through the service's content-addressed render cache: a render's key hashes
its code, runtime, Manim version, tier and orientation, so the same scene is rendered once
for the whole service and reused by every later case. Each tenant's first video is of its
own topic and the other 27 are submitted once those three have finished, so every scene is
rendered exactly once for all 30 videos; that keeps the test within minutes on two cores.

While the first three render, the service is killed with SIGKILL and started again: they
resume from their cases, repeating no journaled LLM call and no cached render, and still
end ``succeeded`` exactly once. At the end a 31st video is cancelled mid-render, and no
sandbox is left. This is the PostgreSQL run of the restart and cancel paths; the SQLite run
is in test_serve.py.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from c2v.client import Client
from c2v.errors import ServiceError
from c2v.models import Manifest
from c2v.store.schema import EventKind, VideoStatus
from tests.service.served import Served, descendants, wait_gone
from tests.service.test_serve import cached_renders, is_bwrap, make_key

pytestmark = [pytest.mark.ray, pytest.mark.integration, pytest.mark.service, pytest.mark.timeout(1800)]

TOPICS = ["Binary search", "Pythagorean theorem", "Euler's formula"]
PER_TENANT = 10
FLAGS = ("--max-in-flight", "3", "--tenant-max-in-flight", "10", "--tenant-rpm", "100000")


def journaled(case: Path) -> int:
    return len(list((case / "calls").glob("*.json")))


def case_of(out: Path, video_id: str) -> Path | None:
    folder = out / "videos" / video_id
    return next(folder.iterdir(), None) if folder.is_dir() else None


def test_thirty_videos_from_three_tenants_each_end_once(postgres, tmp_path):
    env = {"C2V_DATABASE_URL": postgres.create_database("load")}
    tenants = {name: make_key(env, tmp_path, name) for name in ("acme", "globex", "initech")}
    served = Served(tmp_path, env, *FLAGS)
    try:

        def submit(name: str, numbers: range) -> list[str]:
            offset = list(tenants).index(name)  # each tenant's first video has its own topic
            with Client(served.url, tenants[name]) as c2v:
                ids = []
                for n in numbers:
                    key, topic = f"{name}-{n}", TOPICS[(n + offset) % len(TOPICS)]
                    made = c2v.submit(topic, idempotency_key=key)
                    assert c2v.submit(topic, idempotency_key=key).id == made.id
                    ids.append(made.id)
                return ids

        first = {name: submit(name, range(1))[0] for name in tenants}
        # SIGKILL the service once a section of the first videos has rendered.
        deadline = time.monotonic() + 300
        with Client(served.url, tenants["acme"]) as acme:
            while not any(s.status == "ok" for s in acme.get(first["acme"]).sections):
                assert time.monotonic() < deadline, "no section rendered"
                time.sleep(1.0)
        below = served.crash()
        assert wait_gone([pid for pid, _ in below], timeout=30) == []
        started = {vid: case_of(tmp_path, vid) for vid in first.values()}
        # The videos killed mid-run (one may have finished before the kill, one not started).
        calls_at_kill = {
            vid: journaled(case)
            for vid, case in started.items()
            if case is not None and not (case / "manifest.json").exists()
        }
        finished_at_kill = [
            vid for vid, case in started.items() if case is not None and (case / "manifest.json").exists()
        ]
        assert calls_at_kill and all(calls_at_kill.values())
        renders_at_kill = len(cached_renders(tmp_path))
        assert renders_at_kill > 0
        served = Served(tmp_path, env, *FLAGS)

        for name, vid in first.items():
            with Client(served.url, tenants[name]) as c2v:
                assert c2v.wait(vid, timeout_s=600).status is VideoStatus.succeeded
        with ThreadPoolExecutor(3) as pool:
            rest = pool.map(lambda name: submit(name, range(1, PER_TENANT)), tenants)
            owned = {name: [first[name], *ids] for name, ids in zip(tenants, rest, strict=True)}
        assert len({v for ids in owned.values() for v in ids}) == 30

        deadline = time.monotonic() + 1500
        views = {}
        while time.monotonic() < deadline:
            views = {}
            for name, key in tenants.items():
                with Client(served.url, key) as c2v:
                    page, cursor = c2v.videos(limit=100)
                    assert cursor is None
                    views[name] = page
            if all(v.status.is_terminal() for page in views.values() for v in page):
                break
            time.sleep(5)
        for name, page in views.items():
            assert sorted(v.id for v in page) == sorted(owned[name])  # none lost, none extra
            assert [v.status for v in page] == [VideoStatus.succeeded] * PER_TENANT, [v.error for v in page]

        # No cross-tenant read, for any video.
        with Client(served.url, tenants["acme"]) as acme:
            for vid in owned["globex"] + owned["initech"]:
                with pytest.raises(ServiceError) as err:
                    acme.get(vid)
                assert err.value.status == 404
        # Each video succeeded exactly once; the first ones ran again after the restart.
        for name, key in tenants.items():
            with Client(served.url, key) as c2v:
                for vid in owned[name]:
                    statuses = [e.text for e in c2v.events(vid) if e.kind is EventKind.status]
                    assert statuses.count("succeeded") == 1 and statuses[-1] == "succeeded"
                    if vid not in first.values():
                        assert statuses == ["queued", "running", "succeeded"]
        metrics = httpx.get(served.url + "/metrics").text
        assert 'c2v_videos{status="succeeded"} 30.0' in metrics
        cache_of_thirty = len(cached_renders(tmp_path))

        # A cancel mid-render on PostgreSQL leaves no sandbox (nothing else runs now).
        with Client(served.url, tenants["acme"]) as acme:
            doomed = acme.submit("勾股定理")
            sandboxes: list[tuple[int, str]] = []
            deadline = time.monotonic() + 300
            while not sandboxes and time.monotonic() < deadline:
                sandboxes = [p for p in descendants(served.proc.pid) if is_bwrap(p[1])]
                time.sleep(0.2)
            assert sandboxes, "no render started"
            assert acme.cancel(doomed.id, wait_s=60).status is VideoStatus.cancelled
            assert wait_gone([pid for pid, _ in sandboxes], timeout=30) == []
            assert [p for p in descendants(served.proc.pid) if is_bwrap(p[1]) or "scene.py" in p[1]] == []
    finally:
        served.stop()

    cases = {vid: next((tmp_path / "videos" / vid).iterdir()) for ids in owned.values() for vid in ids}
    assert len(set(cases.values())) == 30
    manifests = {v: Manifest.model_validate_json((c / "manifest.json").read_text()) for v, c in cases.items()}
    assert all((c / "video.mp4").stat().st_size > 0 for c in cases.values())
    # The resumed runs asked again nothing the killed ones had journaled.
    for vid, before in calls_at_kill.items():
        assert manifests[vid].this_run.llm_calls_reused >= before
        assert manifests[vid].this_run.llm_calls <= journaled(cases[vid]) - before
    # Every scene was rendered once for the whole service, by the first video of its topic:
    # by a killed run, by a run that finished before the kill, or after the restart.
    rendered = sum(m.this_run.renders for m in manifests.values())
    killed_runs_rendered = renders_at_kill - sum(manifests[v].this_run.renders for v in finished_at_kill)
    assert rendered + killed_runs_rendered == cache_of_thirty
    later = [m for v, m in manifests.items() if v not in first.values()]
    assert [m.this_run.renders for m in later] == [0] * 27
    assert all(m.this_run.renders_reused > 0 for m in later)
    (Path(tmp_path) / "load.json").write_text(json.dumps({"renders": rendered, "cases": len(cases)}))
