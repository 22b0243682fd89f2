"""The ``--api`` names c2v knows: each one's wire (:class:`ProviderKind`) and default model."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProviderKind(StrEnum):
    offline = "offline"
    gemini = "gemini"  # google-genai
    openai = "openai"  # openai SDK: OpenAI, Azure's /openai/v1/ endpoint, OpenAI-compatible servers
    azure = "azure"  # openai SDK's AzureOpenAI: endpoint + api-version + deployment
    anthropic = "anthropic"  # anthropic SDK: Anthropic, or AnthropicFoundry for Azure AI Foundry


@dataclass(frozen=True)
class Preset:
    kind: ProviderKind
    model: str | None
    needs_key: bool = True
    needs_base_url: bool = False


#: ``--api`` names: Code2Video's, plus ``openai-compatible`` and ``offline``.
PRESETS: dict[str, Preset] = {
    "gemini": Preset(ProviderKind.gemini, "gemini-2.5-flash"),
    "gpt51": Preset(ProviderKind.openai, "gpt-5.1"),
    "gpt41": Preset(ProviderKind.openai, "gpt-4.1"),
    "gpt4o": Preset(ProviderKind.openai, "gpt-4o"),
    "claude": Preset(ProviderKind.anthropic, "claude-opus-5-5"),
    "openai-compatible": Preset(ProviderKind.openai, None, needs_key=False, needs_base_url=True),
    "offline": Preset(ProviderKind.offline, "offline-transcript", needs_key=False),
}
_ALIASES = {
    **{name.replace("-", ""): name for name in PRESETS},
    "anthropic": "claude",
    "compatible": "openai-compatible",
    "gpt5.1": "gpt51",
    "gpt4.1": "gpt41",
}
#: Entries of Code2Video's file that are not language models.
NON_LLM_ENTRIES = frozenset({"iconfinder"})


def canonical_name(name: str) -> str:
    """Code2Video's and c2v's spellings of a provider name (``Gemini``, ``gpt-41``) made one."""
    key = name.strip().lower().replace("_", "-")
    return _ALIASES.get(key.replace("-", ""), key)
