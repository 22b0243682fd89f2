import pytest

from c2v.core.slug import check_prefix, clean_topic, slugify
from c2v.errors import UsageError


def test_plain_topic():
    assert slugify("Euler's Formula and e^(πi) = -1") == "eulers-formula-and-e-πi-1"


def test_chinese_stays_readable():
    assert slugify("勾股定理") == "勾股定理"


def test_emoji_only_topic_gets_a_hashed_name():
    slug = slugify("🎉🎉")
    assert slug.startswith("topic-") and len(slug) == len("topic-") + 8


def test_traversal_characters_vanish():
    slug = slugify("../../etc/passwd")
    assert "/" not in slug and ".." not in slug and slug == "etc-passwd"


def test_long_topics_are_bounded_and_distinct():
    a, b = slugify("x" * 200 + "a"), slugify("x" * 200 + "b")
    assert len(a) <= 70 and a != b


def test_same_topic_same_slug():
    assert slugify("Binary search") == slugify("Binary search")


def test_clean_topic_rejects_empty_long_and_control():
    with pytest.raises(UsageError, match="empty"):
        clean_topic("   ")
    with pytest.raises(UsageError, match="10000 characters"):
        clean_topic("a" * 10_000)
    with pytest.raises(UsageError, match="control"):
        clean_topic("a\x00b")
    assert clean_topic("  binary \n search ") == "binary search"


@pytest.mark.parametrize("bad", ["..", "../x", "a/b", "/abs", "", ".hidden", "a..b", "x" * 81])
def test_prefix_rejects_unsafe_names(bad):
    with pytest.raises(UsageError):
        check_prefix(bad)


def test_prefix_accepts_code2video_style_names():
    assert check_prefix("TEST-LIST") == "TEST-LIST"
    assert check_prefix("AllGemini-Run_2.1") == "AllGemini-Run_2.1"
