"""Readable, filesystem-safe, stable folder names for topics and prefixes."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from c2v.errors import UsageError

MAX_TOPIC_CHARS = 300
MAX_SLUG_CHARS = 60
_UNSAFE = re.compile(r"[^\w]+", re.UNICODE)
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def clean_topic(topic: str) -> str:
    """Validate a topic given by the user and return it with whitespace normalised."""
    text = " ".join(unicodedata.normalize("NFC", topic).split())
    if not text:
        raise UsageError("topic is empty: give a knowledge point such as 'Pythagorean theorem'")
    if len(text) > MAX_TOPIC_CHARS:
        raise UsageError(f"topic is {len(text)} characters long; at most {MAX_TOPIC_CHARS} are accepted")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise UsageError("topic contains control characters")
    return text


def slugify(topic: str) -> str:
    """A folder name that keeps letters of every script (so 勾股定理 stays readable).

    Anything that is not a letter, digit or underscore becomes '-'. Emoji and punctuation
    vanish; when nothing readable is left, or the name had to be cut, a short hash of the
    full topic keeps names distinct. The same topic always gives the same slug.
    """
    text = unicodedata.normalize("NFKC", topic).casefold().replace("'", "").replace("’", "")
    base = _UNSAFE.sub("-", text).strip("-_")
    digest = hashlib.sha256(topic.encode("utf-8")).hexdigest()[:8]
    if not base:
        return f"topic-{digest}"
    if len(base) > MAX_SLUG_CHARS:
        return f"{base[:MAX_SLUG_CHARS].rstrip('-_')}-{digest}"
    return base


def check_prefix(prefix: str) -> str:
    """Validate ``--folder-prefix``: one plain path component, no traversal."""
    if not _PREFIX.match(prefix) or prefix in {".", ".."} or ".." in prefix:
        raise UsageError(
            f"folder prefix {prefix!r} is not allowed: use letters, digits, '.', '_' and '-' "
            "(at most 80 characters, no '/' or '..')"
        )
    return prefix
