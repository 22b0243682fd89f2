"""Narration decisions of the pipeline: segments in the render key, speech once, a rerun calls nothing."""

from __future__ import annotations

import json

import av
import pytest
from pydantic import ValidationError

from c2v.config import RunConfig
from c2v.models import NarrationSegment, RenderRequest, StoryboardSection
from c2v.pipeline import case_dir_for
from c2v.pipeline.narration import Narration
from c2v.pipeline.render_cache import verdict_key
from c2v.speech import SpeechRequest, SpeechService, SpeechSettings, TTSKind
from c2v.speech.audio import media_duration_s
from c2v.testing import FakeSandbox, ScriptedLLM, outline_reply, pipeline_for, scene_reply, storyboard_reply
from tests.speech_fakes import streamed_wav, tone_pcm

TOPIC = "Fake topic"
SETTINGS = SpeechSettings(kind=TTSKind.espeak, model="tone-1")


class ToneSpeech:
    """A speech provider at the boundary: a tone as long as the text asks, and a call count."""

    name = "tone"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def synthesize(self, request: SpeechRequest) -> bytes:
        self.texts.append(request.text)
        return streamed_wav(tone_pcm(0.7))


def _run(tmp_path, provider: ToneSpeech, n: int = 2):
    cfg = RunConfig(topic=TOPIC, output_dir=tmp_path / "cases")
    case = case_dir_for(cfg)
    replies = {
        "planner.outline": outline_reply(TOPIC, n),
        "planner.storyboard": storyboard_reply(TOPIC, n, narration=True),
    }
    replies |= {f"coder.code.{i}": scene_reply(str(i)) for i in range(1, n + 1)}
    sandbox = FakeSandbox()
    pipeline, _ = pipeline_for(cfg, case, ScriptedLLM(replies), sandbox)
    pipeline.narration = Narration(SpeechService(provider, SETTINGS, tmp_path / "speech"), "en")
    try:
        manifest = pipeline.generate()
    finally:
        case.unlock()
    return manifest, case, pipeline


def test_a_narrated_run_speaks_each_line_once_and_a_rerun_makes_no_speech_call(tmp_path):
    first = ToneSpeech()
    manifest, case, _ = _run(tmp_path, first)
    assert first.texts == ["This is what part 1 says.", "This is what part 2 says."]
    assert manifest.speech is not None and (manifest.speech.calls, manifest.speech.cached) == (2, 0)
    assert manifest.speech.characters == sum(len(t) for t in first.texts)
    # The fake scene is 1 s long and records no speech start: the clip follows on the host,
    # and the section's last frame is held until it is spoken.
    video_s, audio_s = media_duration_s(case.video, "video"), media_duration_s(case.video, "audio")
    assert abs(video_s - audio_s) <= 0.1
    assert video_s >= 2 * 0.7
    srt = case.video.with_suffix(".srt").read_text(encoding="utf-8")
    assert srt.count(" --> ") == 2 and "part 2 says" in srt
    assert sorted(manifest.subtitles) == ["video.srt", "video.vtt"]
    with av.open(str(case.video)) as container:
        assert [s.type for s in container.streams] == ["video", "audio", "subtitle"]

    again = ToneSpeech()
    manifest2, _, pipeline2 = _run(tmp_path, again)
    assert again.texts == []
    assert manifest2.speech is not None and (manifest2.speech.calls, manifest2.speech.cached) == (0, 2)
    assert pipeline2.counters.renders == 0 and pipeline2.counters.renders_reused == 2


def test_segments_are_part_of_the_render_key():
    base = RenderRequest(case_id="c", section_id="1", scene_name="Section1", code="x = 1", tier="l",
                         orientation="landscape")  # fmt: skip
    seg = NarrationSegment(key="abc", path="/tmp/a.wav", duration_s=1.0)
    spoken = base.model_copy(update={"segments": [seg]})
    other = base.model_copy(update={"segments": [seg.model_copy(update={"key": "abd"})]})
    moved = base.model_copy(update={"segments": [seg.model_copy(update={"path": "/elsewhere/a.wav"})]})
    keys = {verdict_key(r) for r in (base, spoken, other)}
    assert len(keys) == 3
    assert verdict_key(moved) == verdict_key(spoken)  # the content decides, not the path


def test_narration_is_one_entry_per_lecture_line_and_optional():
    section = {"id": "1", "title": "T", "lecture_lines": ["a", "b"], "animations": ["x"]}
    assert StoryboardSection.model_validate(section).narration == []
    with pytest.raises(ValidationError, match="1 narration entries for 2 lecture lines"):
        StoryboardSection.model_validate(section | {"narration": ["only one"]})
    ok = StoryboardSection.model_validate(section | {"narration": ["Say a.", "Say b."]})
    assert json.loads(ok.model_dump_json())["narration"] == ["Say a.", "Say b."]
