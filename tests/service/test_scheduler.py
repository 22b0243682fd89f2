"""The scheduler's claims on a real store (SQLite), with task submission as the boundary."""

import json

from pydantic import SecretStr

from c2v.service.scheduler import Scheduler
from c2v.service.settings import ServiceSettings
from c2v.store import keys, revisions, videos
from c2v.store.db import Database, migrate
from c2v.store.schema import VideoStatus


def _finished(db, tenant_id, topic):
    video, _ = videos.create_video(db, videos.NewVideo(tenant_id, topic, json.dumps({"topic": topic}), "h"))
    assert videos.claim_queued(db, 1, "r") == [video.id]
    videos.finish(db, video.id, videos.Outcome(status=VideoStatus.succeeded, video_path="/v.mp4"))
    return video.id


def test_revisions_go_first_share_the_slots_and_a_gone_schedulers_work_resumes(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    db = Database(url)
    migrate(db.engine)
    _, key = keys.create_key(db, "acme")
    tenant = keys.authenticate(db, key).tenant_id
    a, b = _finished(db, tenant, "a"), _finished(db, tenant, "b")
    left = revisions.add_revision(db, a, "1", "left running by a scheduler that is gone").id
    assert revisions.claim_revisions(db, 1, "gone") == [left]
    waiting = revisions.add_revision(db, b, "2", "queued").id
    revisions.add_revision(db, a, "3", "waits for the first revision of its video")
    videos.create_video(db, videos.NewVideo(tenant, "c", json.dumps({"topic": "c"}), "h"))

    started: list[tuple[str, object]] = []
    settings = ServiceSettings(output_dir=tmp_path, db_url=SecretStr(url), max_in_flight=2)
    scheduler = Scheduler(
        settings,
        submit=lambda _, vid: started.append(("video", vid)),
        submit_revision=lambda _, rid: started.append(("revision", rid)),
        start=False,
    )
    assert revisions.get_revision(db, left).status is VideoStatus.queued  # handed back on start
    scheduler.step()
    # Both slots go to revisions (one per video, oldest first); the queued video waits.
    assert started == [("revision", left), ("revision", waiting)]
    assert sorted(scheduler.revising) == sorted([left, waiting]) and scheduler.running == []
    assert revisions.get_revision(db, left).runs == 2
    assert videos.counts_by_status(db)[VideoStatus.queued] == 1
    db.dispose()
    scheduler.db.dispose()
