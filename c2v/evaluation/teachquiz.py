"""TeachQuiz: does a judge that set a concept aside answer its quiz better after the video?

Per question, three stages (Code2Video's): the question alone; with an instruction to
unlearn the concept; with that instruction and the video. Each stage is asked with the
options in K orders. The video goes to the provider whole; providers without video input
get evenly sampled frames (``c2v.llm.frames``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from c2v.core.prompts import render_prompt
from c2v.evaluation.answers import parse_answer
from c2v.evaluation.judge import Judge, sha256_file
from c2v.evaluation.models import (
    LETTERS,
    AnswerReply,
    AskedQuestion,
    Letter,
    QuizQuestion,
    Stage,
    TeachQuizResult,
    TopicQuiz,
)
from c2v.evaluation.questions import orders, questions_for, shown
from c2v.evaluation.stats import gain, paired_test, position_shares, stage_figures
from c2v.evaluation.targets import Target
from c2v.llm.base import CallTag, Message, Part, TextPart


@dataclass(frozen=True)
class _Ask:
    target: Target
    index: int
    question: QuizQuestion
    stage: Stage
    permutation: int
    order: list[Letter]
    video: Path | None
    video_sha: str


def _messages(judge: Judge, job: _Ask, prompt: str) -> list[Message]:
    parts: list[Part] = [TextPart(text=prompt)]
    if job.stage is Stage.video and job.video is not None:
        parts += judge.video_parts(job.video)
    return [Message.text("system", render_prompt("eval_quiz_system")), Message(role="user", parts=parts)]


def _ask(judge: Judge, job: _Ask) -> AskedQuestion:
    options, correct = shown(job.question, job.order)
    prompt = render_prompt(
        "eval_quiz",
        stage=job.stage.value,
        topic=job.target.topic,
        question=job.question.question,
        options=options,
    )
    tag = CallTag(
        agent="judge",
        stage=f"teachquiz-{job.stage.value}",
        topic=job.target.topic,
        section=str(job.index),
        attempt=job.permutation,
    )
    inputs = {
        "prompt": prompt,
        "video": job.video_sha if job.stage is Stage.video else "",
    }
    text = judge.once(tag, inputs, lambda: _messages(judge, job, prompt), AnswerReply)
    parsed = parse_answer(text)
    original = job.order[LETTERS.index(parsed)] if parsed is not None else None
    return AskedQuestion(
        topic=job.target.topic,
        question=job.index,
        stage=job.stage,
        permutation=job.permutation,
        order=job.order,
        correct_shown=correct,
        raw_reply=text,
        parsed=parsed,
        chosen_original=original,
        correct=parsed == correct,
        usable=parsed is not None,
    )


def run_teachquiz(
    judge: Judge,
    targets: list[Target],
    questions: dict[str, list[QuizQuestion]],
    questions_file: str,
    permutations: int,
) -> TeachQuizResult:
    jobs: list[_Ask] = []
    skipped: list[str] = []
    for target in targets:
        items = questions_for(target.topic, questions)
        if not items:
            skipped.append(target.topic)
            continue
        video = target.case.video if target.case.video.is_file() else None
        sha = sha256_file(video) if video is not None else ""
        for index, question in enumerate(items):
            for k, order in enumerate(orders(target.topic, index, permutations)):
                jobs += [_Ask(target, index, question, stage, k, order, video, sha) for stage in Stage]
    records = judge.map(lambda job: _ask(judge, job), jobs)
    topics = []
    for target in targets:
        own = [r for r in records if r.topic == target.topic]
        if not own:
            continue
        figures = stage_figures(own)
        topics.append(
            TopicQuiz(
                topic=target.topic,
                case=target.rel,
                questions=len({r.question for r in own}),
                stages=figures,
                gain=gain(figures),
                unlearning_held=figures[Stage.unlearned].accuracy <= figures[Stage.plain].accuracy,
            )
        )
    overall = stage_figures(records)
    return TeachQuizResult(
        questions_file=questions_file,
        api=judge.llm.provider,
        model=judge.llm.model,
        permutations=permutations,
        topics=topics,
        skipped=skipped,
        overall=overall,
        gain=gain(overall),
        unlearning_held_share=round(sum(t.unlearning_held for t in topics) / len(topics), 6)
        if topics
        else 0.0,
        position_bias=position_shares(r.parsed for r in records),
        key_positions=position_shares(r.correct_shown for r in records),
        test=paired_test(
            [t.stages[Stage.video].accuracy for t in topics],
            [t.stages[Stage.unlearned].accuracy for t in topics],
        ),
        records=records,
    )
