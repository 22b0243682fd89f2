"""Render prompt templates from the ``prompts`` package (Jinja with StrictUndefined)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import jinja2


@cache
def _env() -> jinja2.Environment:
    root = str(resources.files("prompts"))
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(root),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - prompts are plain text, never HTML
    )


def render_prompt(name: str, **variables: Any) -> str:
    return _env().get_template(f"{name}.j2").render(**variables).strip() + "\n"
