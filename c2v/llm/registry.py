"""Build an LLM client from resolved provider settings (or a provider name)."""

from __future__ import annotations

from c2v.llm.base import LLMClient
from c2v.llm.offline import OfflineLLM
from c2v.llm.ratelimit import RateGate
from c2v.llm.settings import PRESETS, ProviderKind, ProviderSettings, canonical_name, resolve_provider

#: Names accepted by --api (Code2Video's spellings are accepted too); entries of
#: api_config.json with other names work as well.
KNOWN_PROVIDERS = tuple(PRESETS)


def canonical_provider(name: str) -> str:
    """The canonical spelling of a provider name (``Gemini`` -> ``gemini``, ``gpt-41`` -> ``gpt41``)."""
    return canonical_name(name)


def make_llm(
    provider: ProviderSettings | str, role: str = "coder", gate: RateGate | None = None
) -> LLMClient:
    """A client for ``provider`` acting as ``role`` (planner, coder, critic).

    Given a name, the settings are resolved here from the environment and
    ``api_config.json``; the pipeline resolves them once on the driver instead and hands
    the settings to its actors.
    """
    settings = resolve_provider(provider) if isinstance(provider, str) else provider
    # Each SDK takes a second or two to import: only the one in use is loaded.
    if settings.kind is ProviderKind.offline:
        return OfflineLLM()
    if settings.kind is ProviderKind.gemini:
        from c2v.llm.gemini import GeminiLLM  # noqa: PLC0415

        return GeminiLLM(settings, role, gate)
    if settings.kind is ProviderKind.anthropic:
        from c2v.llm.claude import ClaudeMessages  # noqa: PLC0415

        return ClaudeMessages(settings, role, gate)
    from c2v.llm.openai_chat import OpenAIChat  # noqa: PLC0415

    return OpenAIChat(settings, role, gate)
