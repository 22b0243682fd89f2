"""Operator knobs for every provider call, from ``C2V_LLM_*`` environment variables (parsed once)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from c2v.errors import ConfigError


@dataclass(frozen=True)
class LLMKnobs:
    """Operator knobs, from ``C2V_LLM_*`` environment variables; they win over the file."""

    timeout_s: float | None = None  # C2V_LLM_TIMEOUT_S: seconds one HTTP request may take
    max_tries: int = 5  # C2V_LLM_MAX_TRIES: attempts per call, the first one included
    backoff_s: float = 1.0  # C2V_LLM_BACKOFF_S: first retry delay, doubled each try
    backoff_max_s: float = 60.0  # C2V_LLM_BACKOFF_MAX_S: cap on one retry delay
    max_wait_s: float = 300.0  # C2V_LLM_MAX_WAIT_S: longest Retry-After c2v will honour
    rpm: int | None = None  # C2V_LLM_RPM: requests per minute, shared by every agent of a run
    tpm: int | None = None  # C2V_LLM_TPM: tokens per minute, shared likewise


_KNOB_VARS: dict[str, tuple[str, type[int] | type[float], float]] = {
    "timeout_s": ("C2V_LLM_TIMEOUT_S", float, 0.0),
    "max_tries": ("C2V_LLM_MAX_TRIES", int, 1),
    "backoff_s": ("C2V_LLM_BACKOFF_S", float, 0.0),
    "backoff_max_s": ("C2V_LLM_BACKOFF_MAX_S", float, 0.0),
    "max_wait_s": ("C2V_LLM_MAX_WAIT_S", float, 0.0),
    "rpm": ("C2V_LLM_RPM", int, 1),
    "tpm": ("C2V_LLM_TPM", int, 1),
}


def parse_knobs(env: Mapping[str, str]) -> LLMKnobs:
    values: dict[str, float | int] = {}
    for field_name, (var, kind, minimum) in _KNOB_VARS.items():
        raw = env.get(var, "").strip()
        if not raw:
            continue
        try:
            value = kind(raw)
        except ValueError:
            raise ConfigError(f"{var}={raw!r} is not a {kind.__name__}") from None
        if value < minimum or (field_name == "timeout_s" and value <= 0):
            raise ConfigError(f"{var}={raw!r} is out of range (minimum {minimum})")
        values[field_name] = value
    return LLMKnobs(**values)  # type: ignore[arg-type]


@cache
def llm_knobs() -> LLMKnobs:
    """The knobs of this process's environment, parsed on first use."""
    return parse_knobs(os.environ)
