"""`c2v submit` bookkeeping against a scripted job server: submit once, attach after, token lookup."""

from types import SimpleNamespace

import pytest

from c2v.errors import ClusterError, ConfigError
from cluster import jobs
from cluster.jobs import JobState


class FakeJobServer:
    """The JobSubmissionClient calls c2v makes, with Ray's 404 and duplicate-id errors."""

    def __init__(self, existing=None):
        self.jobs = dict(existing or {})
        self.submitted = []
        self.logs = {}

    def get_job_info(self, job_id):
        if job_id not in self.jobs:
            raise RuntimeError(f"Request failed with status code 404: Job {job_id} does not exist.")
        return SimpleNamespace(status=self.jobs[job_id])

    def submit_job(self, *, entrypoint, submission_id, runtime_env):
        if submission_id in self.jobs:
            raise RuntimeError(
                f"Request failed with status code 400: Job with submission_id {submission_id} already exists."
            )
        self.submitted.append((submission_id, entrypoint, runtime_env))
        self.jobs[submission_id] = "PENDING"
        return submission_id

    def get_job_logs(self, job_id):
        return self.logs.get(job_id, "")


def test_absent_job_is_submitted_once_then_attached():
    server = FakeJobServer()
    first = jobs.submit_or_attach(server, "c2v-b", "python -m c2v batch t.json", {"working_dir": "."})
    assert first.submitted and first.submission_id == "c2v-b"
    server.jobs["c2v-b"] = "RUNNING"
    again = jobs.submit_or_attach(server, "c2v-b", "python -m c2v batch t.json", {"working_dir": "."})
    assert not again.submitted and again.state is JobState.running
    server.jobs["c2v-b"] = "SUCCEEDED"
    done = jobs.submit_or_attach(server, "c2v-b", "x", {})
    assert not done.submitted and done.state is JobState.succeeded
    assert len(server.submitted) == 1


def test_failed_job_gets_a_new_attempt_id_unless_told_not_to():
    server = FakeJobServer({"c2v-b": "FAILED", "c2v-b-r2": "STOPPED"})
    kept = jobs.submit_or_attach(server, "c2v-b", "x", {}, retry_failed=False)
    assert not kept.submitted and kept.state is JobState.failed
    retry = jobs.submit_or_attach(server, "c2v-b", "x", {})
    assert retry.submitted and retry.submission_id == "c2v-b-r3"


def test_losing_the_race_for_an_id_attaches():
    server = FakeJobServer()
    real_info = server.get_job_info
    calls = []

    def racing_info(job_id):
        calls.append(job_id)
        if len(calls) == 1:  # looked absent, then another submitter took the id
            server.jobs[job_id] = "RUNNING"
            raise RuntimeError("Request failed with status code 404: not found")
        return real_info(job_id)

    server.get_job_info = racing_info
    found = jobs.submit_or_attach(server, "c2v-b", "x", {})
    assert not found.submitted and found.state is JobState.running and server.submitted == []


def test_other_server_errors_are_cluster_errors():
    server = FakeJobServer()
    server.get_job_info = lambda job_id: (_ for _ in ()).throw(RuntimeError("status code 500: boom"))
    with pytest.raises(ClusterError, match="500"):
        jobs.submit_or_attach(server, "c2v-b", "x", {})


def test_follow_polls_logs_until_the_job_ends():
    server = FakeJobServer({"j": "RUNNING"})
    server.logs["j"] = "line 1\n"
    out = []

    def write(text):
        out.append(text)
        server.logs["j"] += "line 2\n"
        server.jobs["j"] = "SUCCEEDED"

    assert jobs.follow(server, "j", write, poll_s=0.01) is JobState.succeeded
    assert "".join(out) == "line 1\nline 2\n"


def test_terminal_states():
    assert JobState.failed.is_terminal() and not JobState.running.is_terminal()
    assert JobState.succeeded.is_live_or_done() and not JobState.stopped.is_live_or_done()


def test_token_lookup_follows_rays_order(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert jobs.auth_token({}) is None
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("from-home\n")
    assert jobs.auth_token({}) == "from-home"
    named = tmp_path / "tok"
    named.write_text("from-path")
    assert jobs.auth_token({"RAY_AUTH_TOKEN_PATH": str(named)}) == "from-path"
    assert jobs.auth_token({"RAY_AUTH_TOKEN": "from-env", "RAY_AUTH_TOKEN_PATH": str(named)}) == "from-env"
    assert jobs.auth_token({"RAY_AUTH_MODE": "disabled", "RAY_AUTH_TOKEN": "x"}) is None
    assert jobs.auth_headers({"RAY_AUTH_TOKEN": "abc"}) == {"Authorization": "Bearer abc"}


def test_token_mode_without_a_token_says_where_to_put_one(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="ray get-auth-token"):
        jobs.auth_token({"RAY_AUTH_MODE": "token"})
    with pytest.raises(ConfigError, match="RAY_AUTH_TOKEN_PATH"):
        jobs.auth_token({"RAY_AUTH_TOKEN_PATH": str(tmp_path / "missing")})


def test_entrypoint_and_batch_options():
    entry = jobs.batch_entrypoint("my topics.json", ["-o", "/data/out", "--parallel-groups", "2"])
    assert entry == "python -m c2v batch 'my topics.json' -o /data/out --parallel-groups 2"
    args = ["--folder_prefix", "A", "--batch-id=B", "--folder-prefix", "C"]
    assert jobs.option_value(args, "--folder-prefix", "--folder_prefix") == "C"
    assert jobs.option_value(args, "--batch-id", "--batch_id") == "B"
    assert jobs.option_value(args, "--storage") is None
    assert jobs.parse_env_pairs(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(ConfigError):
        jobs.parse_env_pairs(["novalue"])


def test_submit_checks_the_topics_file_before_connecting(c2v, tmp_path):
    proc = c2v("submit", "--address", "http://127.0.0.1:9", "--working-dir", str(tmp_path), "topics.json")
    assert proc.returncode == 2 and "not in the uploaded working dir" in proc.stderr


def test_submit_to_no_cluster_is_one_clean_line(c2v, tmp_path):
    (tmp_path / "topics.json").write_text('["Binary search"]')
    proc = c2v("submit", "--address", "http://127.0.0.1:9", "--working-dir", str(tmp_path), "topics.json")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "cannot reach the Ray job server" in proc.stderr
