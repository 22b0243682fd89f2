"""The v1 HTTP API on a real job store (SQLite), with the scheduler's wake-up as the boundary."""

import json

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from c2v.service.deps import ServiceState
from c2v.service.routes import make_api
from c2v.service.settings import ServiceSettings
from c2v.store import keys, videos
from c2v.store.db import Database, migrate
from c2v.store.schema import VideoStatus
from tests.storage_fakes import FAKE_AWS, moto_server

VENDOR_KEYS = [
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_AI_STUDIO_API_KEY",
    "OPENAI_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "CLAUDE_API_KEY",
    "GPT41_API_KEY",
]


@pytest.fixture
def service(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray ./api_config.json
    for name in VENDOR_KEYS:
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    db = Database(url)
    migrate(db.engine)
    settings = ServiceSettings(
        output_dir=tmp_path, db_url=SecretStr(url), tenant_max_in_flight=3, tenant_rpm=1000
    )
    wakes = []
    api = make_api()
    api.state.service = ServiceState(db=db, settings=settings, wake=lambda: wakes.append(1))
    client = TestClient(api)
    client.db, client.wakes, client.settings = db, wakes, settings
    yield client
    db.dispose()


def key_for(service, tenant="acme"):
    return {"Authorization": f"Bearer {keys.create_key(service.db, tenant)[1]}"}


def submit(service, headers, **body):
    return service.post("/v1/videos", json={"topic": "Binary search", **body}, headers=headers)


def test_health_ready_metrics_and_docs(service):
    assert service.get("/healthz").json() == {"status": "ok"}
    assert service.get("/readyz").status_code == 200
    assert "/v1/videos" in service.get("/openapi.json").json()["paths"]
    assert service.get("/docs").status_code == 200
    submit(service, key_for(service))
    text = service.get("/metrics").text
    assert 'c2v_videos{status="queued"} 1.0' in text
    assert "c2v_queue_depth 1.0" in text and "c2v_render_seconds_total 0.0" in text
    assert "c2v_llm_tokens_total" in text


def test_every_v1_call_needs_a_live_key(service):
    assert service.get("/v1/videos").status_code == 401
    assert service.get("/v1/videos", headers={"Authorization": "Bearer nope"}).status_code == 401
    key_id, key = keys.create_key(service.db, "acme")
    headers = {"Authorization": f"Bearer {key}"}
    assert service.get("/v1/videos", headers=headers).status_code == 200
    keys.revoke_key(service.db, key_id)
    answer = service.get("/v1/videos", headers=headers)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {"detail": "unknown or revoked API key"}


def test_submit_get_list_and_tenant_isolation(service):
    acme, globex = key_for(service, "acme"), key_for(service, "globex")
    first = submit(service, acme)
    assert first.status_code == 202 and first.json()["status"] == "queued"
    assert service.wakes == [1]
    second = submit(service, acme, topic="Euler's formula", quality="m", orientation="portrait")
    theirs = submit(service, globex, topic="Pythagorean theorem")
    vid = second.json()["id"]
    view = service.get(f"/v1/videos/{vid}", headers=acme).json()
    assert view["status"] == "queued" and view["quality"] == "m" and view["orientation"] == "portrait"
    assert view["video_url"] is None and view["sections"] == [] and view["error"] is None
    # Another tenant's video is a 404, like one that does not exist, for every verb.
    for verb, path in [("get", ""), ("get", "/events"), ("get", "/video"), ("delete", "")]:
        answer = service.request(verb.upper(), f"/v1/videos/{vid}{path}", headers=globex)
        assert answer.status_code == 404, (verb, path)
        assert "Euler" not in answer.text
    page = service.get("/v1/videos", params={"limit": 1}, headers=acme).json()
    assert [v["id"] for v in page["videos"]] == [vid]  # newest first
    rest = service.get("/v1/videos", params={"limit": 1, "cursor": page["next_cursor"]}, headers=acme).json()
    assert [v["id"] for v in rest["videos"]] == [first.json()["id"]] and rest["next_cursor"] is None
    mine = service.get("/v1/videos", headers=globex).json()["videos"]
    assert [v["id"] for v in mine] == [theirs.json()["id"]]


def test_idempotency_key_returns_the_same_video_for_the_same_body(service):
    acme = key_for(service)
    headers = {**acme, "Idempotency-Key": "order-17"}
    first = submit(service, headers)
    again = submit(service, headers)
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    clash = submit(service, headers, quality="h")
    assert clash.status_code == 422 and "different request body" in clash.json()["detail"]
    assert len(service.get("/v1/videos", headers=acme).json()["videos"]) == 1


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"topic": "   "}, 422, "topic is empty"),
        ({"topic": "x" * 301}, 422, "at most 300"),
        ({"topic": "Binary search", "quality": "z"}, 422, "quality"),
        ({"topic": "Binary search", "api": "nosuch"}, 422, "unknown provider 'nosuch'"),
        ({"topic": "Binary search", "api": "gemini"}, 422, "has no API key"),
        ({"topic": "Fourier series"}, 422, "Fourier series"),
        ({"topic": "Binary search", "colour": "red"}, 422, "colour"),
        ({"topic": "Binary search", "language": "!!"}, 422, "language"),
    ],
)
def test_bad_input_is_one_line_and_stores_nothing(service, body, status, words):
    acme = key_for(service)
    answer = service.post("/v1/videos", json=body, headers=acme)
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and words in detail
    assert videos.in_flight(service.db) == 0


