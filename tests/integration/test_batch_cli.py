"""`c2v batch` on the embedded Ray instance: two offline topics in flight at once, then a resume."""

import json

import pytest

from c2v.media.probe import probe_video

pytestmark = [pytest.mark.integration, pytest.mark.ray]

TOPICS = ["Binary search", "勾股定理"]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    from tests.conftest import run_c2v

    tmp = tmp_path_factory.mktemp("batch")
    topics = tmp / "topics.json"
    topics.write_text(json.dumps(TOPICS, ensure_ascii=False), encoding="utf-8")
    args = ("batch", str(topics), "-o", str(tmp / "out"), "--folder_prefix", "it", "--parallel-groups", "2")
    proc = run_c2v(*args, "--sandbox", "bwrap", "--log-json")
    return tmp / "out" / "it", proc, args


def test_both_topics_finish_with_videos(batch):
    folder, proc, _ = batch
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    assert record["batch_id"] == "it-topics" and record["finished"]
    assert [t["topic"] for t in record["topics"]] == TOPICS
    for t in record["topics"]:
        assert t["status"] == "ok" and t["sections_ok"] == t["sections_total"] >= 4
        info = probe_video(folder / t["video"])
        assert info is not None and (info.width, info.height) == (854, 480)
        assert t["renders"] >= t["sections_total"] and t["llm_calls"] > 0


def test_topics_ran_at_the_same_time(batch):
    folder, _, _ = batch
    record = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    a, b = record["topics"]
    # The second topic started before the first one finished.
    assert b["started_at"] <= a["finished_at"] and a["started_at"] <= b["finished_at"]


def test_table_printed_and_written(batch):
    folder, proc, _ = batch
    assert "| 1 | Binary search | ok | 4/4 |" in proc.stdout
    assert "2 topics, 2 ok, 0 failed" in proc.stdout
    assert "| 2 | 勾股定理 | ok |" in (folder / "batch.md").read_text(encoding="utf-8")
    assert not list(folder.rglob("*.part"))


def test_status_shows_the_batch_and_a_case(batch, c2v):
    folder, _, _ = batch
    proc = c2v("status", str(folder))
    assert proc.returncode == 0 and "| 2 | 勾股定理 | ok |" in proc.stdout
    proc = c2v("status", str(folder / "binary-search"))
    assert proc.returncode == 0 and "4/4 sections ok" in proc.stdout


def test_same_command_again_redoes_nothing(batch, c2v):
    folder, _, args = batch
    manifests = {p: p.read_bytes() for p in folder.glob("*/manifest.json")}
    proc = c2v(*args, "--sandbox", "bwrap", "--log-json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    assert all(t["status"] == "ok" and t["resumed"] for t in record["topics"])
    assert all(t["renders"] == 0 and t["llm_calls"] == 0 for t in record["topics"])
    assert {p: p.read_bytes() for p in folder.glob("*/manifest.json")} == manifests


def test_finished_topics_are_published_once(batch, c2v, tmp_path):
    folder, _, args = batch
    store = tmp_path / "published"
    proc = c2v(*args, "--sandbox", "bwrap", "--storage", str(store))
    assert proc.returncode == 0, proc.stderr[-2000:]
    record = json.loads((folder / "batch.json").read_text(encoding="utf-8"))
    for t in record["topics"]:
        assert t["published_to"] == str(store) and t["renders"] == 0
        assert t["link"].endswith("/video.mp4")
        assert probe_video(store / "it-topics" / t["slug"] / "video.mp4") is not None
    published = {p: p.stat().st_mtime_ns for p in store.rglob("manifest.json")}
    assert len(published) == 2
    again = c2v(*args, "--sandbox", "bwrap", "--storage", str(store))
    assert again.returncode == 0, again.stderr[-2000:]
    assert {p: p.stat().st_mtime_ns for p in store.rglob("manifest.json")} == published, "not published twice"
