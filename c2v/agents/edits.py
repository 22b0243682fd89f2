"""SEARCH/REPLACE edits as real models write them: tolerant where safe, never ambiguous.

Each block is matched against the current file by the first rule that finds it, in
order: the exact text (trailing whitespace ignored), the same lines shifted by one
consistent indentation offset (the replacement is shifted by the same offset), the same
lines with whitespace runs collapsed, then a close match above a similarity threshold.
A rule applies only when it finds exactly one place; two places are an ambiguous edit,
which is never applied. A reply that carries no edit but a complete scene is taken as
the whole new file. Every refusal is a :class:`ReplyParseError` whose message names the
block and why, written to be quoted back to the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from enum import StrEnum

from c2v.errors import ReplyParseError
from c2v.llm.parsing import extract_python, scene_class

#: Lowest similarity (difflib ratio over the normalised lines) of a close match.
FUZZY_THRESHOLD = 0.88
#: Close matches need this many non-blank SEARCH lines: one misquoted short line is a guess.
FUZZY_MIN_LINES = 3
#: A runner-up this close to the best close match (and elsewhere in the file) makes it ambiguous.
FUZZY_MARGIN = 0.04

_EDIT = re.compile(
    r"<{5,9} ?SEARCH[^\n]*\n(.*?)\n?={5,9}[ \t]*\n(.*?)\n?>{5,9} ?REPLACE",
    re.DOTALL,
)


class MatchKind(StrEnum):
    exact = "exact"
    indent_offset = "indent_offset"
    whitespace = "whitespace"
    fuzzy = "fuzzy"


@dataclass(frozen=True)
class EditBlock:
    index: int  # 1-based, in reply order
    search: str
    replace: str


@dataclass(frozen=True)
class AppliedEdit:
    index: int
    kind: MatchKind
    first_line: int  # 1-based line of the file where the SEARCH text matched
    similarity: float = 1.0


@dataclass(frozen=True)
class EditResult:
    code: str
    applied: list[AppliedEdit] = field(default_factory=list)
    #: True when the reply carried the whole file instead of edits.
    whole_file: bool = False


def parse_edit_blocks(reply: str) -> list[EditBlock]:
    """Every SEARCH/REPLACE block of a reply, in order (none is not an error here)."""
    return [EditBlock(i, s, r) for i, (s, r) in enumerate(_EDIT.findall(reply), 1)]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _min_indent(lines: list[str]) -> int:
    return min((_indent(x.expandtabs(4)) for x in lines if x.strip()), default=0)


def _trim_blank(lines: list[str]) -> list[str]:
    lo, hi = 0, len(lines)
    while lo < hi and not lines[lo].strip():
        lo += 1
    while hi > lo and not lines[hi - 1].strip():
        hi -= 1
    return lines[lo:hi]


def _shift(lines: list[str], delta: int) -> list[str]:
    """Re-indent ``lines`` by ``delta`` spaces (removing at most the indentation there is)."""
    if delta == 0:
        return lines
    out = []
    for line in lines:
        if not line.strip():
            out.append(line.strip())
        elif delta > 0:
            out.append(" " * delta + line)
        else:
            out.append(line[min(-delta, _indent(line)) :])
    return out


def _norm(line: str) -> str:
    return " ".join(line.split())


def _offset_of(window: list[str], want: list[str]) -> int | None:
    """The one indentation offset that turns ``want`` into ``window``, or None."""
    delta: int | None = None
    for have, line in zip(window, want, strict=True):
        if not line.strip() and not have.strip():
            continue
        if have.strip() != line.strip():
            return None
        d = _indent(have.expandtabs(4)) - _indent(line.expandtabs(4))
        if delta is None:
            delta = d
        elif d != delta:
            return None
    return delta


def _first_offset(window: list[str], want: list[str]) -> int:
    for have, line in zip(window, want, strict=False):
        if have.strip() and line.strip():
            return _indent(have.expandtabs(4)) - _indent(line.expandtabs(4))
    return 0


@dataclass(frozen=True)
class _Hit:
    start: int
    length: int
    delta: int
    similarity: float = 1.0


def _where(hits: list[_Hit]) -> str:
    return ", ".join(str(h.start + 1) for h in hits[:5])


def _find(lines: list[str], want: list[str], label: str) -> tuple[MatchKind, _Hit]:
    n = len(want)
    windows = range(len(lines) - n + 1)
    rules: list[tuple[MatchKind, list[_Hit]]] = []
    exact = [_Hit(i, n, 0) for i in windows if [x.rstrip() for x in lines[i : i + n]] == want]
    rules.append((MatchKind.exact, exact))
    offsets = [(i, _offset_of(lines[i : i + n], want)) for i in windows]
    rules.append((MatchKind.indent_offset, [_Hit(i, n, d) for i, d in offsets if d is not None]))
    normed = [_norm(x) for x in want]
    loose = [
        _Hit(i, n, _first_offset(lines[i : i + n], want))
        for i in windows
        if [_norm(x) for x in lines[i : i + n]] == normed
    ]
    rules.append((MatchKind.whitespace, loose))
    for kind, hits in rules:
        if len(hits) == 1:
            return kind, hits[0]
        if len(hits) > 1:
            raise ReplyParseError(
                f"{label}: the SEARCH text occurs {len(hits)} times (lines {_where(hits)}); "
                "include more surrounding lines so that it matches exactly one place"
            )
    return _fuzzy(lines, want, label)


def _fuzzy(lines: list[str], want: list[str], label: str) -> tuple[MatchKind, _Hit]:
    if sum(1 for x in want if x.strip()) < FUZZY_MIN_LINES:
        raise ReplyParseError(
            f"{label}: the SEARCH text was not found in the file; copy the SEARCH lines exactly "
            f"from the current file: {want[0].strip()[:80]!r}"
        )
    target = "\n".join(_norm(x) for x in want)
    scored: list[_Hit] = []
    for length in {max(1, len(want) - 1), len(want), len(want) + 1}:
        for i in range(len(lines) - length + 1):
            window = lines[i : i + length]
            ratio = SequenceMatcher(None, target, "\n".join(_norm(x) for x in window), autojunk=False).ratio()
            scored.append(_Hit(i, length, _first_offset(window, want), ratio))
    if not scored:
        raise ReplyParseError(f"{label}: the SEARCH text is longer than the whole file")
    scored.sort(key=lambda h: h.similarity, reverse=True)
    best = scored[0]
    if best.similarity < FUZZY_THRESHOLD:
        raise ReplyParseError(
            f"{label}: the SEARCH text was not found in the file (closest: line {best.start + 1}, "
            f"{best.similarity:.0%} similar); copy the SEARCH lines exactly from the current file"
        )
    rivals = [
        h
        for h in scored[1:]
        if h.similarity >= max(FUZZY_THRESHOLD, best.similarity - FUZZY_MARGIN)
        and (h.start >= best.start + best.length or best.start >= h.start + h.length)
    ]
    if rivals:
        raise ReplyParseError(
            f"{label}: the SEARCH text is close to {len(rivals) + 1} places (lines "
            f"{_where([best, *rivals])}); copy it exactly from the file, with more surrounding lines"
        )
    return MatchKind.fuzzy, best


def _apply_one(code: str, block: EditBlock, label: str) -> tuple[str, AppliedEdit]:
    if not block.search.strip():
        raise ReplyParseError(f"{label}: the SEARCH part is empty; quote the lines to change")
    count = code.count(block.search)
    at = code.find(block.search)
    # A quote that starts mid-line is taken as is only within one line: across lines its
    # indentation would be wrong.
    if count == 1 and (at == 0 or code[at - 1] == "\n" or "\n" not in block.search.strip("\n")):
        line = code[:at].count("\n") + 1
        return code.replace(block.search, block.replace, 1), AppliedEdit(block.index, MatchKind.exact, line)
    lines = code.splitlines()
    want = [x.rstrip() for x in _trim_blank(block.search.splitlines())]
    kind, hit = _find(lines, want, label)
    replacement = _trim_blank(block.replace.splitlines())
    window = lines[hit.start : hit.start + hit.length]
    # A replacement already indented like the file is kept; else it moves with the SEARCH offset.
    if _min_indent(replacement) != _min_indent(window):
        replacement = _shift(replacement, hit.delta)
    lines[hit.start : hit.start + hit.length] = replacement
    edited = "\n".join(lines) + "\n"
    return edited, AppliedEdit(block.index, kind, hit.start + 1, round(hit.similarity, 3))


def apply_edit_blocks(code: str, blocks: list[EditBlock]) -> EditResult:
    """Apply ``blocks`` one after another; the first that cannot be placed raises ReplyParseError."""
    applied = []
    for block in blocks:
        label = f"edit {block.index} of {len(blocks)}" if len(blocks) > 1 else "the edit"
        code, done = _apply_one(code, block, label)
        applied.append(done)
    return EditResult(code=code, applied=applied)


def apply_reply(code: str, reply: str, scene_name: str) -> EditResult:
    """Edit ``code`` as a reply asks: its SEARCH/REPLACE blocks, or the whole file it carries.

    The result must still define ``scene_name``; anything else is a ReplyParseError.
    """
    blocks = parse_edit_blocks(reply)
    if not blocks:
        try:
            whole = extract_python(reply)
        except ReplyParseError:
            raise ReplyParseError(
                "the reply has no SEARCH/REPLACE block and no complete scene; "
                "answer with edits in the requested form"
            ) from None
        scene_class(whole, scene_name)
        return EditResult(code=whole, whole_file=True)
    result = apply_edit_blocks(code, blocks)
    scene_class(result.code, scene_name)
    return result


def apply_search_replace(code: str, reply: str) -> str:
    """The file after every SEARCH/REPLACE block of ``reply``; a reply without one is an error."""
    blocks = parse_edit_blocks(reply)
    if not blocks:
        raise ReplyParseError("the reply has no SEARCH/REPLACE block")
    return apply_edit_blocks(code, blocks).code
