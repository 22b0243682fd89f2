"""The command line with real providers: configuration errors, `c2v doctor`, a rejected key.

Configuration errors stop before Ray starts (fast). The doctor and the rejected-key run
start Ray and are marked ``ray``; their providers are local fake servers.
"""

from __future__ import annotations

import json

import pytest

from c2v.app.doctor import FAIL, OK, _provider_row
from tests.llm_fakes import FakeProvider, Recorded, Reply, openai_error

SECRET = "sk-cli-SECRET-5e1f0a9b8c7d6e5f"
NO_KEYS = {
    var: ""
    for var in (
        "GEMINI_API_KEY",
        "GOOGLE_API_KEY",
        "GOOGLE_AI_STUDIO_API_KEY",
        "OPENAI_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_ENDPOINT",
        "ANTHROPIC_API_KEY",
        "C2V_API_CONFIG",
    )
}


def one_line(proc, code: int) -> str:
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def compat_config(tmp_path, url: str):
    path = tmp_path / "api_config.json"
    path.write_text(
        json.dumps({"openai-compatible": {"base_url": url + "/v1", "api_key": SECRET, "model": "m1"}})
    )
    return path


def models_or(status: int):
    def respond(rec: Recorded) -> Reply:
        if status != 200:
            return Reply(status, openai_error(status, f"Incorrect API key provided: {SECRET}"))
        return Reply(
            body={"object": "list", "data": [{"id": "m1", "object": "model", "created": 0, "owned_by": "me"}]}
        )

    return respond


def test_a_provider_without_a_key_stops_before_anything_runs(c2v, tmp_path):
    out = str(tmp_path / "out")
    proc = c2v("generate", "Pythagorean theorem", "--api", "gemini", "-o", out, cwd=tmp_path, env=NO_KEYS)
    line = one_line(proc, 2)
    assert "provider 'gemini' has no API key: set GEMINI_API_KEY" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [("{broken", "is not valid JSON at line 1"), ('{"gemini": {"api_kee": "x"}}', "api_kee: Extra inputs")],
)
def test_a_bad_api_config_is_one_line_and_exit_2(c2v, tmp_path, content, needle):
    path = tmp_path / "api_config.json"
    path.write_text(content)
    proc = c2v("generate", "Pythagorean theorem", "--api", "gemini", "--api-config", str(path), env=NO_KEYS)
    assert needle in one_line(proc, 2)


def test_a_missing_api_config_is_one_line_and_exit_2(c2v, tmp_path):
    proc = c2v("generate", "Linear algebra", "--API", "claude", "--api_config", str(tmp_path / "nope.json"))
    assert "does not exist" in one_line(proc, 2)


def test_doctor_provider_row_answers_and_fails_cleanly(tmp_path):
    with FakeProvider(responder=models_or(200)) as server:
        config = compat_config(tmp_path, server.url)
        row = _provider_row("openai-compatible", "openai-compatible", config, 2.0)
        assert row.status == OK and "key accepted" in row.detail and row.key.startswith("present (")
        server.responder = models_or(401)
        row = _provider_row("openai-compatible", "openai-compatible", config, 2.0)
        assert row.status == FAIL and row.blocking and "rejected (HTTP 401)" in row.detail
        assert SECRET not in row.detail and SECRET not in row.key
        other = _provider_row("openai-compatible", "offline", config, 2.0)
        assert not other.blocking


@pytest.mark.ray
def test_doctor_exit_code_follows_the_selected_provider(c2v, tmp_path):
    with FakeProvider(responder=models_or(200)) as server:
        config = compat_config(tmp_path, server.url)
        args = ("doctor", "--api", "openai-compatible", "--api-config", str(config), "--timeout", "3")
        ok = c2v(*args, env={**NO_KEYS, "COLUMNS": "200"})
        assert ok.returncode == 0, ok.stdout + ok.stderr
        for needle in (
            "openai-compatible (selected)",
            "Manim",
            "LaTeX",
            "ffmpeg",
            "PyAV",
            "bubblewrap",
            "Ray",
        ):
            assert needle in ok.stdout, needle
        server.responder = models_or(401)
        bad = c2v(*args, env={**NO_KEYS, "COLUMNS": "200"})
        assert bad.returncode == 1 and "not ready: openai-compatible (selected)" in bad.stdout
        assert SECRET not in bad.stdout + bad.stderr + ok.stdout + ok.stderr


@pytest.mark.ray
def test_a_rejected_key_ends_the_run_with_one_line_and_no_key(c2v, tmp_path):
    with FakeProvider(responder=models_or(401)) as server:
        config = compat_config(tmp_path, server.url)
        out = tmp_path / "out"
        proc = c2v(
            "generate", "Pythagorean theorem", "--api", "openai-compatible", "--api-config", str(config),
            "-o", str(out), env=NO_KEYS,
        )  # fmt: skip
        line = one_line(proc, 1)
        assert line.startswith("c2v: error: openai-compatible (m1): the API key was rejected (HTTP 401)")
        assert SECRET not in proc.stdout + proc.stderr
        assert len(server.requests) == 1
        for path in out.rglob("*"):
            assert not path.is_file() or SECRET.encode() not in path.read_bytes()
