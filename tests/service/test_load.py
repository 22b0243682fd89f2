"""30 videos from 3 tenants through one `c2v serve` on PostgreSQL, offline provider, tier l.

Each video is its own case (own folder, LLM journal, manifest and stitched video). Renders
are shared through the service's content-addressed render cache: a render's key hashes
its code, runtime, Manim version, tier and orientation, so the same scene is rendered once
for the whole service and reused by every later case. That keeps the test within minutes
on two cores; the test asserts that a render key is rendered again only by videos in
flight at the same moment, never once per video.
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
from c2v.store.schema import VideoStatus
from tests.service.served import Served
from tests.service.test_serve import make_key

pytestmark = [pytest.mark.ray, pytest.mark.integration, pytest.mark.service, pytest.mark.timeout(1800)]

TOPICS = ["Binary search", "Pythagorean theorem", "Euler's formula"]
PER_TENANT = 10


def test_thirty_videos_from_three_tenants_each_end_once(postgres, tmp_path):
    env = {"C2V_DATABASE_URL": postgres.create_database("load")}
    tenants = {name: make_key(env, tmp_path, name) for name in ("acme", "globex", "initech")}
    served = Served(
        tmp_path, env, "--max-in-flight", "3", "--tenant-max-in-flight", "10", "--tenant-rpm", "100000"
    )
    try:

        def submit_all(name: str) -> list[str]:
            offset = list(tenants).index(name)  # the first videos in flight differ in topic
            with Client(served.url, tenants[name]) as c2v:
                ids = []
                for n in range(PER_TENANT):
                    key, topic = f"{name}-{n}", TOPICS[(n + offset) % len(TOPICS)]
                    made = c2v.submit(topic, idempotency_key=key)
                    assert c2v.submit(topic, idempotency_key=key).id == made.id
                    ids.append(made.id)
                return ids

        with ThreadPoolExecutor(3) as pool:
            owned = dict(zip(tenants, pool.map(submit_all, tenants), strict=True))
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
        # Each video succeeded exactly once.
        with Client(served.url, tenants["globex"]) as globex:
            for vid in owned["globex"]:
                statuses = [e.text for e in globex.events(vid) if e.kind.value == "status"]
                assert statuses == ["queued", "running", "succeeded"]
        metrics = httpx.get(served.url + "/metrics").text
        assert 'c2v_videos{status="succeeded"} 30.0' in metrics
    finally:
        served.stop()

    cases = [next((tmp_path / "videos" / vid).iterdir()) for ids in owned.values() for vid in ids]
    assert len(set(cases)) == 30
    manifests = [Manifest.model_validate_json((c / "manifest.json").read_text()) for c in cases]
    assert all((c / "video.mp4").stat().st_size > 0 for c in cases)
    rendered = sum(m.this_run.renders for m in manifests)
    cache = list((tmp_path / "render-cache").glob("*/result.json"))
    # A key is rendered again only by videos that missed the cache at the same moment
    # (at most --max-in-flight of them), never once per video.
    assert len(cache) <= rendered <= 3 * len(cache)
    assert sum(m.this_run.renders_reused for m in manifests) > 0
    (Path(tmp_path) / "load.json").write_text(json.dumps({"renders": rendered, "cases": len(cases)}))
