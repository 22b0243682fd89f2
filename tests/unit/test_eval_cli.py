"""`c2v eval ...` and `c2v report` as a user runs them: real command line, real SDK, fake judge."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_c2v
from tests.eval_cases import write_case
from tests.llm_fakes import FakeProvider
from tests.vlm_fakes import ScriptedJudge

MMMC = Path(__file__).resolve().parents[2] / ".." / "shared" / "mmmc" / "teachquiz_questions.json"
TOPIC = "Euler's formula e^{iπ}"


@pytest.fixture
def case(tmp_path) -> Path:
    return write_case(tmp_path / "batch" / "euler", TOPIC)


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "api_config.json"
    path.write_text(
        json.dumps({"gemini": {"base_url": url, "api_key": "test-key-5678", "model": "gemini-2.5-flash"}})
    )
    return path


def test_teachquiz_then_report_from_the_command_line(case, tmp_path):
    questions = json.loads(MMMC.read_text(encoding="utf-8"))
    judge = ScriptedJudge(questions)
    batch = case.parent
    with FakeProvider(responder=judge) as fake:
        args = ["eval", "teachquiz", str(batch), "--questions", str(MMMC), "--api", "gemini"]
        proc = run_c2v(*args, "--api-config", str(_config(tmp_path, fake.url)), "--permutations", "2")
        assert proc.returncode == 0, proc.stderr
        assert len(fake.requests) == 5 * 3 * 2
        again = run_c2v(*args, "--api-config", str(_config(tmp_path, fake.url)), "--permutations", "2")
        assert again.returncode == 0, again.stderr
        assert len(fake.requests) == 30  # the rerun read every answer from the journal
    assert "judge:    0 calls, 30 reused" in again.stdout
    assert re.search(r"teachquiz: 1 topics, gain \+0\.0 points \(plain 100\.0%", proc.stdout)
    result = json.loads((batch / "eval" / "teachquiz.json").read_text())
    assert len(result["records"]) == 30
    assert (result["judge"]["calls"], result["judge"]["reused"]) == (0, 30)  # as the rerun wrote it
    summary = (batch / "eval" / "summary.md").read_text()
    assert "## TeachQuiz" in summary and TOPIC in summary
    assert "test-key-5678" not in summary + json.dumps(result)

    eff = run_c2v("eval", "efficiency", str(batch))
    assert eff.returncode == 0, eff.stderr
    report = run_c2v("report", str(batch))
    assert report.returncode == 0, report.stderr
    html = (batch / "report.html").read_text()
    assert "TeachQuiz" in html and "data:image/svg+xml;base64," in html and "data:image/jpeg;base64," in html
    assert 'href="euler/video.mp4"' in html
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing fetched from a network


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "teachquiz", "{batch}", "--questions", "{missing}", "--api", "gemini"], "does not exist"),
        (["eval", "aes", "{batch}", "--api", "offline"], "cannot judge"),
        (["eval", "efficiency", "{empty}"], "holds no c2v case"),
        (["report", "{empty}"], "holds no c2v case"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(case, tmp_path, args, message):
    (tmp_path / "empty").mkdir()
    values = {
        "batch": str(case.parent),
        "missing": str(tmp_path / "nope.json"),
        "empty": str(tmp_path / "empty"),
    }
    proc = run_c2v(*[a.format(**values) for a in args], env={"GEMINI_API_KEY": "test-key-0000"})
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
