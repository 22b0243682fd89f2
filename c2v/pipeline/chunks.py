"""Chunked final renders: one section split at animation boundaries over several render tasks.

A section's final-tier render can run as chunks, each Manim's ``-n START,END`` of the same
scene in its own sandbox, joined in order by stream copy. Manim encodes every play into its
own partial movie and concatenates those by copy, so a chunk's packets are the very packets
of the unsplit render: the join is exact as long as the scene's state survives the skipped
plays. Time-based updaters and randomness do not (a skipped play takes one step, not one per
frame), so every plan is first tried at the check tier, frame hash against frame hash with
the unsplit render there; a section that differs renders whole, and says why.

The split is planned from the check-tier record (the section time at the end of every play),
balancing chunks by frames. Each chunk is a render of its own key in the render cache, so a
retry or a rerun repeats only the chunk that is missing; the joined video is cached too.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import structlog

from c2v.case import CaseDir
from c2v.core.tiers import Tier, video_format
from c2v.errors import StitchError
from c2v.media.probe import probe_video
from c2v.media.stitch import picture_only, stitch
from c2v.models import AnimationRange, RenderRequest, RenderResult, RenderStatus
from c2v.pipeline.render_cache import RenderCache

log = structlog.get_logger("c2v.chunks")

#: A chunk shorter than this (seconds of video) costs more in start-up (process, LaTeX,
#: skipped plays) than it saves; ``auto`` never plans one (scripts/bench_4k.py).
MIN_CHUNK_S = 3.0
#: Most chunks one section is split into.
MAX_CHUNKS = 32

OFF = "chunking is off"
NO_SLOT = "no idle render slot in the pool"

#: ``--chunks``: ``auto`` (where it pays), ``off``, or a fixed count of chunks per section.
ChunkSetting = int | str


@dataclass(frozen=True)
class ChunkNote:
    """How a section's final render was made: from how many chunks, or why it was whole."""

    chunks: int = 1
    why_whole: str = ""


Done = Callable[[str, RenderResult, ChunkNote], None]


