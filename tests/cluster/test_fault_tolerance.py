"""Batches on a real two-node Ray cluster (token auth on): job submission, re-submission,
a worker node killed mid-render, and the driver killed mid-batch.

Renders ask for a custom resource only the worker nodes offer (``C2V_RENDER_POOLS``), so they
run on the node the test kills; the head node runs the job server and the drivers.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from c2v.media.probe import probe_video
from cluster import jobs
from tests.cluster.localcluster import LocalCluster
from tests.conftest import run_c2v

pytestmark = [pytest.mark.integration, pytest.mark.ray]

POOLS = json.dumps({"l": {"resources": {"c2v_render": 1}}})
TOPICS = ["Binary search", "勾股定理"]
C2V = [sys.executable, "-m", "c2v"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = LocalCluster()
    try:
        c.start_head(num_cpus=1)
        c.add_worker("w1", 2, '{"c2v_render": 2}', C2V_LOG_DIR=str(c.temp_dir / "logs-w1"))
        yield c
    finally:
        c.stop()


def topics_file(folder: Path, topics: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "topics.json"
    path.write_text(json.dumps(topics, ensure_ascii=False), encoding="utf-8")
    return path


def batch_record(folder: Path) -> dict:
    return json.loads((folder / "batch.json").read_text(encoding="utf-8"))


def driver_env(cluster: LocalCluster) -> dict[str, str]:
    return cluster.env(RAY_ADDRESS=cluster.address, C2V_RENDER_POOLS=POOLS)


# --- ray job submission ------------------------------------------------------------------
@pytest.fixture(scope="module")
def submitted(cluster, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("submit")
    topics_file(tmp / "job", TOPICS)
    out = tmp / "out"
    args = [
        "submit",
        "--address",
        cluster.dashboard,
        "--working-dir",
        str(tmp / "job"),
        "--python",
        sys.executable,
        "--env",
        f"C2V_RENDER_POOLS={POOLS}",
        "topics.json",
        "-o",
        str(out),
        "--folder-prefix",
        "sub",
        "--parallel-groups",
        "2",
        "--sandbox",
        "bwrap",
    ]
    proc = run_c2v(*args, env=cluster.env(), timeout=900)
    return proc, out / "sub", args


def test_submitted_batch_succeeds(cluster, submitted):
    proc, folder, _ = submitted
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "job c2v-sub-topics: submitted" in proc.stderr
    assert "2 topics, 2 ok, 0 failed" in proc.stdout  # the job's own output, followed live
    client = jobs.connect(cluster.dashboard, cluster.env())
    assert jobs.job_state(client, "c2v-sub-topics") is jobs.JobState.succeeded
    record = batch_record(folder)
    assert [t["status"] for t in record["topics"]] == ["ok", "ok"]
    for t in record["topics"]:
        assert t["sections_ok"] == t["sections_total"] >= 4
        assert probe_video(folder / t["video"]) is not None


def test_resubmission_attaches_instead_of_running_again(cluster, submitted):
    _, folder, args = submitted
    before = (folder / "batch.json").read_bytes()
    again = run_c2v(*args, env=cluster.env(), timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "attached to existing job (SUCCEEDED)" in again.stderr
    assert (folder / "batch.json").read_bytes() == before, "the batch did not run a second time"
    client = jobs.connect(cluster.dashboard, cluster.env())
    ours = [j for j in client.list_jobs() if (j.submission_id or "").startswith("c2v-sub-topics")]
    assert [j.submission_id for j in ours] == ["c2v-sub-topics"]
    # Ray itself refuses the duplicate id; `c2v submit` is what turns that into attaching.
    ray_cli = str(Path(sys.executable).parent / "ray")
    raw = subprocess.run(
        [
            ray_cli,
            "job",
            "submit",
            "--address",
            cluster.dashboard,
            "--submission-id",
            "c2v-sub-topics",
            *("--no-wait", "--", "echo", "twice"),
        ],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert raw.returncode != 0 and "already exists" in raw.stdout + raw.stderr


def test_a_client_without_the_token_is_told_how_to_get_one(cluster, tmp_path):
    topics_file(tmp_path / "job", TOPICS)
    proc = run_c2v(
        "submit",
        "--address",
        cluster.dashboard,
        "--working-dir",
        str(tmp_path / "job"),
        "--no-follow",
        "topics.json",
        env=cluster.env(RAY_AUTH_MODE="disabled", HOME=str(tmp_path)),
        timeout=120,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "token" in proc.stderr and "ray get-auth-token" in proc.stderr


# --- the driver killed mid-batch ---------------------------------------------------------
def snapshot(folder: Path) -> dict[str, dict]:
    out = {}
    for case in sorted(p for p in folder.iterdir() if p.is_dir()):
        out[case.name] = {
            "renders": {p.parent.name for p in (case / "renders").glob("*/result.json")},
            "calls": {p.name for p in (case / "calls").glob("*.json")},
            "manifest": (case / "manifest.json").read_bytes() if (case / "manifest.json").is_file() else None,
        }
    return out


def test_driver_killed_mid_batch_resumes_without_repeating_work(cluster, tmp_path):
    # One topic is enough to kill a driver mid-render (two in flight are the submitted batch's)
    topics = topics_file(tmp_path, TOPICS[:1])
    folder = tmp_path / "out" / "kill"
    cmd = [*C2V, "batch", str(topics), "-o", str(tmp_path / "out"), "--folder-prefix", "kill"]
    cmd += ["--parallel-groups", "2", "--sandbox", "bwrap", "--log-json"]
    proc = subprocess.Popen(
        cmd,
        env=driver_env(cluster),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 400
    assert proc.stderr is not None
    for line in proc.stderr:
        if '"event": "rendered"' in line and '"status": "ok"' in line:
            break
        assert time.monotonic() < deadline, "no render finished in time"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = snapshot(folder)
    assert sum(len(c["renders"]) for c in before.values()) >= 1, "a finished render was kept"
    assert batch_record(folder)["finished"] is False

    done = run_c2v(*cmd[3:], env=driver_env(cluster), timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]  # also: the dead driver's case locks are gone
    after = snapshot(folder)
    record = {t["slug"]: t for t in batch_record(folder)["topics"]}
    assert set(record) == set(after) and all(t["status"] == "ok" for t in record.values())
    for slug, now in after.items():
        was = before.get(slug, {"renders": set(), "calls": set(), "manifest": None})
        if was["manifest"] is not None:  # finished before the kill: untouched
            assert now["manifest"] == was["manifest"] and record[slug]["resumed"]
            continue
        m = json.loads(now["manifest"])
        run = m["this_run"]
        assert was["renders"] <= now["renders"] and was["calls"] <= now["calls"]
        # Every render of the second run is a new one: none of the first run's was redone.
        assert run["renders"] == len(now["renders"] - was["renders"])
        assert run["renders_reused"] >= len(was["renders"])
        needed = {h["render_key"] for s in m["sections"] for h in s["history"] if h["render_key"]}
        assert len(was["renders"]) + run["renders"] == len(needed) == len(now["renders"])
        # Every LLM call the first run finished is replayed from disk, never asked again.
        assert run["llm_calls"] == len(now["calls"] - was["calls"])
        assert run["llm_calls_reused"] >= len(was["calls"])
        assert all(s["status"] == "ok" for s in m["sections"])


# --- a worker node killed mid-render -----------------------------------------------------
def log_events(folder: Path, event: str, topic: str = "pythagorean-theorem") -> int:
    """Lines of ``event`` for ``topic`` in a node's worker logs.

    Only this test's topic counts: a render left over from an earlier test (a killed driver's
    task finishing late) must not make or unmake the render in flight this test waits for.
    """
    count = 0
    for path in folder.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line still being written
            if entry.get("event") == event and entry.get("topic") == topic:
                count += 1
    return count


def test_worker_node_killed_mid_render_and_the_batch_still_completes(cluster, tmp_path):
    w1 = next(n for n in cluster.nodes if n.name == "w1")
    w1_logs = cluster.temp_dir / "logs-w1"
    started_before = log_events(w1_logs, "render_start")  # earlier tests rendered there too
    done_before = log_events(w1_logs, "render_done")
    topics = topics_file(tmp_path, ["Pythagorean theorem"])
    cmd = [*C2V, "batch", str(topics), "-o", str(tmp_path / "out"), "--folder-prefix", "node"]
    cmd += ["--sandbox", "bwrap", "--log-json"]
    err_path = tmp_path / "driver.err"
    with err_path.open("w") as err_file:
        proc = subprocess.Popen(cmd, env=driver_env(cluster), stdout=subprocess.DEVNULL, stderr=err_file)
    try:
        deadline = time.monotonic() + 400
        while log_events(w1_logs, "render_start") - started_before < 1:  # a render runs on w1
            assert proc.poll() is None, err_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "no render started on the worker node"
            time.sleep(0.2)
        in_flight = (log_events(w1_logs, "render_start") - started_before) - (
            log_events(w1_logs, "render_done") - done_before
        )
        assert in_flight >= 1, "a render is running on the node about to die"
        killed = w1.kill()
        assert killed, "the worker node had processes to kill"
        cluster.wait_dead(w1)
        w2_logs = cluster.temp_dir / "logs-w2"
        cluster.add_worker("w2", 2, '{"c2v_render": 2}', C2V_LOG_DIR=str(w2_logs))
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err_path.read_text()[-3000:]
    record = batch_record(tmp_path / "out" / "node")["topics"][0]
    assert record["status"] == "ok" and record["sections_ok"] == record["sections_total"] >= 4
    assert probe_video(tmp_path / "out" / "node" / record["video"]) is not None
    assert log_events(w2_logs, "render_done") >= 1, "the lost render ran again on the new node"
