"""The repair policy (after Code2Video's ScopeRefine), as a pure function of the history.

After a failed render the Coder widens its scope step by step: first a targeted fix of the
failing lines, then whole-file fixes, then a fresh regeneration of the section with the
error quoted; ``max_fix_bug_tries`` bounds the fixes of one generation and
``max_regenerate_tries`` the regenerations.

A Coder reply with no usable code (``unusable_reply``) takes the next rung without a
render: a targeted fix goes on to the whole-file fix, anything else (a first generation
included) to a regeneration. Both bounds count those attempts too, so the ladder stays
bounded whatever the model answers.
"""

from __future__ import annotations

from pydantic import Field

from c2v.models import AttemptKind, AttemptRecord, RenderResult, RenderStatus, Strict


class RepairPolicy(Strict):
    max_fix_bug_tries: int = Field(default=3, ge=0, le=20)
    max_regenerate_tries: int = Field(default=2, ge=0, le=20)


def next_step(
    history: list[AttemptRecord], last: RenderResult, policy: RepairPolicy, has_code: bool = True
) -> AttemptKind | None:
    """What to ask the Coder for after the failed attempt ``history[-1]``; None to give up.

    ``has_code``: whether the section has code to fix (not when its first reply was unusable).
    """
    if not last.status.is_models_fault():
        return None
    since_generation = 0
    for record in reversed(history):
        if record.kind.starts_version():
            break
        since_generation += 1
    regenerations = sum(1 for r in history if r.kind is AttemptKind.regenerate)
    if last.status is RenderStatus.unusable_reply:
        fixable = has_code and history[-1].kind is AttemptKind.fix_lines
        if fixable and since_generation < policy.max_fix_bug_tries:
            return AttemptKind.fix_file
        return AttemptKind.regenerate if regenerations < policy.max_regenerate_tries else None
    if not has_code:
        return AttemptKind.regenerate if regenerations < policy.max_regenerate_tries else None
    if since_generation < policy.max_fix_bug_tries:
        targeted = last.status is RenderStatus.code_error and last.error_line is not None
        if since_generation == 0 and targeted:
            return AttemptKind.fix_lines
        return AttemptKind.fix_file
    if regenerations < policy.max_regenerate_tries:
        return AttemptKind.regenerate
    return None
