"""Real chunked renders: a section whole and in 2 and 3 chunks has the same frames, and a
scene whose state does not survive skipped animations is found and rendered whole."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from c2v.case import CaseDir
from c2v.core.progress import NullReporter
from c2v.core.tiers import Tier
from c2v.media.probe import probe_video
from c2v.models import NarrationSegment, RenderRequest, RenderResult, RenderStatus, RunCounters
from c2v.pipeline.chunks import Chunker, ChunkNote, frame_hashes, plan_ranges
from c2v.pipeline.inprocess import InProcessExecutor
from c2v.pipeline.loop import EventLoop
from c2v.pipeline.render_cache import RenderCache
from c2v.testing import ScriptedLLM
from sandbox.bwrap import BwrapBackend

pytestmark = pytest.mark.integration

#: Seven plays, about 4.3 s; the second segment outlasts the last play, so the template's
#: tear-down waits for it (a play after construct, which only the last chunk renders).
SCENE = """from manim import *
from c2v_layout import TeachingScene

class Section1(TeachingScene):
    def construct(self):
        self.show_title("Chunks")
        self.show_lecture(["A square", "becomes a circle"])
        self.highlight_lecture(0)
        sq = Square(side_length=2, color=BLUE)
        self.place_at("C3", sq)
        self.play(Create(sq), run_time=0.8)
        self.play(sq.animate.shift(RIGHT), run_time=0.6)
        self.highlight_lecture(1)
        self.play(Transform(sq, Circle(color=RED).move_to(sq)), run_time=0.7)
        self.wait(0.4)
"""

#: An updater that moves a dot a share of the way on each frame: a skipped play takes one
#: step instead of one per frame, so the dot is elsewhere when the next chunk starts.
UPDATER = """from manim import *

class Section1(Scene):
    def construct(self):
        dot = Dot(LEFT * 4)
        self.add(dot)
        dot.add_updater(lambda m, dt: m.move_to(m.get_center() * (1 - min(1.0, 2 * dt))))
        for i in range(4):
            self.play(FadeIn(Square(0.3).shift(UP * 2 + RIGHT * i)), run_time=0.6)
"""


def _wav(path: Path, seconds: float) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * int(16000 * seconds))
    return path


class Renders:
    """A render cache over real bwrap renders in this process, and the chunker on top."""

    def __init__(self, root: Path) -> None:
        self.case = CaseDir.create(root)
        self.executor = InProcessExecutor(ScriptedLLM({}), BwrapBackend())
        self.loop = EventLoop(self.executor)
        self.counters = RunCounters()
        self.cache = RenderCache(self.case, self.loop, self.counters, NullReporter(), "bwrap")

    def chunked(self, request: RenderRequest, setting: int | str) -> tuple[str, RenderResult, ChunkNote]:
        found: list[tuple[str, RenderResult, ChunkNote]] = []
        chunker = Chunker(self.cache, self.case, setting, check_tier=Tier.l, slots=1)
        chunker.render(request, 1, lambda key, result, note: found.append((key, result, note)))
        self.loop.drain()
        return found[0]

    def whole(self, request: RenderRequest) -> tuple[str, RenderResult]:
        found: list[tuple[str, RenderResult]] = []
        self.cache.render(request, lambda key, result: found.append((key, result)))
        self.loop.drain()
        return found[0]


def _request(code: str, tier: str, segments: list[NarrationSegment] | None = None) -> RenderRequest:
    return RenderRequest(
        case_id="t",
        section_id="1",
        scene_name="Section1",
        code=code,
        tier=tier,
        orientation="landscape",
        segments=segments or [],
    )


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> Renders:
    return Renders(tmp_path_factory.mktemp("chunks") / "case")


@pytest.fixture(scope="module")
def narrated(tmp_path_factory: pytest.TempPathFactory) -> RenderRequest:
    folder = tmp_path_factory.mktemp("speech")
    segments = [
        NarrationSegment(key=f"s{i}", path=str(_wav(folder / f"{i}.wav", s)), duration_s=s)
        for i, s in enumerate((1.0, 2.2))
    ]
    return _request(SCENE, "m", segments)


@pytest.fixture(scope="module")
def whole(renders: Renders, narrated: RenderRequest) -> tuple[str, RenderResult]:
    key, result = renders.whole(narrated)
    assert result.status is RenderStatus.ok, result.message
    return key, result


@pytest.mark.parametrize("n", [2, 3])
def test_a_section_in_chunks_has_exactly_the_frames_of_the_whole_render(renders, narrated, whole, n):
    whole_key, whole_result = whole
    key, result, note = renders.chunked(narrated, n)
    assert note == ChunkNote(n, ""), note.why_whole
    assert result.status is RenderStatus.ok
    joined, unsplit = renders.case.render_video(key), renders.case.render_video(whole_key)
    assert frame_hashes(joined) == frame_hashes(unsplit)  # no frame lost or doubled at a boundary
    a, b = probe_video(joined), probe_video(unsplit)
    assert a is not None and b is not None
    assert (a.frames, a.width, a.height) == (b.frames, b.width, b.height)
    assert a.duration_s == pytest.approx(b.duration_s, abs=1 / 30)
    # The narration is laid from the record: the last chunk saw every speech start and the lint.
    assert result.spoken == whole_result.spoken and len(result.spoken) == 2
    assert result.layout_issues == whole_result.layout_issues
    assert result.play_ends == whole_result.play_ends


def test_a_rerun_renders_only_the_missing_chunk(renders, narrated, whole):
    key, _, _ = renders.chunked(narrated, 2)
    shutil.rmtree(renders.case.render_dir(key))  # the joined video, and
    _, check = renders.whole(narrated.model_copy(update={"tier": Tier.l}))  # what the plan is made from
    first = plan_ranges(check.play_ends, 30, 2)[0]
    chunk = narrated.model_copy(update={"animations": first})
    chunks = sorted(p.name for p in renders.case.render_dir("").iterdir())
    assert renders.cache.key(chunk) in chunks
    shutil.rmtree(renders.case.render_dir(renders.cache.key(chunk)))  # one chunk are lost
    before = renders.counters.renders
    again, result, note = renders.chunked(narrated, 2)
    assert again == key and note.chunks == 2 and result.status is RenderStatus.ok
    assert renders.counters.renders - before == 1
    assert renders.executor.renders[-1].animations == chunk.animations


def test_a_time_based_updater_is_found_and_the_section_rendered_whole(renders):
    request = _request(UPDATER, "l")
    key, result, note = renders.chunked(request, 2)
    assert note.chunks == 1 and "does not survive skipped animations" in note.why_whole
    assert result.status is RenderStatus.ok
    whole_key, _ = renders.whole(request)
    assert key == whole_key
