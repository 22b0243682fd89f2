"""The language a video speaks: detected from the topic unless the user names it."""

from __future__ import annotations

import re

from c2v.errors import ConfigError

LANGUAGE_NAMES = {
    "en": "English",
    "zh": "Simplified Chinese (简体中文)",
    "zh-tw": "Traditional Chinese (繁體中文)",
    "ja": "Japanese (日本語)",
    "ko": "Korean (한국어)",
    "ru": "Russian",
    "el": "Greek",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
}
CJK_LANGUAGES = {"zh", "zh-tw", "ja", "ko"}
#: Lecture-line limits the prompts ask for (the models' validators allow some slack).
LINE_WORDS = 10
LINE_CJK_CHARS = 20

_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_GREEK = re.compile(r"[\u0370-\u03ff]")


def detect_language(text: str) -> str:
    """A language code from the script of ``text`` (English when nothing stands out)."""
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        return "zh"
    if _HANGUL.search(text):
        return "ko"
    if _CYRILLIC.search(text):
        return "ru"
    letters = [ch for ch in text if ch.isalpha()]
    if letters and sum(1 for ch in letters if _GREEK.match(ch)) > len(letters) / 2:
        return "el"
    return "en"


def check_language(code: str) -> str:
    key = code.strip().lower()
    if key not in LANGUAGE_NAMES:
        raise ConfigError(f"unknown language {code!r}; choose one of {', '.join(LANGUAGE_NAMES)}")
    return key


def language_rule(code: str) -> str:
    """The sentence every content prompt carries about language and line length."""
    name = LANGUAGE_NAMES[code]
    cjk = code in CJK_LANGUAGES
    limit = f"at most {LINE_CJK_CHARS} characters" if cjk else f"at most {LINE_WORDS} words"
    return (
        f"Write every title, lecture line and on-screen label in {name}; formulas stay in LaTeX. "
        f"Each lecture line has {limit}."
    )
