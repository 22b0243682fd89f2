"""The messy-model corpus over the real OpenAI Chat Completions wire, fast.

Each case runs the pipeline in this process (no Ray) with the openai SDK talking to
:class:`tests.llm_fakes.FakeProvider` on 127.0.0.1, which answers from the case's reply set
and counts the usage it sent; renders are :class:`c2v.testing.FakeSandbox`'s. Each ends
with a video or one clearly failed section (the others kept), and the manifest's token
totals equal the server's own count. Real renders of a few cases through the real CLI are
in tests/integration/test_messy_models.py.
"""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from c2v.llm.openai_chat import OpenAIChat
from c2v.llm.settings import ProviderKind, ProviderSettings
from c2v.models import RenderStatus, SectionStatus
from c2v.pipeline import Pipeline, case_dir_for
from c2v.pipeline.executor import Role
from c2v.pipeline.inprocess import InProcessExecutor
from c2v.testing import FakeSandbox
from tests.llm_fakes import FakeProvider
from tests.messy_corpus import CASES, CorpusReplay, MessyCase, run_config


def _settings(url: str) -> ProviderSettings:
    return ProviderSettings(
        name="openai-compatible",
        kind=ProviderKind.openai,
        model="messy-1",
        api_key=SecretStr("sk-messy"),
        base_url=f"{url}/v1",
        max_tries=1,
        timeout_s=30,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_messy_model_over_the_wire_ends_with_a_video_or_one_failed_section(case: MessyCase, tmp_path):
    replay = CorpusReplay(case)
    cfg = run_config(case, tmp_path)
    folder = case_dir_for(cfg)
    with FakeProvider(responder=replay) as server:
        settings = _settings(server.url)
        executor = InProcessExecutor({r: OpenAIChat(settings, r.value) for r in Role}, FakeSandbox())
        try:
            m = Pipeline(cfg, folder, executor=executor).generate()
        finally:
            folder.unlock()
    failed = [s.id for s in m.sections if s.status is not SectionStatus.ok]
    assert failed == ([case.failed] if case.failed else [])
    assert m.video == "video.mp4" and (folder.root / "video.mp4").stat().st_size > 0
    by_id = {s.id: s for s in m.sections}
    for sid, kinds in case.history.items():
        assert [h.kind for h in by_id[sid].history] == kinds, by_id[sid].history
    if case.failed:
        last = by_id[case.failed].history[-1]
        assert last.status is RenderStatus.code_error and last.message
        assert m.missing_sections == [case.failed]
    # the manifest's totals are the usage the server sent, for every request, used or not
    assert (m.tokens.input, m.tokens.output) == (replay.input_tokens, replay.output_tokens) != (0, 0)
    assert len(replay.keys) == len(server.requests)
    assert bool(m.normalised) is case.normalised, m.normalised
