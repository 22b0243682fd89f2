"""The topics file of a batch and the batch's id: what ``c2v batch`` and ``c2v submit`` check first."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from c2v.core.slug import check_prefix, clean_topic, slugify
from c2v.errors import UsageError

#: Keys a topic object of a topics file may name its topic by (c2v's and Code2Video's).
_TOPIC_KEYS = ("topic", "knowledge_point")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


def load_topics(path: Path) -> list[str]:
    """The topics of a topics file, in order.

    Accepted: a JSON list of strings (MMMC's ``topics.json``, Code2Video's
    ``long_video_topics_list.json``), a list of objects with a ``topic`` or
    ``knowledge_point`` string, or an object whose ``topics`` is such a list.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"topics file {path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"topics file {path} is a directory") from None
    except OSError as exc:
        raise UsageError(f"cannot read topics file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"topics file {path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"topics file {path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
    if isinstance(data, dict) and isinstance(data.get("topics"), list):
        data = data["topics"]
    if not isinstance(data, list):
        raise UsageError(
            f'topics file {path} must hold a JSON list of topics (strings, or objects with a "topic" field)'
        )
    topics: list[str] = []
    for n, item in enumerate(data, start=1):
        text = _topic_text(item)
        if text is None:
            raise UsageError(
                f"topics file {path}: entry {n} is not a topic (want a string or an object with "
                f'a "topic" string), got {json.dumps(item, ensure_ascii=False)[:80]}'
            )
        try:
            topics.append(clean_topic(text))
        except UsageError as exc:
            raise UsageError(f"topics file {path}: entry {n}: {exc}") from None
    if not topics:
        raise UsageError(f"topics file {path} lists no topics")
    return topics


def _topic_text(item: object) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in _TOPIC_KEYS:
            value = item.get(key)
            if isinstance(value, str):
                return value
    return None


def select_topics(topics: Sequence[str], max_concepts: int) -> list[str]:
    """The first ``max_concepts`` topics; -1 (or any negative number) means all of them.

    (Code2Video slices ``[:max_concepts]``, which drops the last topic for -1.)
    Topics whose folder names coincide are run once, at their first position.
    """
    if max_concepts == 0:
        raise UsageError("--max-concepts 0 selects no topic: give a positive number, or -1 for all")
    chosen = list(topics) if max_concepts < 0 else list(topics[:max_concepts])
    seen: set[str] = set()
    unique = []
    for topic in chosen:
        slug = slugify(topic)
        if slug not in seen:
            seen.add(slug)
            unique.append(topic)
    return unique


def default_batch_id(topics_file: Path, prefix: str) -> str:
    """A stable batch id from the topics file's name and the folder prefix.

    Only the file name counts, not its folder: ``ray job submit --working-dir`` runs the same
    file from a fresh folder every time, and the id must not change with it.
    """
    stem = _UNSAFE_ID.sub("-", topics_file.stem).strip("-._") or "topics"
    return check_batch_id(f"{prefix}-{stem}"[:80].rstrip("-._"))


def check_batch_id(value: str) -> str:
    try:
        return check_prefix(value)
    except UsageError:
        raise UsageError(
            f"batch id {value!r} is not allowed: use letters, digits, '.', '_' and '-' (at most 80)"
        ) from None
