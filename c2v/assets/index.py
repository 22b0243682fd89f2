"""A name-and-keyword index over icon sets: "magnifying glass" finds ``magnifying-glass-tilted-left``.

An icon's keywords are the words of its name (``red-question-mark`` → red, question, mark),
its aliases' words, its category's words (weak), and the words of the synonym table
(``data/synonyms.json``), which maps the concepts a lesson names ("search", "probability",
"orbit") to icon names. Ranking, best first:

1. the whole phrase is the icon's name (100);
2. every query word is in the name: 90, less 3 per extra word in the name, so the plainest
   icon wins (``magnifying-glass-tilted-left`` over ``...-with-...``);
3. a synonym entry for the phrase (85, less 1 per place in its list) or for single words (60);
4. some query words in the name, or word prefixes ("magnif"): up to 50 by the share matched;
5. only the category matched: 10.

Ties go to the shorter name, then the alphabetically first, so results are stable.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources

from c2v.assets.iconset import IconSet
from c2v.assets.models import AssetSource, Candidate

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset({"a", "an", "the", "of", "with", "and", "for", "icon", "emoji", "symbol", "picture"})


def words(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


def stem(word: str) -> str:
    """A light plural strip, enough for icon names: coins → coin, boxes → box, glasses → glass."""
    if len(word) > 4 and word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@cache
def synonyms() -> dict[str, tuple[str, ...]]:
    """Phrase (normalised words joined by spaces) → icon names, best first."""
    raw = json.loads((resources.files("c2v.assets") / "data" / "synonyms.json").read_text(encoding="utf-8"))
    return {" ".join(words(k)): tuple(v) for k, v in raw.items() if not k.startswith("_")}


@dataclass(frozen=True)
class _Entry:
    prefix: str
    name: str
    name_words: tuple[str, ...]
    category_words: frozenset[str]


class IconIndex:
    """Search one or more icon sets by words; built once per set of icon sets."""

    def __init__(self, sets: tuple[IconSet, ...], source: AssetSource = AssetSource.bundled) -> None:
        self.source = source
        self._entries: dict[str, _Entry] = {}
        self._by_word: dict[str, set[str]] = defaultdict(set)
        for icon_set in sets:
            category_of = {n: c for c, names in icon_set.categories.items() for n in names}
            for name in icon_set.names():
                key = f"{icon_set.prefix}:{name}"
                entry = _Entry(
                    prefix=icon_set.prefix,
                    name=name,
                    name_words=tuple(words(name)),
                    category_words=frozenset(words(category_of.get(name, ""))),
                )
                self._entries[key] = entry
                for w in {*entry.name_words, *entry.category_words}:
                    self._by_word[w].add(key)
        self._by_name: dict[str, list[str]] = defaultdict(list)
        for key, entry in self._entries.items():
            self._by_name[entry.name].append(key)

    def __len__(self) -> int:
        return len(self._entries)

    def search(self, query: str, limit: int = 10) -> list[Candidate]:
        """Ranked candidates for ``query``; empty when nothing matches."""
        q = words(query)
        if not q:
            return []
        scores: dict[str, tuple[float, list[str]]] = {}

        def offer(key: str, score: float, matched: list[str]) -> None:
            if key in self._entries and score > scores.get(key, (0.0, []))[0]:
                scores[key] = (score, matched)

        phrase = " ".join(q)
        for key in self._by_name.get("-".join(q), []):
            offer(key, 100.0, q)
        for place, name in enumerate(synonyms().get(phrase, ())):
            for key in self._by_name.get(name, []):
                offer(key, 85.0 - place, [phrase])
        for w in set(q):
            for place, name in enumerate(synonyms().get(w, ())):
                for key in self._by_name.get(name, []):
                    offer(key, 60.0 - place - 5 * (len(q) - 1), [w])
        for key in self._candidates(q):
            entry = self._entries[key]
            hit = [w for w in q if w in entry.name_words]
            partial = [w for w in q if w not in hit and _prefix_of(w, entry.name_words)]
            extra = len(entry.name_words) - len(hit) - len(partial)
            if len(hit) == len(q):
                offer(key, 90.0 - 3 * extra, hit)
            elif hit or partial:
                share = (len(hit) + 0.6 * len(partial)) / len(q)
                offer(key, 50.0 * share - 2 * extra, hit + partial)
            elif set(q) & entry.category_words:
                offer(key, 10.0, sorted(set(q) & entry.category_words))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1][0], len(self._entries[kv[0]].name), kv[0]))
        return [
            Candidate(source=self.source, icon_id=key, score=round(max(score, 0.1), 1), matched=matched)
            for key, (score, matched) in ranked[:limit]
        ]

    def _candidates(self, q: list[str]) -> set[str]:
        found: set[str] = set()
        for w in q:
            found |= self._by_word.get(w, set())
            if len(w) >= 4:
                for indexed, keys in self._by_word.items():
                    if indexed.startswith(w) or (len(indexed) >= 4 and w.startswith(indexed)):
                        found |= keys
        return found


def _prefix_of(word: str, name_words: tuple[str, ...]) -> bool:
    return len(word) >= 4 and any(
        n.startswith(word) or (len(n) >= 4 and word.startswith(n)) for n in name_words
    )
