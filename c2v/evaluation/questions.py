"""MMMC quiz questions: loading a ``{topic: [question, ...]}`` file and shuffling the options.

The MMMC key is skewed (B is right in about half the questions), so each question is
asked in K orders. The K orders are rotations of one seeded random order: with K = 4 the
right answer is shown once at every position, with fewer it still lands on K different
ones, so a judge that favours a letter cannot score above chance by it.
"""

from __future__ import annotations

import hashlib
import json
import random
import unicodedata
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from c2v.errors import ConfigError, first_error
from c2v.evaluation.models import LETTERS, Letter, QuizQuestion

_FILE = TypeAdapter(dict[str, list[QuizQuestion]])


def load_questions(path: Path) -> dict[str, list[QuizQuestion]]:
    """The questions file, validated; a bad file is one clear line (exit 2)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"questions file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read questions file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"questions file {path} is not valid JSON (line {exc.lineno})") from None
    try:
        return _FILE.validate_python(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"questions file {path}: {first_error(exc).line()} "
            "(expected {topic: [{question, options: {A, B, C, D}, answer}]})"
        ) from None


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def questions_for(topic: str, questions: dict[str, list[QuizQuestion]]) -> list[QuizQuestion] | None:
    """The topic's questions, matched by the topic's text (case and spacing ignored)."""
    wanted = _norm(topic)
    for name, items in questions.items():
        if _norm(name) == wanted:
            return items
    return None


def orders(topic: str, index: int, count: int) -> list[list[Letter]]:
    """``count`` option orders for one question; ``order[i]`` is the letter shown as ``LETTERS[i]``."""
    seed = hashlib.sha256(f"{topic}\x00{index}".encode()).digest()
    base: list[Letter] = list(LETTERS)  # type: ignore[arg-type]
    random.Random(seed).shuffle(base)  # noqa: S311 - a reproducible shuffle, not a secret
    out: list[list[Letter]] = []
    for k in range(count):
        shift = k % len(base)
        out.append(base[shift:] + base[:shift])
    return out


def shown(question: QuizQuestion, order: list[Letter]) -> tuple[dict[Letter, str], Letter]:
    """The options as shown in ``order``, and the shown letter of the right answer."""
    options: dict[Letter, str] = {}
    correct: Letter = "A"
    for position, original in zip(LETTERS, order, strict=True):
        options[position] = question.options[original]  # type: ignore[index]
        if original == question.answer:
            correct = position  # type: ignore[assignment]
    return options, correct
