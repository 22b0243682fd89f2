import shutil
from pathlib import Path

import pytest

from c2v.case import CallRecord, CaseDir
from c2v.core.fsio import write_text_atomic
from c2v.errors import OutputDirError
from c2v.llm.base import CallTag, LLMReply
from c2v.models import RenderResult, RenderStatus, TokenUsage
from c2v.tokens import token_totals


def reply(i, o):
    return LLMReply(text="x", usage=TokenUsage(input=i, output=o), provider="p", model="m")


def test_call_journal_round_trip_and_keys(tmp_path):
    case = CaseDir.create(tmp_path / "c")
    tag = CallTag(agent="coder", stage="code", topic="T", section="2")
    key = case.call_key(tag, {"a": 1})
    assert key.startswith("coder.code.2-")
    assert key != case.call_key(tag, {"a": 2})
    assert case.load_call(key) is None
    case.save_call(CallRecord(key=key, tag=tag, payload="code", replies=[reply(3, 4)]))
    assert case.load_call(key).payload == "code"


def test_corrupt_journal_entry_is_ignored(tmp_path):
    case = CaseDir.create(tmp_path / "c")
    write_text_atomic(case.root / "calls" / "k.json", "{not json")
    assert case.load_call("k") is None


def test_render_cache_never_names_a_missing_video(tmp_path):
    case = CaseDir.create(tmp_path / "c")
    ok = RenderResult(status=RenderStatus.ok, section_id="1")
    case.save_render("k1", ok, b"video-bytes")
    assert case.load_render("k1") is not None
    (case.render_dir("k1") / "video.mp4").unlink()
    assert case.load_render("k1") is None


def test_transient_failures_are_not_cached(tmp_path):
    case = CaseDir.create(tmp_path / "c")
    case.save_render("k", RenderResult(status=RenderStatus.infra_error, section_id="1"), None)
    assert case.load_render("k") is None
    case.save_render("k", RenderResult(status=RenderStatus.code_error, section_id="1"), None)
    assert case.load_render("k").status is RenderStatus.code_error


def test_unusable_output_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputDirError, match="cannot create"):
        CaseDir.create(blocker / "case")


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    write_text_atomic(target, "old")

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        write_text_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_token_totals_by_agent_and_stage():
    calls = [
        CallRecord(
            key="a",
            tag=CallTag(agent="planner", stage="outline", topic="T"),
            payload="",
            replies=[reply(1, 2)],
        ),
        CallRecord(
            key="b",
            tag=CallTag(agent="coder", stage="code", topic="T"),
            payload="",
            replies=[reply(3, 4), reply(5, 6)],
        ),
    ]
    totals = token_totals(calls)
    assert (totals.input, totals.output, totals.total) == (9, 12, 21)
    assert totals.by_agent["coder"].input == 8
    assert totals.by_stage["planner.outline"].output == 2


def test_path_is_a_path():
    assert isinstance(CaseDir(Path("/x")).video, Path)


def test_one_run_per_case_and_stale_partials_swept(tmp_path):
    from c2v.errors import CaseBusyError

    root = tmp_path / "c"
    first = CaseDir.create(root)
    (root / "calls").mkdir()
    stale = root / "calls" / ".x.json.abc.part"
    stale.write_text("half")
    first.lock()
    assert not stale.exists()
    with pytest.raises(CaseBusyError, match="in use"):
        CaseDir.create(root).lock()


def _board():
    from c2v.models import Storyboard, StoryboardSection

    sections = [
        StoryboardSection(id=i, title=f"t{i}", lecture_lines=["a line"], animations=["x"]) for i in ("1", "2")
    ]
    return Storyboard(topic="T", sections=sections)


def test_reads_say_none_before_a_record_exists_and_name_a_broken_one(tmp_path):
    from c2v.errors import CaseFileError

    case = CaseDir.create(tmp_path / "c")
    assert case.read_manifest() is None and case.read_storyboard() is None
    assert not case.is_started()
    write_text_atomic(case.storyboard, _board().model_dump_json())
    assert case.is_started()
    assert [s.id for s in case.read_storyboard().sections] == ["1", "2"]
    write_text_atomic(case.manifest, '{"topic": "T"}')
    with pytest.raises(CaseFileError, match=r"manifest.json is not a c2v manifest \(\d+ errors\)") as info:
        case.read_manifest()
    assert info.value.name == "manifest.json" and info.value.path == case.manifest
    assert CaseDir(tmp_path / "c" / "storyboard.json").read_manifest() is None  # a file, not a folder


def test_frozen_code_lists_only_sections_that_rendered(tmp_path):
    case = CaseDir.create(tmp_path / "c")
    case.save_final("2", "print(2)\n")
    assert not case.has_final("1") and case.has_final("2")
    assert case.frozen_code(_board()) == {"2": "print(2)\n"}


def test_a_named_file_outside_the_case_is_refused(tmp_path):
    case = CaseDir.create(tmp_path / "c")
    assert case.path("renders/k/video.mp4") == case.root / "renders" / "k" / "video.mp4"
    assert case.resolved("renders/k/video.mp4") == (case.root / "renders/k/video.mp4").resolve()
    assert case.resolved("../other/video.mp4") is None
    (case.root / "link").symlink_to(tmp_path)
    assert case.resolved("link/x.mp4") is None


def test_a_case_whose_renders_are_a_shared_cache_reaches_into_that_cache_only(tmp_path):
    cache = tmp_path / "render-cache"
    (cache / "k").mkdir(parents=True)
    (cache / "k" / "video.mp4").write_bytes(b"v")
    case = CaseDir.create(tmp_path / "c")
    shutil.rmtree(case.root / "renders", ignore_errors=True)
    (case.root / "renders").symlink_to(cache, target_is_directory=True)
    assert case.resolved("renders/k/video.mp4") == (cache / "k" / "video.mp4").resolve()
    assert case.resolved("renders/../../secret") is None  # out of the cache again
    assert case.resolved("renders") is None  # the cache itself is no file of this case
    (cache / "k" / "escape").symlink_to(tmp_path)
    assert case.resolved("renders/k/escape/elsewhere.mp4") is None
    (case.root / "link").symlink_to(cache)
    assert case.resolved("link/k/video.mp4") is None  # only renders/ may lead into the cache
