"""Chinese text renders as real glyphs, in Text and in Tex (XeLaTeX + ctex), in the sandbox."""

import io
import itertools

import av
import numpy as np
import pytest

from c2v.models import RenderRequest, RenderStatus
from sandbox.bwrap import BwrapBackend
from sandbox.render import render_scene

pytestmark = pytest.mark.integration

# Four different ideographs, then four characters that no font has (private use area):
# a missing glyph is drawn as the same empty box every time.
GLYPHS = """from manim import *
from c2v_layout import TeachingScene, CJK_TEX

class Section1(TeachingScene):
    def construct(self):
        real = Text("勾股定理", font_size=96).move_to(UP * 1.5)
        tofu = Text("\\ue000\\ue001\\ue002\\ue003", font_size=96).move_to(DOWN * 1.5)
        formula = Tex(r"勾股定理：$a^2+b^2=c^2$", tex_template=CJK_TEX).to_edge(DOWN)
        self.add(real, tofu, formula)
        self.wait(0.2)
"""


def last_frame(video: bytes) -> np.ndarray:
    with av.open(io.BytesIO(video), mode="r", format="mp4") as container:
        frames = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    return frames[-1]


def glyph_cells(frame: np.ndarray, rows: slice) -> list[np.ndarray]:
    band = frame[rows] > 80
    cols = np.where(band.any(axis=0))[0]
    # split the band into four equal-width glyph cells between its first and last lit column
    edges = np.linspace(cols.min(), cols.max() + 1, 5).astype(int)
    return [band[:, a:b] for a, b in itertools.pairwise(edges)]


def mean_pairwise_difference(cells: list[np.ndarray]) -> float:
    width = min(c.shape[1] for c in cells)
    trimmed = [c[:, :width].astype(float) for c in cells]
    diffs = [np.abs(a - b).mean() for i, a in enumerate(trimmed) for b in trimmed[i + 1 :]]
    return float(np.mean(diffs))


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_chinese_glyphs_are_real_in_text_and_tex(orientation):
    req = RenderRequest(
        case_id="zh", section_id="1", scene_name="Section1", code=GLYPHS, tier="l", orientation=orientation
    )
    out = render_scene(req, BwrapBackend())
    assert out.result.status is RenderStatus.ok, out.result.message + out.result.stderr_tail[-800:]
    frame = last_frame(out.video)
    h = frame.shape[0]
    real = glyph_cells(frame, slice(int(h * 0.22), int(h * 0.42)))
    tofu = glyph_cells(frame, slice(int(h * 0.58), int(h * 0.78)))
    # Real ideographs differ from each other; empty boxes are all alike.
    assert mean_pairwise_difference(real) > 3 * mean_pairwise_difference(tofu) + 0.01
    rules = [i.rule for i in out.result.layout_issues]
    assert rules.count("missing_glyphs") == 1  # the private-use string, and only it
