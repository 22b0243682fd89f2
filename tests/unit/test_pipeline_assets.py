"""Icons through the pipeline: resolved on the driver, told to the Coder, shipped as files, credited."""

from __future__ import annotations

import hashlib
import json

import pytest

from c2v.agents.storyboard import normalise_storyboard
from c2v.config import RunConfig
from c2v.errors import StorageError
from c2v.models import RenderAsset, RenderRequest, SectionStatus, Storyboard
from c2v.pipeline import case_dir_for
from c2v.pipeline.render_cache import verdict_key
from c2v.review.lint import lint_layout
from c2v.storage.base import plan_case
from c2v.testing import FakeSandbox, ScriptedLLM, outline_reply, pipeline_for, scene_reply, storyboard_reply

TOPIC = "Fake topic"


@pytest.fixture(autouse=True)
def offline_assets(tmp_path, monkeypatch):
    cache = tmp_path / "asset-cache"
    monkeypatch.setenv("C2V_ASSETS_OFFLINE", "1")
    monkeypatch.setenv("C2V_ASSETS_DIR", str(cache))
    return cache


def run(tmp_path, elements: dict[str, list[str]], n: int = 2, **kw: object):
    cfg = RunConfig(topic=TOPIC, output_dir=tmp_path / "cases", **kw)
    case = case_dir_for(cfg)
    replies = {
        "planner.outline": outline_reply(TOPIC, n),
        "planner.storyboard": storyboard_reply(TOPIC, n, elements=elements),
    }
    for i in range(1, n + 1):
        replies[f"coder.code.{i}"] = scene_reply(str(i))
    llm, sandbox = ScriptedLLM(replies), FakeSandbox()
    pipeline, _ = pipeline_for(cfg, case, llm, sandbox)
    try:
        manifest = pipeline.generate()
    finally:
        case.unlock()
    return manifest, llm, sandbox, case


def coder_prompt(llm: ScriptedLLM, section: str) -> str:
    request = next(r for r in llm.requests if r.tag.key == f"coder.code.{section}")
    return "\n".join(m.plain_text() for m in request.messages)


