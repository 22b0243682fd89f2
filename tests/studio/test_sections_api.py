"""The studio's read-only v1 routes on the real API app and store, over a case folder on disk."""

import io
import json

import pytest
from PIL import Image

from c2v.case import CaseDir
from c2v.models import (
    AttemptKind,
    AttemptRecord,
    IssueSeverity,
    LayoutIssue,
    RenderResult,
    RenderStatus,
    Storyboard,
    StoryboardSection,
)
from c2v.store import keys, videos
from c2v.store.schema import VideoStatus
from tests.eval_cases import tiny_video
from tests.service.test_api import key_for, service, submit  # noqa: F401  (the fixture)

OVERLAP = LayoutIssue(
    rule="overlap",
    severity=IssueSeverity.error,
    message="title overlaps the array",
    objects=["title", "array"],
    anchors=["B2", "C3"],
    line=12,
    animation=2,
)


def board() -> Storyboard:
    return Storyboard(
        topic="Binary search",
        sections=[
            StoryboardSection(id=sid, title=f"Part {sid}", lecture_lines=["a line"], animations=["show it"])
            for sid in ("1", "2")
        ],
    )


def rendered(case: CaseDir, key: str, section: str, issues=(), frames=30) -> None:
    tiny_video(case.render_video(key), frames=frames, size=(160, 90))
    result = RenderResult(
        status=RenderStatus.ok,
        section_id=section,
        video_duration_s=frames / 10,
        keyframe_times=[1.0, 2.0, frames / 10],
        layout_issues=list(issues),
    )
    case.render_dir(key).joinpath("result.json").write_text(result.model_dump_json())


def attempt(case: CaseDir, section: str, n: int, kind: AttemptKind, key: str, status=RenderStatus.ok):
    path = case.save_code(section, n, f"# {kind.value} of section {section}\nclass S: pass\n")
    return AttemptRecord(n=n, kind=kind, code=case.rel(path), status=status, render_key=key)


@pytest.fixture
def running(service, tmp_path):  # noqa: F811
    """A running video whose section 1 rendered twice (a person's note) and section 2 is rendering."""
    headers = key_for(service)
    vid = submit(service, headers).json()["id"]
    assert videos.claim_queued(service.db, 5, "r") == [vid]
    case = CaseDir.create(tmp_path / "videos" / vid / "binary-search")
    case.storyboard.write_text(board().model_dump_json())
    rendered(case, "aaaa1111bbbb2222cccc", "1", [OVERLAP])
    rendered(case, "dddd3333eeee4444ffff", "1")
    history = [
        attempt(case, "1", 1, AttemptKind.generate, "aaaa1111bbbb2222cccc"),
        attempt(case, "1", 2, AttemptKind.note, "dddd3333eeee4444ffff"),
    ]
    case.save_history("1", history)
    case.save_code("2", 1, "# section 2, rendering\n")
    videos.set_case(service.db, vid, str(case.root))
    videos.set_sections(
        service.db,
        vid,
        [
            {"id": "1", "title": "", "status": "ok", "attempts": 2},
            {"id": "2", "title": "", "status": "l", "attempts": 1},
        ],
    )
    return service, headers, vid


def test_sections_show_versions_findings_boxes_code_and_progress(running):
    client, headers, vid = running
    answer = client.get(f"/v1/videos/{vid}/sections", headers=headers)
    assert answer.status_code == 200
    page = answer.json()
    one, two = page["sections"]
    assert (one["id"], one["title"], one["status"], one["attempts"]) == ("1", "Part 1", "ok", 2)
    assert [(v["attempt"], v["kind"]) for v in one["versions"]] == [(1, "generate"), (2, "note")]
    before, after = one["versions"]
    assert before["code"].startswith("# generate of section 1") and after["code"].startswith("# note")
    assert before["animations"] == 3 and after["findings"] == []
    (finding,) = before["findings"]
    assert (finding["rule"], finding["severity"], finding["line"], finding["animation"]) == (
        "overlap",
        "error",
        12,
        2,
    )
    box = finding["box"]
    assert 0 <= box["x0"] < box["x1"] <= 1 and 0 <= box["y0"] < box["y1"] <= 1
    # Section 2 has not rendered: its code is the attempt being rendered, and it has no version.
    assert two["versions"] == [] and two["code"] == "# section 2, rendering\n" and two["title"] == "Part 2"
    assert one["code"] == after["code"]