def test_malformed_json_is_400_and_a_big_body_is_413(service):
    acme = key_for(service)
    bad = service.post(
        "/v1/videos", content=b'{"topic": ', headers={**acme, "content-type": "application/json"}
    )
    assert bad.status_code == 400 and bad.json() == {"detail": "malformed JSON body"}
    big = service.post("/v1/videos", json={"topic": "Binary search", "pad": "x" * 70_000}, headers=acme)
    assert big.status_code == 413 and "64 KB" in big.json()["detail"]
    assert videos.in_flight(service.db) == 0


def test_limits_answer_429_with_retry_after(service):
    acme = key_for(service)
    assert all(submit(service, acme).status_code == 202 for _ in range(3))
    over = submit(service, acme)
    assert over.status_code == 429 and int(over.headers["retry-after"]) > 0
    assert submit(service, key_for(service, "globex")).status_code == 202  # per tenant
    _, key = keys.create_key(service.db, "chatty")
    keys.set_limits(service.db, "chatty", None, 2)
    chatty = {"Authorization": f"Bearer {key}"}
    assert [service.get("/v1/videos", headers=chatty).status_code for _ in range(3)] == [200, 200, 429]


def test_cancel_a_queued_video_and_follow_its_events(service):
    acme = key_for(service)
    vid = submit(service, acme).json()["id"]
    cancelled = service.delete(f"/v1/videos/{vid}", headers=acme)
    assert cancelled.status_code == 202 and cancelled.json()["status"] == "cancelled"
    with service.stream("GET", f"/v1/videos/{vid}/events", headers=acme) as stream:
        lines = [line for line in stream.iter_lines() if line.startswith("data:")]
    events = [json.loads(line[5:]) for line in lines]
    assert [(e["kind"], e["text"]) for e in events] == [("status", "queued"), ("status", "cancelled")]
    resumed = service.get(f"/v1/videos/{vid}/events", headers={**acme, "Last-Event-ID": str(events[0]["id"])})
    assert resumed.text.count("data:") == 1
    assert service.get(f"/v1/videos/{vid}/video", headers=acme).status_code == 409


