"""The offline demo with icons, rendered for real: a bundled icon is placed, credited, and a miss is harmless.

One case (the *Binary search* transcript, tier l, in-process executor, bubblewrap sandbox),
with no network: ``C2V_ASSETS_OFFLINE=1`` and a temporary asset cache.
"""

from __future__ import annotations

import av
import numpy as np
import pytest

from c2v.config import RunConfig
from c2v.core.tiers import Tier, video_format
from c2v.llm.offline import OfflineLLM
from c2v.models import RenderStatus
from c2v.pipeline import Pipeline, case_dir_for
from c2v.pipeline.inprocess import InProcessExecutor
from sandbox.bwrap import BwrapBackend
from sandbox.render import render_scene
from sandbox.runtime.c2v_anchors import layout_for

pytestmark = pytest.mark.integration

TOPIC = "Binary search"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("assets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("C2V_ASSETS_OFFLINE", "1")
        mp.setenv("C2V_ASSETS_DIR", str(tmp / "asset-cache"))
        cfg = RunConfig(topic=TOPIC, output_dir=tmp / "cases", tier=Tier.l)
        case = case_dir_for(cfg)
        executor = InProcessExecutor(OfflineLLM(), BwrapBackend())
        try:
            manifest = Pipeline(cfg, case, executor=executor).generate()
        finally:
            case.unlock()
        yield case, manifest, executor


def last_frame(path) -> np.ndarray:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
        assert frames
        return frames[-1].to_ndarray(format="rgb24")


def icon_cell(shape: tuple[int, ...], anchor: str = "F1") -> tuple[slice, slice]:
    fmt = video_format(Tier.l, "landscape")
    grid = layout_for(fmt.frame_width, fmt.frame_height)
    x, y = grid.point(anchor)
    h, w = shape[:2]
    px = int((x / fmt.frame_width + 0.5) * w)
    py = int((0.5 - y / fmt.frame_height) * h)
    r = int(0.25 / fmt.frame_height * h)
    return slice(py - r, py + r), slice(px - r, px + r)


def test_the_demo_places_an_icon_from_the_bundled_set(demo):
    case, manifest, executor = demo
    one = next(s for s in manifest.sections if s.id == "1")
    assert one.status.value == "ok" and len(one.assets) == 1 and one.assets[0].startswith("magnifying-glass-")
    credit = next(a for a in manifest.assets if a.file == one.assets[0])
    assert credit.source == "bundled" and credit.icon_id.startswith("fluent-emoji-flat:")
    shipped = [a.name for r in executor.renders if r.section_id == "1" for a in r.assets]
    assert shipped and set(shipped) == {one.assets[0]}
    assert "place_image(" in case.final_code("1").read_text(encoding="utf-8")
    assert not [i for i in one.layout_issues if i.rule in ("image_over_text", "small_image")]


def test_every_asset_is_credited(demo):
    case, manifest, _ = demo
    used = {f for s in manifest.sections for f in s.assets}
    assert used and used == {a.file for a in manifest.assets}
    attribution = (case.root / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for credit in manifest.assets:
        assert credit.license.title and credit.attribution
        assert credit.file in attribution and credit.license.title in attribution


def test_a_missing_icon_draws_nothing_and_the_section_still_renders(demo):
    case, manifest, executor = demo
    with_icon = next(r for r in executor.renders if r.section_id == "1" and r.tier is Tier.l)
    out = render_scene(with_icon.model_copy(update={"assets": []}), BwrapBackend())
    assert out.result.status is RenderStatus.ok, out.result.message
    assert "is left out" in out.result.stderr_tail
    section = next(s for s in manifest.sections if s.id == "1")
    assert section.video is not None
    frame_with = last_frame(case.root / section.video)
    missing = case.root / "missing.mp4"
    missing.write_bytes(out.video or b"")
    frame_without = last_frame(missing)
    rows, cols = icon_cell(frame_with.shape)
    assert frame_with[rows, cols].mean() > frame_without[rows, cols].mean() + 15
