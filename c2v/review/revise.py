"""Turn lint and critic findings into a revision: line edits where they suffice.

A critic issue that names a line holding a ``place_at("X9", ...)`` call and a new anchor
is applied directly as a line edit, with no model call. Everything else goes to the
Coder as one list of issues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from c2v.models import CriticIssue, IssueSeverity, LayoutIssue

_PLACE_ANCHOR = re.compile(r"(place_at\(\s*[\"'])([A-Fa-f][1-6])([\"'])")


@dataclass(frozen=True)
class RevisionPlan:
    code: str  # the code after the line edits
    edited_lines: list[int]
    remaining: list[str]  # issues the Coder must still address, as prompt lines

    @property
    def needs_coder(self) -> bool:
        return bool(self.remaining)


def blocking(lint: list[LayoutIssue]) -> list[LayoutIssue]:
    return [i for i in lint if i.severity is IssueSeverity.error]


def plan_revision(code: str, lint: list[LayoutIssue], critic: list[CriticIssue]) -> RevisionPlan:
    lines = code.splitlines()
    edited: list[int] = []
    remaining: list[str] = []
    for found in critic:
        n = found.line
        if found.anchor and n is not None and 1 <= n <= len(lines) and _PLACE_ANCHOR.search(lines[n - 1]):
            lines[n - 1] = _PLACE_ANCHOR.sub(rf"\g<1>{found.anchor.upper()}\g<3>", lines[n - 1], count=1)
            edited.append(n)
            continue
        where = f" (line {n})" if n else ""
        move = f"; move it to {found.anchor}" if found.anchor else ""
        remaining.append(f"{found.problem}{where}{move}{'; ' + found.fix if found.fix else ''}")
    for issue in blocking(lint):
        if issue.line is not None and issue.line in edited:
            continue
        cells = ", ".join(issue.anchors)
        where = f" (line {issue.line}, anchors {cells})" if issue.line else f" (anchors {cells})"
        remaining.append(f"[{issue.rule}] {issue.message}{where}")
    new_code = "\n".join(lines) + ("\n" if code.endswith("\n") else "")
    return RevisionPlan(code=new_code, edited_lines=edited, remaining=remaining)