def test_a_resolved_icon_reaches_the_prompt_the_sandbox_and_the_credits(tmp_path, offline_assets):
    m, llm, sandbox, case = run(tmp_path, {"1": ["magnifying glass", "zzqx blorp"]})
    one = next(s for s in m.sections if s.id == "1")
    assert one.status is SectionStatus.ok and len(one.assets) == 1
    file = one.assets[0]
    assert file.startswith("magnifying-glass-") and file.endswith(".svg")
    # The Coder is told the exact file name and the helper; section 2 hears of no icon.
    assert f'"{file}"' in coder_prompt(llm, "1") and "self.place_image(" in coder_prompt(llm, "1")
    assert "place_image" not in coder_prompt(llm, "2")
    # The sandbox got exactly that file, with the bytes the manifest's hash names; nothing else.
    credit = next(a for a in m.assets if a.file == file)
    shipped = sandbox.assets[0]
    assert list(shipped) == [file]
    assert hashlib.sha256(shipped[file]).hexdigest() == credit.sha256
    assert sandbox.assets[1] == {}
    # The miss is noted on the section, and the section still rendered.
    assert [(n.element, n.reason) for n in one.asset_misses] == [("zzqx blorp", "not_found")]
    # Credited with source and licence; no host path in the manifest; ATTRIBUTION.md beside it.
    assert credit.source == "bundled" and credit.license.title and credit.attribution
    assert str(offline_assets) not in case.manifest.read_text(encoding="utf-8")
    attribution = (case.root / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert file in attribution and credit.license.title in attribution
    # A published case carries the credits.
    assert "ATTRIBUTION.md" in [f.name for f in plan_case(case.root).files]


def test_a_case_whose_credits_are_gone_is_not_published(tmp_path):
    _, _, _, case = run(tmp_path, {"1": ["coin"]}, n=1)
    (case.root / "ATTRIBUTION.md").unlink()
    with pytest.raises(StorageError, match=r"ATTRIBUTION\.md is missing"):
        plan_case(case.root)


def test_only_misses_leave_the_section_rendering_with_notes(tmp_path):
    m, llm, sandbox, case = run(tmp_path, {"1": ["qqqq zzzz"]}, n=1)
    assert m.sections[0].status is SectionStatus.ok
    assert m.sections[0].asset_misses[0].element == "qqqq zzzz" and m.assets == []
    assert "place_image" not in coder_prompt(llm, "1") and sandbox.assets == [{}]
    assert not (case.root / "ATTRIBUTION.md").exists()


def test_no_assets_resolves_nothing(tmp_path, offline_assets):
    m, llm, sandbox, _ = run(tmp_path, {"1": ["coin"]}, n=1, use_assets=False)
    assert m.assets == [] and m.sections[0].assets == [] and sandbox.assets == [{}]
    assert "place_image" not in coder_prompt(llm, "1")
    assert not offline_assets.exists()


def test_the_files_are_part_of_the_render_key():
    base = RenderRequest(
        case_id="c", section_id="1", scene_name="Section1", code="x", tier="l", orientation="landscape"
    )

    def with_data(data: bytes, name: str = "coin-12345678.svg") -> RenderRequest:
        asset = RenderAsset(name=name, sha256=hashlib.sha256(data).hexdigest(), data=data)
        return base.model_copy(update={"assets": [asset]})

    keys = {
        verdict_key(r)
        for r in (base, with_data(b"<svg/>"), with_data(b"<svg />"), with_data(b"<svg/>", "b-12345678.svg"))
    }
    assert len(keys) == 4
    assert verdict_key(with_data(b"<svg/>")) == verdict_key(with_data(b"<svg/>"))


def test_render_assets_refuse_unsafe_names():
    with pytest.raises(ValueError):
        RenderAsset(name="../etc/passwd.svg", sha256="0" * 64, data=b"")
    assert (
        RenderAsset.model_validate_json(
            RenderAsset(name="a-1.png", sha256="0" * 64, data=b"\x89PNG").model_dump_json()
        ).data
        == b"\x89PNG"
    )


def test_storyboards_without_elements_still_load_and_messy_elements_are_mended():
    old = {"topic": "t", "sections": [{"id": "1", "title": "T", "lecture_lines": ["a"], "animations": ["b"]}]}
    assert Storyboard.model_validate(old).sections[0].visual_elements == []
    messy = json.loads(json.dumps(old))
    messy["sections"][0]["visual_elements"] = [
        "coin",
        {"name": "planet", "purpose": "orbit", "x": 1},
        {"name": ""},
        7,
        "a",
        "b",
        "c",
    ]
    board, notes = normalise_storyboard(messy)
    assert [e.name for e in board.sections[0].visual_elements] == ["coin", "planet", "a", "b"]
    assert any("dropped" in n for n in notes) and any("cut to 4" in n for n in notes)


def _report(*units: dict) -> dict:
    return {
        "frame_width": 14.222,
        "frame_height": 8.0,
        "pixel_height": 480,
        "snapshots": [{"index": 0, "units": list(units)}],
    }


def _unit(i: int, kind: str, bbox: list[float], **kw: object) -> dict:
    return {
        "id": i,
        "cls": "SVGMobject" if kind == "image" else "Text",
        "kind": kind,
        "bbox": bbox,
        "role": "area",
        **kw,
    }


def test_the_lint_treats_an_image_like_any_object():
    label = _unit(1, "text", [2.0, 3.0, 0.0, 0.4], text="label", font_size=30)
    over = lint_layout(_report(label, _unit(2, "image", [1.8, 3.2, -0.5, 0.8], text="coin-1.svg")))
    assert [i.rule for i in over] == ["image_over_text"]
    tiny = lint_layout(_report(_unit(3, "image", [2.0, 2.05, 0.0, 0.05], text="coin-1.svg")))
    assert [i.rule for i in tiny] == ["small_image"]
    off = lint_layout(_report(_unit(4, "image", [6.5, 7.9, 0.0, 1.0], text="coin-1.svg")))
    assert "off_frame" in [i.rule for i in off]
    clean = lint_layout(_report(label, _unit(5, "image", [4.0, 5.0, 0.0, 1.0], text="coin-1.svg")))
    assert clean == []


def test_the_generate_flags_parse_and_a_bad_source_is_a_usage_error():
    from click.testing import CliRunner

    from c2v.app.cli import cli

    help_text = CliRunner().invoke(cli, ["generate", "--help"]).output
    assert "--use_assets" in help_text and "--no_assets" in help_text and "--assets-source" in help_text
    bad = CliRunner().invoke(cli, ["generate", "Binary search", "--assets-source", "flickr"])
    assert bad.exit_code == 2 and "flickr" in bad.output
