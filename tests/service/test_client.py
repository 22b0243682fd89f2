"""c2v.client.Client against the real API app and store (in process)."""

import pytest

from c2v.client import Client
from c2v.errors import ServiceError
from c2v.store import keys, videos
from c2v.store.schema import VideoStatus
from tests.service.test_api import service  # noqa: F401  (the fixture)


def test_client_submit_get_list_wait_download_and_errors(service, tmp_path):  # noqa: F811
    _, key = keys.create_key(service.db, "acme")
    c2v = Client("http://testserver", key, http=service)
    made = c2v.submit("Binary search", quality="m", idempotency_key="k")
    assert c2v.submit("Binary search", quality="m", idempotency_key="k").id == made.id
    assert c2v.get(made.id).quality.value == "m"
    listed, cursor = c2v.videos()
    assert [v.id for v in listed] == [made.id] and cursor is None
    with pytest.raises(ServiceError) as bad:
        c2v.submit("Binary search", quality="z")
    assert bad.value.status == 422 and "quality" in str(bad.value) and "\n" not in str(bad.value)
    with pytest.raises(ServiceError) as missing:
        c2v.get("0000000000000000")
    assert missing.value.status == 404
    # The scheduler's side, done by hand: run and finish the video.
    assert videos.claim_queued(service.db, 1, "r") == [made.id]
    mp4 = tmp_path / "made.mp4"
    mp4.write_bytes(b"\0\0\0\x18ftypmp42" + bytes(1000))
    videos.finish(service.db, made.id, videos.Outcome(status=VideoStatus.succeeded, video_path=str(mp4)))
    seen = []
    done = c2v.wait(made.id, on_event=seen.append, timeout_s=30)
    assert done.status is VideoStatus.succeeded
    assert [e.text for e in seen] == ["queued", "running", "succeeded"]
    assert c2v.download(made.id, tmp_path / "out.mp4").read_bytes() == mp4.read_bytes()
    with pytest.raises(ServiceError) as nope:
        c2v.revise(made.id, "1", "make the title larger")
    assert nope.value.status == 404  # this video recorded no sections
    with pytest.raises(ServiceError) as empty:
        c2v.revise(made.id, "1", " ")
    assert empty.value.status == 422 and "note" in str(empty.value)
    assert c2v.revisions(made.id) == []
    other = Client("http://testserver", keys.create_key(service.db, "globex")[1], http=service)
    with pytest.raises(ServiceError) as foreign:
        other.download(made.id, tmp_path / "theirs.mp4")
    assert foreign.value.status == 404 and not (tmp_path / "theirs.mp4").exists()
