"""What evaluation reads and writes: quiz questions, judge replies, per-topic and overall results."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from c2v.models import Strict, TokenTotals

LETTERS: tuple[str, ...] = ("A", "B", "C", "D")
Letter = Literal["A", "B", "C", "D"]


class JudgeUsage(Strict):
    """What the judge cost: calls asked now, answers read back from the journal, tokens."""

    calls: int = 0
    reused: int = 0
    tokens: TokenTotals = Field(default_factory=TokenTotals)


# --- TeachQuiz -------------------------------------------------------------------------
class QuizQuestion(Strict):
    """One MMMC question: ``{question, options: {A..D}, answer}``."""

    question: str = Field(min_length=1)
    options: dict[Letter, str]
    answer: Letter

    def model_post_init(self, _context: object) -> None:
        if set(self.options) != set(LETTERS):
            raise ValueError(f"options must be exactly A, B, C and D, got {sorted(self.options)}")


class AnswerReply(Strict):
    """The structured reply a judge is asked for: one letter, or null when it cannot tell."""

    answer: Letter | None


class Stage(StrEnum):
    plain = "plain"  # stage 1: the question alone
    unlearned = "unlearned"  # stage 2: with the instruction to set the concept aside
    video = "video"  # stage 3: the instruction plus the video

    @property
    def number(self) -> int:
        return list(Stage).index(self) + 1


class AskedQuestion(Strict):
    """One question as asked once: enough to recompute every figure."""

    topic: str
    question: int = Field(ge=0)  # index in the topic's list
    stage: Stage
    permutation: int = Field(ge=0)
    order: list[Letter]  # order[i] = the original letter shown as LETTERS[i]
    correct_shown: Letter  # where the right answer was shown
    raw_reply: str
    parsed: Letter | None  # the shown letter the judge chose, None when unusable
    chosen_original: Letter | None
    correct: bool
    usable: bool


class StageFigures(Strict):
    asked: int = 0
    correct: int = 0
    unusable: int = 0
    accuracy: float = 0.0


class TopicQuiz(Strict):
    topic: str
    case: str  # case folder, relative to the evaluated PATH
    questions: int
    stages: dict[Stage, StageFigures]
    gain: float  # accuracy(video) - accuracy(unlearned)
    unlearning_held: bool  # accuracy(unlearned) <= accuracy(plain)


class PairedTest(Strict):
    """Paired t-test of stage 3 against stage 2 over topics (scipy.stats.ttest_rel)."""

    topics: int
    mean_gain: float
    t: float | None = None
    p_value: float | None = None
    ci95_low: float | None = None
    ci95_high: float | None = None
    note: str = ""


class TeachQuizResult(Strict):
    questions_file: str
    api: str
    model: str
    permutations: int
    topics: list[TopicQuiz]
    skipped: list[str] = Field(default_factory=list)  # topics with no questions in the file
    overall: dict[Stage, StageFigures]
    gain: float
    unlearning_held_share: float
    #: Share of usable answers per shown position (A..D); 0.25 each for an unbiased judge.
    position_bias: dict[Letter, float]
    #: Share of the right answers per shown position, for comparison (0.25 each when shuffled well).
    key_positions: dict[Letter, float]
    test: PairedTest
    records: list[AskedQuestion]
    judge: JudgeUsage = Field(default_factory=JudgeUsage)


# --- AES -------------------------------------------------------------------------------
AES_DIMENSIONS: tuple[str, ...] = (
    "element_layout",
    "attractiveness",
    "logic_flow",
    "accuracy_depth",
    "visual_consistency",
)


class DimensionScore(Strict):
    score: int = Field(ge=0, le=20)
    reason: str = Field(default="", max_length=600)


class AesReply(Strict):
    """The judge's structured reply: each of the five dimensions, 0-20, with a short reason."""

    element_layout: DimensionScore
    attractiveness: DimensionScore
    logic_flow: DimensionScore
    accuracy_depth: DimensionScore
    visual_consistency: DimensionScore

    def total(self) -> int:
        return sum(self.scores().values())

    def scores(self) -> dict[str, int]:
        return {d: getattr(self, d).score for d in AES_DIMENSIONS}


class Spread(Strict):
    mean: float
    std: float  # sample standard deviation over repeats (0 for one repeat)
    low: float
    high: float


class TopicAes(Strict):
    topic: str
    case: str
    repeats: list[AesReply | None]  # None for a repeat whose reply was unusable
    unusable: int
    dimensions: dict[str, Spread]
    total: Spread | None


class AesResult(Strict):
    api: str
    model: str
    repeats: int
    topics: list[TopicAes]
    dimensions: dict[str, float]  # mean over topics
    total: float | None
    skipped: list[str] = Field(default_factory=list)  # cases without a video
    judge: JudgeUsage = Field(default_factory=JudgeUsage)


# --- efficiency ------------------------------------------------------------------------
class TopicEfficiency(Strict):
    topic: str
    case: str
    wall_s: float
    stage_s: dict[str, float]
    llm_calls: int
    llm_replies: int
    tokens: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    renders: int
    render_s: float
    sections: int
    sections_ok: int


class EfficiencyResult(Strict):
    topics: list[TopicEfficiency]
    total: TopicEfficiency | None
    mean: dict[str, float]
