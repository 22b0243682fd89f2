"""The storyboard's ``visual_elements`` as models write them, made valid or dropped with a note.

An icon is decoration: a malformed element costs that element, never the storyboard.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from c2v.models import MAX_VISUAL_ELEMENTS, VisualElement


def fix_elements(section: dict[str, Any], notes: list[str]) -> None:
    """Accept plain strings and ``{name, purpose}`` objects; cut to the limit; drop the rest."""
    raw = section.get("visual_elements")
    if raw is None:
        return
    sid = section.get("id")
    items = raw if isinstance(raw, list) else [raw]
    kept: list[dict[str, Any]] = []
    for item in items:
        entry = {"name": item} if isinstance(item, str) else item
        if isinstance(entry, dict):
            entry = {k: v for k, v in entry.items() if k in ("name", "purpose")}
        try:
            kept.append(VisualElement.model_validate(entry).model_dump())
        except ValidationError:
            notes.append(
                f"storyboard section {sid}: visual element {str(item)[:60]!r} dropped (not a short name)"
            )
    if len(kept) > MAX_VISUAL_ELEMENTS:
        notes.append(f"storyboard section {sid}: {len(kept)} visual elements cut to {MAX_VISUAL_ELEMENTS}")
        kept = kept[:MAX_VISUAL_ELEMENTS]
    section["visual_elements"] = kept
