"""The bundled Chinese topic end to end, offline, in portrait (re-rendering a case in the other
orientation is tested in test_end_to_end.py)."""

import json

import pytest

from c2v.media.probe import probe_video

pytestmark = [pytest.mark.integration, pytest.mark.ray]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    from tests.conftest import run_c2v

    out = tmp_path_factory.mktemp("zh")
    proc = run_c2v("generate", "--knowledge_point", "勾股定理", "--portrait", "-o", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out / "c2v" / "勾股定理"


def test_portrait_video_with_a_readable_folder_name(case):
    assert case.name == "勾股定理"
    info = probe_video(case / "video.mp4")
    assert (info.width, info.height, round(info.fps)) == (480, 854, 15)
    m = json.loads((case / "manifest.json").read_text())
    assert m["orientation"] == "portrait" and len(m["sections"]) == 5


def test_chinese_text_everywhere_and_no_layout_errors(case):
    board = json.loads((case / "storyboard.json").read_text())
    for section in board["sections"]:
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in line) for line in section["lecture_lines"])
    m = json.loads((case / "manifest.json").read_text())
    for s in m["sections"]:
        errors = [i for i in s["layout_issues"] if i["severity"] == "error"]
        assert errors == [], (s["id"], errors)  # includes missing_glyphs: no tofu


def test_mandarin_narration_with_subtitles_broken_between_characters(case):
    import pysubs2

    from c2v.subtitles import PORTRAIT_CELLS, width

    m = json.loads((case / "manifest.json").read_text())
    assert m["speech"]["voices"] == ["cmn"]
    cues = pysubs2.load(str(case / "video.srt"))
    board = json.loads((case / "storyboard.json").read_text())
    assert len(cues) >= sum(len(s["narration"]) for s in board["sections"])
    lines = [line for cue in cues for line in cue.plaintext.splitlines()]
    assert all(width(line) <= PORTRAIT_CELLS for line in lines)
    assert any(len(cue.plaintext.splitlines()) == 2 and " " not in cue.plaintext for cue in cues)
