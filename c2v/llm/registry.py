"""Build an LLM client from a provider name."""

from __future__ import annotations

from c2v.errors import ConfigError
from c2v.llm.base import LLMClient
from c2v.llm.offline import OfflineLLM

#: Names accepted by --api, with Code2Video's spellings; only `offline` is built in so far.
KNOWN_PROVIDERS = ("offline",)
_ALIASES = {"offline": "offline"}


def canonical_provider(name: str) -> str:
    key = name.strip().lower()
    if key not in _ALIASES:
        raise ConfigError(f"unknown provider {name!r}; available: {', '.join(KNOWN_PROVIDERS)}")
    return _ALIASES[key]


def make_llm(provider: str) -> LLMClient:
    name = canonical_provider(provider)
    if name == "offline":
        return OfflineLLM()
    raise ConfigError(f"provider {name!r} is not available")
