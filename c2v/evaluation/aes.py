"""AES: a vision model scores each video on Code2Video's five dimensions, 0-20 each.

``repeats`` asks the same judge N times per video (each a journaled call of its own) so
the report can show the judge's mean and spread, not one draw.
"""

from __future__ import annotations

from c2v.core.prompts import render_prompt
from c2v.evaluation.judge import Judge, sha256_file
from c2v.evaluation.models import AES_DIMENSIONS, AesReply, AesResult, TopicAes
from c2v.evaluation.stats import spread
from c2v.evaluation.targets import Target
from c2v.llm.base import CallTag, Message, TextPart
from c2v.llm.parsing import extract_json


def _parse(text: str) -> AesReply:
    return extract_json(text, AesReply)


def _score(judge: Judge, target: Target, repeat: int, video_sha: str) -> AesReply | None:
    prompt = render_prompt("eval_aes", topic=target.topic)

    def messages() -> list[Message]:
        return [Message(role="user", parts=[TextPart(text=prompt), *judge.video_parts(target.case.video)])]

    tag = CallTag(agent="judge", stage="aes", topic=target.topic, attempt=repeat)
    payload = judge.structured(
        tag, {"prompt": prompt, "video": video_sha, "repeat": repeat}, messages, AesReply, _parse
    )
    return AesReply.model_validate_json(payload) if payload is not None else None


def run_aes(judge: Judge, targets: list[Target], repeats: int) -> AesResult:
    scorable = [t for t in targets if t.case.video.is_file()]
    shas = {t.rel: sha256_file(t.case.video) for t in scorable}
    jobs = [(t, k) for t in scorable for k in range(repeats)]
    replies = judge.map(lambda job: _score(judge, job[0], job[1], shas[job[0].rel]), jobs)
    topics = []
    for target in scorable:
        own = [r for (t, _), r in zip(jobs, replies, strict=True) if t.rel == target.rel]
        good = [r for r in own if r is not None]
        dims = {
            d: s for d in AES_DIMENSIONS if (s := spread([float(r.scores()[d]) for r in good])) is not None
        }
        topics.append(
            TopicAes(
                topic=target.topic,
                case=target.rel,
                repeats=own,
                unusable=len(own) - len(good),
                dimensions=dims,
                total=spread([float(r.total()) for r in good]),
            )
        )
    scored = [t for t in topics if t.total is not None]
    return AesResult(
        api=judge.llm.provider,
        model=judge.llm.model,
        repeats=repeats,
        topics=topics,
        dimensions={
            d: round(sum(t.dimensions[d].mean for t in scored) / len(scored), 4) if scored else 0.0
            for d in AES_DIMENSIONS
        },
        total=round(sum(t.total.mean for t in scored if t.total) / len(scored), 4) if scored else None,
        skipped=[t.topic for t in targets if t not in scorable],
    )
