"""The job store on SQLite and on a real PostgreSQL: migrations, keys, the video state machine."""

import json

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from c2v.store import keys, limits, videos
from c2v.store.db import current_revision, head_revision, migrate, ping
from c2v.store.schema import ApiKey, Base, EventKind, VideoStatus


def _new(tenant_id, topic="Binary search", key=None, digest="h1"):
    return videos.NewVideo(tenant_id, topic, json.dumps({"topic": topic}), digest, key)


def _tenant(db, name="acme"):
    _, key = keys.create_key(db, name)
    return keys.authenticate(db, key)


def test_migrations_build_exactly_the_models_and_run_twice(db):
    migrate(db.engine)  # a second run is a no-op
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []
    assert ping(db.engine)


def test_keys_are_stored_as_hashes_and_revoked_keys_stop_working(db):
    key_id, key = keys.create_key(db, "acme")
    assert key.startswith(f"c2v_{key_id}_")
    caller = keys.authenticate(db, key)
    assert caller is not None and caller.tenant == "acme" and caller.key_id == key_id
    secret = key.rsplit("_", 1)[1]
    with db.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM api_keys")) for v in row)
    assert secret not in dump and key not in dump
    assert keys.authenticate(db, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert keys.authenticate(db, "not-a-key") is None
    second_id, second = keys.create_key(db, "acme")
    assert keys.authenticate(db, second).tenant_id == caller.tenant_id  # same tenant, two keys
    assert keys.revoke_key(db, key_id) and keys.revoke_key(db, key_id)
    assert keys.authenticate(db, key) is None
    assert keys.authenticate(db, second) is not None
    assert not keys.revoke_key(db, "nosuchkey000")
    listed = {k.id: k for k in keys.list_keys(db)}
    assert listed[key_id].revoked_at is not None and listed[second_id].revoked_at is None
    with db.session() as s:
        assert len(s.scalars(select(ApiKey)).all()) == 2


def test_an_idempotency_key_gives_back_the_same_video(db):
    caller = _tenant(db)
    first, created = videos.create_video(db, _new(caller.tenant_id, key="k1"))
    again, created_again = videos.create_video(db, _new(caller.tenant_id, key="k1"))
    assert created and not created_again and again.id == first.id
    other = _tenant(db, "globex")
    theirs, created_theirs = videos.create_video(db, _new(other.tenant_id, key="k1"))
    assert created_theirs and theirs.id != first.id  # keys are per tenant
    assert videos.get_video(db, first.id, other.tenant_id) is None
    assert videos.get_video(db, first.id, caller.tenant_id).id == first.id


def test_claims_are_exclusive_oldest_first_and_bounded(db):
    caller = _tenant(db)
    ids = [videos.create_video(db, _new(caller.tenant_id, topic=f"t{n}"))[0].id for n in range(5)]
    a = videos.claim_queued(db, 2, "runner-a")
    b = videos.claim_queued(db, 10, "runner-b")
    assert a == ids[:2] and b == ids[2:]
    assert videos.claim_queued(db, 10, "runner-c") == []
    assert videos.in_flight(db, caller.tenant_id) == 5
    # A new scheduler hands back the work of every other runner.
    assert sorted(videos.orphans(db, "runner-b")) == sorted(a)
    assert videos.requeue(db, videos.orphans(db, "runner-new"), "restart") == 5
    assert videos.counts_by_status(db)[VideoStatus.queued] == 5
    again = videos.claim_queued(db, 5, "runner-new")
    assert sorted(again) == sorted(ids)
    assert all(videos.get_video(db, v).runs == 2 for v in ids)


def test_cancel_and_finish_happen_once(db):
    caller = _tenant(db)
    queued, _ = videos.create_video(db, _new(caller.tenant_id, topic="a"))
    running, _ = videos.create_video(db, _new(caller.tenant_id, topic="b"))
    assert videos.request_cancel(db, queued.id) is VideoStatus.cancelled
    assert videos.claim_queued(db, 5, "r") == [running.id]  # the cancelled one is never started
    assert videos.request_cancel(db, running.id) is VideoStatus.running
    assert videos.cancel_requested(db) == [running.id]
    ok = videos.Outcome(status=VideoStatus.succeeded, video_path="/x.mp4", tokens=10)
    assert videos.finish(db, running.id, ok)
    assert videos.get_video(db, running.id).status is VideoStatus.cancelled  # asked to cancel first
    assert not videos.finish(db, running.id, ok)
    statuses = [e.text for e in videos.events_after(db, running.id, 0) if e.kind is EventKind.status]
    assert statuses == ["queued", "running", "cancelled"]


def test_requests_per_minute_are_counted_per_tenant(db):
    a, b = _tenant(db, "a"), _tenant(db, "b")
    now = 1_000_000 * 60 + 15.0
    assert [limits.hit(db, a.tenant_id, 3, now) for _ in range(3)] == [None, None, None]
    wait = limits.hit(db, a.tenant_id, 3, now)
    assert wait is not None and 1 <= wait <= 46
    assert limits.hit(db, b.tenant_id, 3, now) is None
    assert limits.hit(db, a.tenant_id, 3, now + 60) is None  # a new minute
