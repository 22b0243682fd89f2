"""The job store on SQLite and on a real PostgreSQL: migrations, keys, the video state machine."""

import json

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from c2v.store import keys, limits, revisions, videos
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


def _finished_video(db, caller, topic="Binary search"):
    video, _ = videos.create_video(db, _new(caller.tenant_id, topic=topic))
    assert videos.claim_queued(db, 5, "r") == [video.id]
    done = videos.Outcome(status=VideoStatus.succeeded, video_path="/v.mp4", tokens=100, cost_usd=0.5)
    assert videos.finish(db, video.id, done)
    return video.id


def test_revisions_are_claimed_one_per_video_oldest_first_and_finish_once(db):
    caller = _tenant(db)
    a, b = _finished_video(db, caller, "a"), _finished_video(db, caller, "b")
    queued, _ = videos.create_video(db, _new(caller.tenant_id, topic="c"))
    a1 = revisions.add_revision(db, a, "2", "bigger labels").id
    a2 = revisions.add_revision(db, a, "3", "slower").id
    b1 = revisions.add_revision(db, b, "1", "greener").id
    revisions.add_revision(db, queued.id, "1", "never runs: its video is not finished")
    assert revisions.claim_revisions(db, 0, "r1") == []
    # One revision of a video at a time: a2 waits for a1 even with free slots.
    assert revisions.claim_revisions(db, 10, "r1") == [a1, b1]
    assert revisions.claim_revisions(db, 10, "r2") == []
    new_video = videos.Outcome(
        status=VideoStatus.succeeded, video_path="/v2.mp4", sections="[]", tokens=130, cost_usd=0.6, renders=1
    )
    ok = revisions.RevisionOutcome(
        status=VideoStatus.succeeded, attempt=2, tokens=30, cost_usd=0.1, video=new_video
    )
    assert revisions.finish_revision(db, a1, ok)
    assert not revisions.finish_revision(db, a1, ok)  # finished once
    assert revisions.claim_revisions(db, 10, "r2") == [a2]
    failed = revisions.RevisionOutcome(status=VideoStatus.failed, error="the revision never rendered")
    assert revisions.finish_revision(db, b1, failed)

    rows = {r.id: r for r in revisions.revisions_of(db, a) + revisions.revisions_of(db, b)}
    assert (rows[a1].status, rows[a1].attempt, rows[a1].tokens) == (VideoStatus.succeeded, 2, 30)
    assert rows[a2].status is VideoStatus.running and rows[a2].runner == "r2"
    assert (rows[b1].status, rows[b1].error, rows[b1].attempt) == (
        VideoStatus.failed,
        "the revision never rendered",
        None,
    )
    # The video follows a succeeded revision (its file and totals), not a failed one.
    va, vb = videos.get_video(db, a), videos.get_video(db, b)
    assert (va.video_path, va.tokens, va.renders, va.status) == ("/v2.mp4", 130, 1, VideoStatus.succeeded)
    assert (vb.video_path, vb.tokens) == ("/v.mp4", 100)
    seen = [(e.text, e.section_id, e.revision_id, e.attempt, e.done) for e in videos.events_after(db, a, 0)]
    assert [s for s in seen if s[2] == a1] == [
        ("queued", "2", a1, None, False),
        ("running", "2", a1, None, False),
        ("succeeded", "2", a1, 2, True),
    ]
    assert revisions.active_revisions(db, a) == 1 and revisions.active_revisions(db, b) == 0


def test_a_cancel_stops_queued_revisions_at_once_and_flags_the_running_one(db):
    caller = _tenant(db)
    vid = _finished_video(db, caller)
    running = revisions.add_revision(db, vid, "1", "one").id
    assert revisions.claim_revisions(db, 1, "r") == [running]
    waiting = revisions.add_revision(db, vid, "2", "two").id
    assert revisions.cancel_revisions(db, vid) == 2
    assert revisions.get_revision(db, waiting).status is VideoStatus.cancelled
    assert revisions.revision_cancels(db) == [running]
    late_failure = revisions.RevisionOutcome(status=VideoStatus.failed, error="killed")
    assert revisions.finish_revision(db, running, late_failure)
    assert revisions.get_revision(db, running).status is VideoStatus.cancelled
    assert revisions.cancel_revisions(db, vid) == 0


def test_a_new_scheduler_requeues_the_revisions_of_a_gone_one(db):
    caller = _tenant(db)
    vid = _finished_video(db, caller)
    rid = revisions.add_revision(db, vid, "1", "one").id
    assert revisions.claim_revisions(db, 1, "old") == [rid]
    assert revisions.orphan_revisions(db, "old") == []
    assert revisions.orphan_revisions(db, "new") == [rid]
    assert revisions.requeue_revisions(db, [rid], "restart") == 1
    assert revisions.requeue_revisions(db, [rid], "restart") == 0
    assert revisions.claim_revisions(db, 1, "new") == [rid]
    assert revisions.get_revision(db, rid).runs == 2
