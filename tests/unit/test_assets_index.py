"""The bundled icon set and its name-and-keyword index."""

from __future__ import annotations

import pytest

from c2v.assets.iconset import bundled_sets
from c2v.assets.index import IconIndex, stem, synonyms


@pytest.fixture(scope="module")
def index() -> IconIndex:
    return IconIndex(bundled_sets())


def top(index: IconIndex, query: str) -> str:
    found = index.search(query, 3)
    assert found, f"nothing for {query!r}"
    return found[0].icon_id.split(":", 1)[1]


def test_bundled_set_is_a_licensed_subset_of_useful_size() -> None:
    (fluent,) = bundled_sets()
    assert fluent.prefix == "fluent-emoji-flat"
    assert fluent.license.spdx == "MIT" and fluent.author == "Microsoft Corporation"
    assert 500 <= len(fluent.icons) <= 2000
    assert not [n for n in fluent.icons if n.endswith("-medium-dark")], "skin-tone variants are left out"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("magnifying glass", "magnifying-glass-tilted-left"),
        ("Magnifying-Glass", "magnifying-glass-tilted-left"),
        ("coin", "coin"),
        ("coins", "coin"),
        ("planet", "ringed-planet"),
        ("orbit", "ringed-planet"),
        ("probability", "game-die"),
        ("search", "magnifying-glass-tilted-left"),
        ("light bulb", "light-bulb"),
        ("red apples", "red-apple"),
        ("magnif", "magnifying-glass-tilted-left"),
    ],
)
def test_ranked_matches(index: IconIndex, query: str, expected: str) -> None:
    assert top(index, query) == expected


def test_exact_names_outrank_synonyms_and_partial_words(index: IconIndex) -> None:
    found = index.search("light bulb", 5)
    assert found[0].score == 100.0
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)


def test_nonsense_finds_nothing(index: IconIndex) -> None:
    assert index.search("xyzzy qwrtp") == []
    assert index.search("the of a") == []


def test_every_synonym_names_a_bundled_icon() -> None:
    names = {n for s in bundled_sets() for n in s.names()}
    broken = {k: [n for n in v if n not in names] for k, v in synonyms().items()}
    assert not {k: v for k, v in broken.items() if v}


def test_stem() -> None:
    assert [stem(w) for w in ("coins", "boxes", "batteries", "glass", "bus", "axis")] == [
        "coin", "box", "battery", "glass", "bus", "axis",
    ]  # fmt: skip


def test_alias_flip_builds_a_mirrored_svg() -> None:
    (fluent,) = bundled_sets()
    alias = next(iter(fluent.aliases))
    svg = fluent.svg(alias)
    assert "scale(-1 1)" in svg or "scale(1 -1)" in svg or "rotate(" in svg