def test_the_video_is_served_with_ranges_or_redirected_to_storage(service, tmp_path, monkeypatch):
    acme = key_for(service)
    ids = [
        submit(service, acme, topic=t).json()["id"]
        for t in ("Binary search", "Euler's formula", "Pythagorean theorem")
    ]
    assert videos.claim_queued(service.db, 3, "r") == ids
    mp4 = tmp_path / "v.mp4"
    mp4.write_bytes(bytes(range(256)) * 4)
    videos.finish(service.db, ids[0], videos.Outcome(status=VideoStatus.succeeded, video_path=str(mp4)))
    view = service.get(f"/v1/videos/{ids[0]}", headers=acme).json()
    assert view["video_url"].endswith(f"/v1/videos/{ids[0]}/video")
    part = service.get(f"/v1/videos/{ids[0]}/video", headers={**acme, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == bytes(range(10, 20))
    assert part.headers["content-range"] == "bytes 10-19/1024"
    link = service.get(f"/v1/videos/{ids[0]}/video/link", headers=acme).json()
    assert link == {"url": view["video_url"], "signed": False}  # only through the API, with the key
    assert "media-src 'self' blob:;" in service.get("/").headers["content-security-policy"]

    # Published to S3: the row keeps the object's key, and each download is redirected to a
    # link signed at that moment (a link signed at publication would expire within 7 days).
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    with moto_server() as moto:
        s3 = boto3.client("s3", endpoint_url=moto)
        s3.create_bucket(Bucket="c2v-api")
        s3.put_object(Bucket="c2v-api", Key="service/v2/video.mp4", Body=b"published bytes")
        settings = service.settings.model_copy(update={"storage": "s3://c2v-api", "s3_endpoint_url": moto})
        service.app.state.service = ServiceState(db=service.db, settings=settings, wake=lambda: None)
        done = videos.Outcome(
            status=VideoStatus.succeeded, video_path=str(mp4), video_object="service/v2/video.mp4"
        )
        videos.finish(service.db, ids[1], done)
        assert videos.get_video(service.db, ids[1]).video_url is None  # nothing was signed then
        moved = service.get(f"/v1/videos/{ids[1]}/video", headers=acme, follow_redirects=False)
        assert moved.status_code == 307
        link = moved.headers["location"]
        assert link.startswith(f"{moto}/c2v-api/service/v2/video.mp4?") and "X-Amz-Signature=" in link
        assert FAKE_AWS["AWS_SECRET_ACCESS_KEY"] not in link
        assert httpx.get(link).content == b"published bytes"
        linked = service.get(f"/v1/videos/{ids[1]}/video/link", headers=acme).json()
        assert linked["signed"] is True and httpx.get(linked["url"]).content == b"published bytes"
        # the studio's player may load media from the bucket's origin, and from nowhere else
        policy = service.get("/").headers["content-security-policy"]
        assert f"media-src 'self' blob: {moto};" in policy and "connect-src 'self';" in policy

    # Published to a folder: there is no link to sign, and the service serves the file.
    settings = service.settings.model_copy(update={"storage": (tmp_path / "published").as_uri()})
    service.app.state.service = ServiceState(db=service.db, settings=settings, wake=lambda: None)
    done = videos.Outcome(
        status=VideoStatus.succeeded, video_path=str(mp4), video_object=str(tmp_path / "x.mp4")
    )
    videos.finish(service.db, ids[2], done)
    whole = service.get(f"/v1/videos/{ids[2]}/video", headers=acme, follow_redirects=False)
    assert whole.status_code == 200 and whole.content == mp4.read_bytes()


def test_provider_keys_never_reach_a_response(service, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-very-secret-0123456789")
    acme = key_for(service)
    made = submit(service, acme, api="gemini")
    assert made.status_code == 202
    answers = [made, service.get(f"/v1/videos/{made.json()['id']}", headers=acme), service.get("/metrics")]
    answers.append(service.get("/v1/videos", headers=acme))
    assert all("very-secret" not in a.text for a in answers)


def test_revise_queues_a_note_on_a_finished_section_and_cancel_drops_it(service):
    acme, globex = key_for(service), key_for(service, "globex")
    vid = submit(service, acme).json()["id"]
    path = f"/v1/videos/{vid}/sections/2/revise"
    queued = service.post(path, json={"note": "bigger labels"}, headers=acme)
    assert queued.status_code == 409 and queued.json()["detail"] == (
        f"video {vid} is queued; only a finished video is revised"
    )
    videos.claim_queued(service.db, 1, "r")
    assert service.post(path, json={"note": "bigger labels"}, headers=acme).status_code == 409  # running
    sections = json.dumps(
        [{"id": "1", "status": "ok"}, {"id": "2", "status": "ok"}, {"id": "3", "status": "failed"}]
    )
    videos.finish(
        service.db, vid, videos.Outcome(status=VideoStatus.succeeded, video_path="/v.mp4", sections=sections)
    )
    for note, where in (("", "note"), ("   ", "note"), ("x" * 4001, "note")):
        bad = service.post(path, json={"note": note}, headers=acme)
        assert bad.status_code == 422 and bad.json()["detail"].startswith(f"{where}: "), bad.json()
    assert service.post(path, json={"note": "bigger labels"}, headers=globex).status_code == 404
    unknown = service.post(f"/v1/videos/{vid}/sections/9/revise", json={"note": "x"}, headers=acme)
    assert unknown.status_code == 404 and unknown.json()["detail"] == f"video {vid} has no section '9'"
    failed = service.post(f"/v1/videos/{vid}/sections/3/revise", json={"note": "x"}, headers=acme)
    assert failed.status_code == 409 and "failed" in failed.json()["detail"]
    wakes = len(service.wakes)
    first = service.post(path, json={"note": "  bigger labels "}, headers=acme)
    second = service.post(path, json={"note": "slower reveal"}, headers=acme)
    assert first.status_code == second.status_code == 202 and first.json()["status"] == "queued"
    assert first.json()["note"] == "bigger labels" and first.json()["attempt"] is None
    assert len(service.wakes) == wakes + 2  # the scheduler is told at once
    listed = service.get(f"/v1/videos/{vid}/revisions", headers=acme).json()
    assert [(r["section_id"], r["note"]) for r in listed] == [("2", "bigger labels"), ("2", "slower reveal")]
    assert service.get(f"/v1/videos/{vid}/revisions", headers=globex).status_code == 404
    # Cancelling the (finished) video drops its queued revisions; the video stays succeeded.
    assert service.delete(f"/v1/videos/{vid}", headers=acme).json()["status"] == "succeeded"
    listed = service.get(f"/v1/videos/{vid}/revisions", headers=acme).json()
    assert [r["status"] for r in listed] == ["cancelled", "cancelled"]
    events = service.get(f"/v1/videos/{vid}/events", headers=acme).text
    assert events.count("event: revision") == 4  # queued and cancelled, for each
