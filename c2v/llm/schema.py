"""JSON schemas for structured replies, in the subset every provider accepts.

OpenAI's strict mode, Anthropic's structured outputs and Gemini's ``responseJsonSchema``
agree on a common core: ``type``, ``properties``, ``required``, ``additionalProperties:
false``, ``items``, ``enum``, ``anyOf`` and ``description``, with no ``$ref``. A pydantic
model's schema is reduced to that core: references are inlined, every property becomes
required, and length, size and pattern constraints move into the description, where the
model still reads them. The reply is validated against the pydantic model afterwards in
any case, so the schema only has to steer the model, not to be the last word.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel

from c2v.llm.base import ResponseSchema

_KEEP = {"type", "enum", "const", "description", "title"}
_HINTS = {
    "minLength": "minimum length {}",
    "maxLength": "maximum length {}",
    "minItems": "minimum number of items {}",
    "maxItems": "maximum number of items {}",
    "pattern": "must match the regular expression {}",
    "minimum": "minimum value {}",
    "maximum": "maximum value {}",
}


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs[ref.removeprefix("#/$defs/")]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _resolve(merged, defs)
    return node


def _strict(node: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    if depth > 32:
        raise ValueError("schema nests too deeply (recursive models are not supported)")
    node = _resolve(node, defs)
    out: dict[str, Any] = {k: v for k, v in node.items() if k in _KEEP}
    hints = [text.format(node[key]) for key, text in _HINTS.items() if key in node]
    if hints:
        out["description"] = "; ".join([*filter(None, [out.get("description", "")]), *hints])
    if "anyOf" in node:
        out["anyOf"] = [_strict(option, defs, depth + 1) for option in node["anyOf"]]
    if node.get("type") == "object" or "properties" in node:
        props = node.get("properties", {})
        out["type"] = "object"
        out["properties"] = {name: _strict(sub, defs, depth + 1) for name, sub in props.items()}
        out["required"] = list(props)
        out["additionalProperties"] = False
    if "items" in node:
        out["items"] = _strict(node["items"], defs, depth + 1)
    return out


@cache
def response_schema(model: type[BaseModel]) -> ResponseSchema:
    """The provider-neutral structured-output schema for ``model``."""
    raw = model.model_json_schema()
    defs = raw.get("$defs", {})
    return ResponseSchema(name=model.__name__, json_schema=_strict(raw, defs))
