"""Batches without Ray: the topics file, batch.json / batch.md, resume and publish bookkeeping."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from c2v.batch.report import (
    BATCH_JSON,
    BATCH_MD,
    BatchReport,
    TopicRecord,
    TopicState,
    load_report,
    markdown,
    write_report,
)
from c2v.batch.runner import BatchRunner, finished_manifest
from c2v.batch.status import status_text
from c2v.batch.topics import default_batch_id, load_topics, select_topics
from c2v.case import CaseDir
from c2v.config import RunConfig
from c2v.core.fsio import write_model_atomic
from c2v.core.tiers import Orientation, Tier
from c2v.errors import CaseBusyError, LLMUnavailable, SectionsFailed, UsageError
from c2v.models import (
    Manifest,
    RunCounters,
    SectionRecord,
    SectionStatus,
    Timings,
    TokenTotals,
)

ROOT = Path(__file__).resolve().parents[2]
MMMC = ROOT.parent / "shared" / "mmmc" / "topics.json"


# --- the topics file ---------------------------------------------------------------------
def write(tmp_path, data, name="topics.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.skipif(not MMMC.is_file(), reason="the MMMC topics file is not next to the project")
def test_mmmc_topics_file_loads_every_topic():
    topics = load_topics(MMMC)
    assert len(topics) == len(json.loads(MMMC.read_text(encoding="utf-8"))) == 117
    assert topics[0] == "Euler's Formula and e^(πi) = -1"


def test_topic_lists_objects_and_wrapped_lists(tmp_path):
    assert load_topics(write(tmp_path, ["A", "  B  c "])) == ["A", "B c"]
    assert load_topics(write(tmp_path, [{"topic": "A"}, {"knowledge_point": "勾股定理"}])) == [
        "A",
        "勾股定理",
    ]
    assert load_topics(write(tmp_path, {"topics": ["A", "B"]})) == ["A", "B"]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON"),
        ({"a": 1}, "must hold a JSON list"),
        ([], "lists no topics"),
        (["ok", 3], "entry 2 is not a topic"),
        (["ok", "   "], "entry 2: topic is empty"),
    ],
)
def test_bad_topics_files_are_usage_errors(tmp_path, content, needle):
    with pytest.raises(UsageError, match=needle):
        load_topics(write(tmp_path, content))


def test_missing_topics_file(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_topics(tmp_path / "nope.json")


def test_max_concepts_minus_one_keeps_every_topic_including_the_last():
    topics = ["a", "b", "c"]
    assert select_topics(topics, -1) == ["a", "b", "c"]  # Code2Video's [:-1] would drop "c"
    assert select_topics(topics, 2) == ["a", "b"]
    assert select_topics(topics, 10) == ["a", "b", "c"]
    with pytest.raises(UsageError, match="no topic"):
        select_topics(topics, 0)


def test_topics_with_the_same_folder_run_once():
    chosen = select_topics(["Binary search", "binary  search", "Binary-search", "勾股定理"], -1)
    assert chosen == ["Binary search", "勾股定理"]


def test_default_batch_id_is_stable_and_ignores_the_folder(tmp_path):
    a = default_batch_id(Path("/x/y/MMMC topics.json"), "TEST-LIST")
    b = default_batch_id(Path("/tmp/ray/job_123/MMMC topics.json"), "TEST-LIST")
    assert a == b == "TEST-LIST-MMMC-topics"
    assert default_batch_id(Path("勾股.json"), "c2v") == "c2v-topics"


# --- batch.json and batch.md -------------------------------------------------------------
def manifest(topic, slug, ok=2, failed=0, video="video.mp4", tier=Tier.l, counters=None):
    sections = [
        SectionRecord(id=str(n), title=f"S{n}", status=SectionStatus.ok, attempts=1) for n in range(1, ok + 1)
    ] + [
        SectionRecord(id=str(n), title=f"S{n}", status=SectionStatus.failed, attempts=3)
        for n in range(ok + 1, ok + failed + 1)
    ]
    return Manifest(
        topic=topic,
        slug=slug,
        provider="offline",
        model="offline-transcript",
        tier=tier,
        orientation=Orientation.landscape,
        width=854,
        height=480,
        fps=15,
        sections=sections,
        missing_sections=[s.id for s in sections if s.status is SectionStatus.failed],
        tokens=TokenTotals(input=10, output=5, total=15),
        timings_s=Timings(total=12.5),
        this_run=counters or RunCounters(llm_calls=3, renders=2),
        video=video,
        manim_version="0.22.0",
        c2v_version="0.1.0",
        created_at="2026-01-01T00:00:00+00:00",
    )


def report(**kw):
    base = dict(
        batch_id="c2v-t",
        topics_file="t.json",
        folder_prefix="c2v",
        api="offline",
        tier="l",
        orientation="landscape",
        parallel_groups=2,
    )
    base.update(kw)
    return BatchReport(**base)


def test_record_from_manifest_and_markdown_table(tmp_path):
    rec = TopicRecord(index=1, topic="A | B", slug="a-b").with_manifest(manifest("A | B", "a-b", 2, 1), "a-b")
    assert (rec.sections_ok, rec.sections_total, rec.attempts, rec.tokens) == (2, 3, 5, 15)
    assert rec.video == "a-b/video.mp4" and rec.renders == 2
    r = report(topics=[rec.model_copy(update={"status": TopicState.failed, "error": "boom|bang"})])
    text = markdown(r)
    assert "| 1 | A \\| B | FAILED | 2/3 | 5 | 15 |" in text and "boom\\|bang" in text
    assert "0 ok, 1 failed" in text and r.failed()
    write_report(tmp_path, r)
    assert (tmp_path / BATCH_MD).read_text(encoding="utf-8") == text
    assert load_report(tmp_path) == r
    assert not list(tmp_path.glob(".*.part"))


def test_unreadable_batch_json_is_no_record(tmp_path):
    (tmp_path / BATCH_JSON).write_text("{}")
    assert load_report(tmp_path) is None


# --- the runner, with a scripted pipeline ------------------------------------------------
def configs(tmp_path, *topics, tier=Tier.l):
    return [RunConfig(topic=t, output_dir=tmp_path, folder_prefix="c2v", tier=tier) for t in topics]


class ScriptedPipeline:
    """Stands in for Pipeline.generate: writes a finished case, or fails as told."""

    def __init__(self, fail=None):
        self.fail = fail or {}
        self.ran = []

    def __call__(self, cfg, case, reporter):
        self.ran.append(cfg.topic)
        case.lock()  # the runner must have released nothing else holding it
        reporter.stage("planning")
        error = self.fail.get(cfg.topic)
        if isinstance(error, SectionsFailed):
            write_model_atomic(case.manifest, manifest(cfg.topic, case.root.name, 1, 1, video=None))
            raise error
        if error is not None:
            raise error
        (case.root / "video.mp4").write_bytes(b"mp4")
        m = manifest(cfg.topic, case.root.name, tier=cfg.tier)
        write_model_atomic(case.manifest, m)
        return m


class FakePublisher:
    def __init__(self, url="file:///pub"):
        self.url = url
        self.published = []

    def publish(self, case_root, slug):
        self.published.append(slug)
        return f"{self.url}/{slug}/video.mp4"


def run_batch(tmp_path, cfgs, gen, publisher=None, started=None):
    runner = BatchRunner(
        cfgs,
        report(),
        tmp_path / "c2v",
        parallel_groups=2,
        publisher=publisher,
        start_ray=(lambda: started.append(1)) if started is not None else None,
        generate=gen,
    )
    return runner.run()


def test_failed_topics_are_recorded_and_the_batch_goes_on(tmp_path):
    gen = ScriptedPipeline(
        fail={
            "B": SectionsFailed("1 section(s) never rendered"),
            "C": LLMUnavailable("HTTP 503 on every try"),
        }
    )
    rep = run_batch(tmp_path, configs(tmp_path, "A", "B", "C", "D"), gen)
    by = {t.topic: t for t in rep.topics}
    assert sorted(gen.ran) == ["A", "B", "C", "D"]
    assert [by[t].status for t in "ABCD"] == [
        TopicState.ok,
        TopicState.failed,
        TopicState.failed,
        TopicState.ok,
    ]
    assert by["B"].sections_ok == 1 and by["B"].sections_total == 2 and "never rendered" in by["B"].error
    assert "503" in by["C"].error and by["C"].sections_total == 0
    assert rep.finished and rep.failed()
    assert load_report(tmp_path / "c2v") == rep
    assert [t.index for t in rep.topics] == [1, 2, 3, 4]


def test_rerun_skips_finished_topics_and_retries_failed_ones(tmp_path):
    started = []
    first = ScriptedPipeline(fail={"B": LLMUnavailable("down")})
    run_batch(tmp_path, configs(tmp_path, "A", "B"), first, started=started)
    assert started == [1]
    second = ScriptedPipeline()
    rep = run_batch(tmp_path, configs(tmp_path, "A", "B"), second, started=started)
    assert second.ran == ["B"]
    a, b = rep.topics
    assert a.status is TopicState.ok and a.resumed and a.renders == 0 and a.llm_calls == 0
    assert b.status is TopicState.ok and not b.resumed and b.renders == 2
    third = ScriptedPipeline()
    run_batch(tmp_path, configs(tmp_path, "A", "B"), third, started=started)
    assert third.ran == [] and started == [1, 1], "nothing left to do: Ray is not even started"


def test_a_finished_case_at_another_tier_is_not_finished(tmp_path):
    run_batch(tmp_path, configs(tmp_path, "A"), ScriptedPipeline())
    cfg_h = configs(tmp_path, "A", tier=Tier.h)[0]
    assert finished_manifest(tmp_path / "c2v" / "a", cfg_h) is None
    again = ScriptedPipeline()
    run_batch(tmp_path, [cfg_h], again)
    assert again.ran == ["A"]


def test_publishing_happens_once_per_storage(tmp_path):
    pub = FakePublisher()
    rep = run_batch(tmp_path, configs(tmp_path, "A", "B"), ScriptedPipeline(), publisher=pub)
    assert sorted(pub.published) == ["a", "b"]
    assert rep.topics[0].link == "file:///pub/a/video.mp4" and rep.topics[0].published_to == pub.url
    gen = ScriptedPipeline()
    rep = run_batch(tmp_path, configs(tmp_path, "A", "B"), gen, publisher=pub)
    assert gen.ran == [] and sorted(pub.published) == ["a", "b"], "published topics are not published again"
    assert rep.topics[0].link == "file:///pub/a/video.mp4"
    other = FakePublisher("s3://bucket/p")
    rep = run_batch(tmp_path, configs(tmp_path, "A", "B"), gen, publisher=other)
    assert gen.ran == [] and sorted(other.published) == ["a", "b"], "finished, so only published"


def test_case_lock_is_released_between_topics(tmp_path):
    run_batch(tmp_path, configs(tmp_path, "A"), ScriptedPipeline())
    CaseDir.create(tmp_path / "c2v" / "a").lock()  # would raise CaseBusyError if still held


def test_status_of_a_batch_and_of_a_case(tmp_path):
    run_batch(tmp_path, configs(tmp_path, "A", "B"), ScriptedPipeline(fail={"B": LLMUnavailable("down")}))
    text = status_text(tmp_path / "c2v")
    assert "| 1 | A | ok |" in text and "| 2 | B | FAILED |" in text and "1 ok, 1 failed" in text
    case = status_text(tmp_path / "c2v" / "a")
    assert "A (a): 2/2 sections ok" in case and "| 1 | S1 | ok | 1 |" in case
    with pytest.raises(UsageError):
        status_text(tmp_path / "nowhere")
    with pytest.raises(UsageError):
        status_text(tmp_path)


# --- the case lock survives no SIGKILL ---------------------------------------------------
def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    holder = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from c2v.case import CaseDir
        CaseDir.create(Path({str(tmp_path / "case")!r})).lock()
        print("locked", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(CaseBusyError):
            CaseDir.create(tmp_path / "case").lock()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        case = CaseDir.create(tmp_path / "case")
        case.lock()  # the kernel dropped the dead process's flock
        case.unlock()
    finally:
        if proc.poll() is None:
            proc.kill()


# --- the command line --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "extra", "needle"),
    [
        ("{oops", [], "not valid JSON"),
        (["Binary search", "Quantum chromodynamics"], [], "no transcript for 'Quantum chromodynamics'"),
        (["Binary search"], ["--max-concepts", "0"], "selects no topic"),
        (["Binary search"], ["--batch-id", "../x"], "batch id"),
    ],
)
def test_batch_usage_errors_exit_2_before_anything_starts(c2v, tmp_path, content, extra, needle):
    topics = write(tmp_path, content)
    proc = c2v("batch", str(topics), "-o", str(tmp_path / "out"), *extra)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_batch_needs_a_topics_file(c2v, tmp_path):
    proc = c2v("batch", "-o", str(tmp_path / "out"))
    assert proc.returncode == 2 and "TOPICS_FILE" in proc.stderr
    proc = c2v("batch", str(tmp_path / "missing.json"), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_status_usage_error(c2v, tmp_path):
    proc = c2v("status", str(tmp_path))
    assert proc.returncode == 2 and "neither a c2v batch folder" in proc.stderr


def test_rich_batch_progress_rows(tmp_path):
    import io

    from rich.console import Console

    from c2v.core.progress import RichBatchReporter

    buf = io.StringIO()
    progress = RichBatchReporter(Console(file=buf, force_terminal=True, width=120))
    progress.start(total=2, already_done=1)
    row = progress.topic("a", "Topic A")
    row.stage("planning")
    row.sections(2)
    row.section("1", "rendering l")
    row.section("1", "ok", done=True)
    row.section("1", "ok", done=True)  # counted once
    row.close()
    progress.topic_done("a", "ok", "✓ Topic A: ok")
    progress.close()
    assert "✓ Topic A: ok" in buf.getvalue() and "2 ok, 0 failed, 0 running" in buf.getvalue()