# -- planning -----------------------------------------------------------------------------
def chunk_count(setting: ChunkSetting, play_ends: list[float], share: int) -> tuple[int, str]:
    """How many chunks a section gets, and why it gets one when it does.

    ``share``: the render slots this section may use at once (idle capacity of the pool).
    """
    if setting == "off":
        return 1, OFF
    plays = len(play_ends)
    if plays < 2:
        return 1, "one animation cannot be split"
    if setting != "auto":
        return min(int(setting), plays), ""
    if share < 2:
        return 1, NO_SLOT
    duration = play_ends[-1]
    by_length = min(int(duration // MIN_CHUNK_S), plays, MAX_CHUNKS)
    if by_length < 2:
        return 1, f"{duration:.1f} s is too short to split (chunks of {MIN_CHUNK_S:g} s at least)"
    return min(by_length, share), ""


def plan_ranges(play_ends: list[float], fps: float, n: int) -> list[AnimationRange]:
    """``n`` contiguous ranges of plays, balanced by frames at ``fps``; the last is open-ended.

    Cut ``k`` goes after the play whose running frame count is closest to ``k/n`` of the
    total, and always after the previous cut, so no chunk is empty. The last range has no
    end: it also renders whatever plays the scene makes after its last recorded one.
    """
    n = max(1, min(n, len(play_ends)))
    frames, done, last = [], 0, 0.0
    for end in play_ends:
        done += max(0, round((end - last) * fps))
        frames.append(done)
        last = end
    total = frames[-1] if frames else 0
    cuts: list[int] = []  # index of the last play of every chunk but the last
    for k in range(1, n):
        low = cuts[-1] + 1 if cuts else 0
        high = len(play_ends) - (n - k) - 1  # leave a play for every chunk still to come
        target = total * k / n
        cuts.append(min(range(low, high + 1), key=lambda i: (abs(frames[i] - target), i)))
    starts = [0, *(c + 1 for c in cuts)]
    return [AnimationRange(start=s, end=cuts[i] if i < len(cuts) else None) for i, s in enumerate(starts)]


# -- the exactness check -----------------------------------------------------------------
def frame_hashes(video: Path) -> list[str]:
    """One hash per decoded frame (every plane of it), in order."""
    with av.open(str(video), mode="r", format="mp4") as container:
        return [
            hashlib.sha256(b"".join(bytes(p) for p in frame.planes)).hexdigest()[:16]
            for frame in container.decode(video=0)
        ]


def compare_frames(whole: list[str], chunks: list[list[str]]) -> str | None:
    """None when the chunks hold exactly the frames of the whole render, else what differs."""
    joined = [h for chunk in chunks for h in chunk]
    if len(joined) != len(whole):
        return f"the chunks hold {len(joined)} frames, the whole render {len(whole)}"
    first = next((i for i, (a, b) in enumerate(zip(whole, joined, strict=True)) if a != b), None)
    if first is None:
        return None
    chunk, start = 0, 0
    while start + len(chunks[chunk]) <= first:
        start += len(chunks[chunk])
        chunk += 1
    return (
        f"frame {first} differs from the whole render (chunk {chunk + 1}, its frame {first - start}): "
        "the scene's state does not survive skipped animations (time-based updaters or randomness)"
    )


def joined_key(whole_key: str, ranges: list[AnimationRange]) -> str:
    plan = ";".join(r.argv() for r in ranges)
    return hashlib.sha256(f"{whole_key}\0chunks\0{plan}".encode()).hexdigest()[:20]


# -- rendering ------------------------------------------------------------------------------
class Chunker:
    """Renders a section's final tier in chunks where that pays and is exact, else whole."""

    def __init__(
        self, renders: RenderCache, case: CaseDir, setting: ChunkSetting, check_tier: Tier, slots: int
    ) -> None:
        self.renders = renders
        self.case = case
        self.setting = setting
        self.check_tier = check_tier
        self.slots = slots

    def _share(self, sections: int) -> int:
        """The render slots each of ``sections`` sharing the pool may use at once."""
        return max(1, self.slots // max(1, sections))

    def may_split(self, sections: int) -> bool:
        """Whether any of ``sections`` sharing the pool could be split (before any record)."""
        return self.setting != "off" and (self.setting != "auto" or self._share(sections) >= 2)

    def render(self, request: RenderRequest, sections: int, then: Done) -> None:
        """Hand ``then`` the final render of ``request``; ``sections``: how many share the pool."""
        share = self._share(sections)
        if not self.may_split(sections):
            # Decided before any plan is made: no record is rendered for nothing.
            self._whole(request, then, OFF if self.setting == "off" else NO_SLOT)
            return
        check = request.model_copy(update={"tier": self.check_tier})

        def planned(check_key: str, result: RenderResult) -> None:
            if result.status is not RenderStatus.ok:
                self._whole(request, then, f"the check render ended {result.status.value}")
                return
            n, why = chunk_count(self.setting, result.play_ends, share)
            if n < 2:
                self._whole(request, then, why)
                return
            fps = video_format(request.tier, request.orientation).fps
            ranges = plan_ranges(result.play_ends, fps, n)
            key = joined_key(self.renders.key(request), ranges)
            cached = self.case.load_render(key)
            if cached is not None:
                self.renders.counters.renders_reused += 1
                then(key, cached, ChunkNote(len(ranges)))
                return
            self._check(request, check_key, ranges, key, then)

        self.renders.render(check, planned)

    def _whole(self, request: RenderRequest, then: Done, why: str) -> None:
        log.info("section_whole", section=request.section_id, reason=why)
        self.renders.render(request, lambda key, result: then(key, result, ChunkNote(1, why)))

    def _check(
        self, request: RenderRequest, check_key: str, ranges: list[AnimationRange], key: str, then: Done
    ) -> None:
        """Render the plan at the check tier, compare it frame by frame with the whole render
        there, and go on with the final chunks only when every frame matches."""
        check = request.model_copy(update={"tier": self.check_tier})

        def compared(parts: list[tuple[str, RenderResult]]) -> None:
            bad = next((r for _, r in parts if r.status is not RenderStatus.ok), None)
            if bad is not None:
                why = f"a chunk of the check ended {bad.status.value}: {bad.message[:120]}"
            else:
                whole = frame_hashes(self.case.render_video(check_key))
                why = compare_frames(whole, [frame_hashes(self.case.render_video(k)) for k, _ in parts]) or ""
            if why:
                self._whole(request, then, why)
            else:
                self._chunks(request, ranges, key, then)

        self._gather([_chunk(check, r) for r in ranges], compared)

    def _chunks(self, request: RenderRequest, ranges: list[AnimationRange], key: str, then: Done) -> None:
        def joined(parts: list[tuple[str, RenderResult]]) -> None:
            bad = next((r for _, r in parts if r.status is not RenderStatus.ok), None)
            if bad is not None:
                self._whole(request, then, f"a chunk ended {bad.status.value}: {bad.message[:120]}")
                return
            try:
                result = self._join(key, [k for k, _ in parts], parts[-1][1])
            except StitchError as exc:  # the chunks stay cached; the section renders whole
                self._whole(request, then, f"the chunks could not be joined: {exc}")
                return
            log.info("section_chunked", section=request.section_id, chunks=len(parts))
            then(key, result, ChunkNote(len(parts)))

        self._gather([_chunk(request, r) for r in ranges], joined)

    def _join(self, key: str, chunk_keys: list[str], last: RenderResult) -> RenderResult:
        """Join the chunk videos by copy into the render cache under ``key``.

        The last chunk ran every play of the scene (skipped ones too), so its record holds
        the whole section's layout lint, keyframes and speech starts.
        """
        with tempfile.TemporaryDirectory(prefix=".join-", dir=self.case.root) as tmp:
            parts = [Path(tmp) / f"{i}.mp4" for i in range(len(chunk_keys))]
            for key_i, part in zip(chunk_keys, parts, strict=True):
                picture_only(self.case.render_video(key_i), part)  # narration is laid on later
            out = Path(tmp) / "joined.mp4"
            stitch(parts, out)
            data = out.read_bytes()
        info = probe_video(data)
        result = last.model_copy(
            update={"video_duration_s": info.duration_s if info else None, "wall_s": 0.0}
        )
        self.case.save_render(key, result, data)
        return result

    def _gather(
        self, requests: list[RenderRequest], done: Callable[[list[tuple[str, RenderResult]]], None]
    ) -> None:
        """Render all ``requests`` (through the cache); call ``done`` once, with results in order."""
        found: dict[int, tuple[str, RenderResult]] = {}
        for i, req in enumerate(requests):

            def one(key: str, result: RenderResult, i: int = i) -> None:
                found[i] = (key, result)
                if len(found) == len(requests):
                    done([found[j] for j in range(len(requests))])

            self.renders.render(req, one)


def _chunk(request: RenderRequest, plays: AnimationRange) -> RenderRequest:
    return request.model_copy(update={"animations": plays})
