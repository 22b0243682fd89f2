"""Subtitle lines broken by display width (wcwidth: a CJK character takes two cells).

Latin text breaks between words; CJK text breaks between any two characters, since it
has no spaces. Closing punctuation (``，。！？`` ...) never starts a line: it stays with
the character before it. A word wider than a line is cut.
"""

from __future__ import annotations

import re

from wcwidth import wcswidth

#: Cells per subtitle line: about 42 Latin characters (21 CJK) landscape, 24 (12) portrait.
LANDSCAPE_CELLS = 42
PORTRAIT_CELLS = 24
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
_NO_LINE_START = set("，。！？；：、）》」』】〉,.!?;:)]}%…・ー")


def width(text: str) -> int:
    w = wcswidth(text)
    return w if w >= 0 else len(text)


def _tokens(text: str) -> list[str]:
    """Words (with the space before them) and single CJK characters, punctuation attached."""
    tokens: list[str] = []
    word = ""
    for ch in " ".join(text.split()):
        if _CJK.match(ch) or ch == " ":
            space = " " if word == " " else ""
            if word.strip():
                tokens.append(word)
            word = ""
            if ch in _NO_LINE_START and tokens:
                tokens[-1] += ch
            elif ch != " ":
                tokens.append(space + ch)
            else:
                word = " "
        elif ch in _NO_LINE_START and not word.strip() and tokens:
            tokens[-1] += ch
        else:
            word += ch
    if word.strip():
        tokens.append(word)
    return tokens


def wrap(text: str, cells: int = LANDSCAPE_CELLS) -> list[str]:
    """``text`` as lines of at most ``cells`` display cells each."""
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        if line and width(line + token) > cells:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line = (line + token) if line else token.lstrip()
        while width(line) > cells:  # a single word longer than a line
            cut = len(line)
            while cut > 1 and width(line[:cut]) > cells:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return lines
