"""Speech configuration: ``--tts NAME`` plus the ``"speech"`` section of ``api_config.json``.

The endpoint and key of a remote speech provider are those of an LLM entry, resolved by
:func:`c2v.llm.settings.resolve_provider` (same file, same environment variables, same
retry knobs), so a key is configured once::

    {"gpt41": {"api_key": "..."},
     "speech": {
        "openai": {"api": "gpt41", "model": "gpt-4o-mini-tts", "voice": "alloy",
                   "languages": {"zh": {"voice": "nova"}}},
        "gemini": {"model": "gemini-2.5-flash-preview-tts", "voice": "Kore"},
        "espeak": {"languages": {"en": {"voice": "en-gb"}}}}}

A local Kokoro or Piper server that speaks OpenAI's wire is an ``openai-compatible`` LLM
entry (``base_url`` and ``model``) named by ``"api"``. Like the LLM settings, everything
is resolved once on the driver; keys stay :class:`pydantic.SecretStr`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import Field, ValidationError

from c2v.errors import ConfigError, first_error
from c2v.llm.settings import (
    DEFAULT_CONFIG_NAME,
    ProviderSettings,
    default_config_path,
    require_usable,
    resolve_provider,
)
from c2v.models import Strict
from c2v.speech.prices import SpeechPrice, speech_price


class TTSKind(StrEnum):
    espeak = "espeak"  # Debian's espeak-ng, offline, the default
    openai = "openai"  # /v1/audio/speech: OpenAI, Azure OpenAI, OpenAI-compatible servers
    gemini = "gemini"  # Gemini speech generation through google-genai


class LanguageVoice(Strict):
    voice: str | None = None
    model: str | None = None


class SpeechEntry(Strict):
    """One provider's entry under ``"speech"`` in ``api_config.json``."""

    api: str | None = None  # the LLM entry whose endpoint and key are used
    model: str | None = None
    voice: str | None = None
    languages: dict[str, LanguageVoice] = Field(default_factory=dict)
    price: SpeechPrice | None = None


#: Default model, per-language voices and fallback voice of each provider.
_DEFAULT_MODEL = {
    TTSKind.espeak: "espeak-ng",
    TTSKind.openai: "gpt-4o-mini-tts",
    TTSKind.gemini: "gemini-2.5-flash-preview-tts",
}
_DEFAULT_VOICES: dict[TTSKind, dict[str, str]] = {
    # espeak-ng voices are languages; Mandarin is "cmn", Cantonese would be "yue".
    TTSKind.espeak: {"en": "en-us", "zh": "cmn", "zh-tw": "cmn", "ja": "ja", "ko": "ko"},
    TTSKind.openai: {},
    TTSKind.gemini: {},
}
_FALLBACK_VOICE = {TTSKind.espeak: "", TTSKind.openai: "alloy", TTSKind.gemini: "Kore"}
#: The LLM entry a remote provider borrows its endpoint and key from by default.
_DEFAULT_API = {TTSKind.openai: "gpt41", TTSKind.gemini: "gemini"}


class SpeechSettings(Strict):
    """Everything a speech provider needs, resolved on the driver."""

    kind: TTSKind
    model: str
    voice: str | None = None
    languages: dict[str, LanguageVoice] = Field(default_factory=dict)
    connection: ProviderSettings | None = None  # endpoint, key, timeouts, retry policy
    price: SpeechPrice = Field(default_factory=SpeechPrice)

    def voice_for(self, language: str) -> str:
        own = self.languages.get(language)
        if own is not None and own.voice:
            return own.voice
        if self.voice:
            return self.voice
        defaults = _DEFAULT_VOICES[self.kind]
        base = language.split("-", maxsplit=1)[0]
        return defaults.get(language) or defaults.get(base) or _FALLBACK_VOICE[self.kind] or base

    def model_for(self, language: str) -> str:
        own = self.languages.get(language)
        return own.model if own is not None and own.model else self.model

    def secrets(self) -> list[str]:
        return self.connection.secrets() if self.connection is not None else []

    @classmethod
    def espeak(cls) -> SpeechSettings:
        return cls(kind=TTSKind.espeak, model=_DEFAULT_MODEL[TTSKind.espeak])


def parse_kind(name: str) -> TTSKind:
    try:
        return TTSKind(name.strip().lower())
    except ValueError:
        choices = ", ".join(k.value for k in TTSKind)
        raise ConfigError(f"unknown speech provider {name!r} for --tts; choose one of {choices}") from None


def load_speech_section(path: Path | None) -> dict[TTSKind, SpeechEntry]:
    """The ``"speech"`` section of ``api_config.json`` (empty when there is none)."""
    if path is None or not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # the LLM loader reports an unreadable file in one line; nothing to add here
    section = data.get("speech", {}) if isinstance(data, dict) else {}
    if not isinstance(section, dict):
        raise ConfigError(f'API config file {path}, "speech": must map provider names to entries')
    entries: dict[TTSKind, SpeechEntry] = {}
    for name, body in section.items():
        kind = parse_kind(str(name))
        try:
            entries[kind] = SpeechEntry.model_validate(body)
        except ValidationError as exc:
            line = first_error(exc).line()
            raise ConfigError(f'API config file {path}, "speech.{name}": {line}') from None
    return entries


def resolve_speech(
    tts: str, config_path: Path | None = None, env: Mapping[str, str] | None = None
) -> SpeechSettings:
    """The settings for ``--tts NAME``; a provider without its key is a one-line ConfigError."""
    env = os.environ if env is None else env
    kind = parse_kind(tts)
    path = config_path if config_path is not None else default_config_path(env)
    entry = load_speech_section(path).get(kind, SpeechEntry())
    model = entry.model or _DEFAULT_MODEL[kind]
    connection = None
    if kind is not TTSKind.espeak:
        api = entry.api or _DEFAULT_API[kind]
        try:
            connection = resolve_provider(api, path, env)
            require_usable(connection)
        except ConfigError as exc:
            raise ConfigError(f"--tts {kind.value} (endpoint and key of {api!r}): {exc}") from None
        if connection.kind.value not in _WIRES[kind]:
            raise ConfigError(
                f"--tts {kind.value}: entry {api!r} is a {connection.kind.value} endpoint; "
                f'name another "api" under "speech.{kind.value}" in {DEFAULT_CONFIG_NAME}'
            )
    price = entry.price or speech_price(model) or SpeechPrice()
    return SpeechSettings(
        kind=kind,
        model=model,
        voice=entry.voice,
        languages=entry.languages,
        connection=connection,
        price=price,
    )


#: Which LLM endpoint kinds speak each speech wire.
_WIRES = {TTSKind.openai: {"openai", "azure"}, TTSKind.gemini: {"gemini"}}