def test_a_finished_video_shows_the_code_in_its_history_not_a_reverted_attempt(running, tmp_path):
    client, headers, vid = running
    case = CaseDir(tmp_path / "videos" / vid / "binary-search")
    case.save_code("1", 3, "# a revision that was reverted\n")
    assert (
        client.get(f"/v1/videos/{vid}/sections", headers=headers)
        .json()["sections"][0]["code"]
        .startswith("# a revision")
    )  # while it runs, the attempt on disk is the one being rendered
    videos.finish(client.db, vid, videos.Outcome(status=VideoStatus.succeeded))
    one = client.get(f"/v1/videos/{vid}/sections", headers=headers).json()["sections"][0]
    assert one["code"].startswith("# note of section 1")


def test_keyframes_are_served_for_the_sections_own_renders_only(running, service):  # noqa: F811
    _, headers, vid = running
    page = service.get(f"/v1/videos/{vid}/sections", headers=headers).json()
    url = page["sections"][0]["versions"][0]["keyframe_url"]
    answer = service.get(url, headers=headers)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    img = Image.open(io.BytesIO(answer.content))
    assert img.size == (160, 90)
    # The last frame is the fullest bar of the tiny video; animation 1's is a shorter one.
    early = Image.open(io.BytesIO(service.get(url + "&animation=1", headers=headers).content))
    assert early.convert("L").getpixel((120, 45)) < img.convert("L").getpixel((120, 45))
    wrong_section = url.replace("/sections/1/", "/sections/2/")
    assert service.get(wrong_section, headers=headers).status_code == 404
    unknown = url.split("render=")[0] + "render=0123456789abcdef0123"
    assert service.get(unknown, headers=headers).status_code == 404
    assert service.get(url.split("render=")[0] + "render=../../x", headers=headers).status_code == 422
    other = key_for(service, "globex")
    assert service.get(url, headers=other).status_code == 404
    assert service.get(f"/v1/videos/{vid}/sections", headers=other).status_code == 404
    assert service.get(url).status_code == 401


def test_a_video_before_its_case_exists_has_no_sections(service):  # noqa: F811
    headers = key_for(service)
    vid = submit(service, headers).json()["id"]
    page = service.get(f"/v1/videos/{vid}/sections", headers=headers).json()
    assert page == {"video_id": vid, "orientation": "landscape", "sections": []}


def test_providers_list_what_the_server_can_use_and_no_key(service, tmp_path, monkeypatch):  # noqa: F811
    config = tmp_path / "api_config.json"
    config.write_text(
        json.dumps(
            {
                "local": {
                    "provider": "openai-compatible",
                    "base_url": "http://127.0.0.1:9/v1",
                    "model": "m1",
                },
                "gemini": {"api_key": "k-secret-123", "model": "gemini-2.5-flash"},
            }
        )
    )
    service.settings.api_config = config
    _, key = keys.create_key(service.db, "acme")
    answer = service.get("/v1/providers", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200
    listed = answer.json()
    names = [p["name"] for p in listed["providers"]]
    assert listed["default"] == "offline" and "offline" in names
    assert "local" in names and "gemini" in names
    assert "claude" not in names  # no key for it on this server
    assert "k-secret-123" not in answer.text
    assert {p["name"]: p["model"] for p in listed["providers"]}["local"] == "m1"
    assert service.get("/v1/providers").status_code == 401
