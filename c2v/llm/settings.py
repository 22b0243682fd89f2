"""Provider configuration: Code2Video's ``api_config.json``, environment variables, knobs.

Resolution happens once, on the driver, at the CLI boundary; the resulting
:class:`ProviderSettings` travels to the agent actors, which never read files or the
environment themselves. Keys are :class:`pydantic.SecretStr` from the moment they are
read: their ``repr``, ``str`` and JSON dumps show ``**********``.

The file is Code2Video's, unchanged::

    {"gemini": {"api_key": "...", "model": "gemini-2.5-flash"},
     "gpt41":  {"base_url": "https://RESOURCE.openai.azure.com", "api_version": "2024-10-21",
                "api_key": "...", "model": "gpt-41-deployment"},
     "gpt51":  {"base_url": "https://RESOURCE.openai.azure.com/openai/v1/", "api_key": "...",
                "model": "gpt-5-mini"},
     "claude": {"base_url": "https://RESOURCE.services.ai.azure.com/anthropic", "api_key": "...",
                "model": "claude-opus-5-5"},
     "iconfinder": {"api_key": "..."}}

with optional c2v fields per entry (``provider``, ``models`` per role, ``timeout_s``,
``max_output_tokens``, ``structured_output``, ``rpm``, ``tpm``) and an optional top-level
``"prices"`` table. Environment variables win over the file (see :func:`resolve_provider`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr

from c2v.errors import ConfigError
from c2v.llm.api_config import (
    CONFIG_ENV,
    DEFAULT_CONFIG_NAME,
    PLACEHOLDER_PREFIX,
    ApiConfig,
    EntryConfig,
    EntryProvider,
    RoleModels,
    default_config_path,
    load_api_config,
)
from c2v.llm.knobs import llm_knobs, parse_knobs
from c2v.llm.presets import NON_LLM_ENTRIES, PRESETS, Preset, ProviderKind, canonical_name
from c2v.llm.prices import DEFAULT_PRICES, Price
from c2v.models import Strict

__all__ = [  # the file's names stay importable from here, where callers have always found them
    "CONFIG_ENV",
    "DEFAULT_CONFIG_NAME",
    "PLACEHOLDER_PREFIX",
    "PRESETS",
    "ApiConfig",
    "EntryConfig",
    "EntryProvider",
    "Preset",
    "ProviderKind",
    "ProviderSettings",
    "RoleModels",
    "canonical_name",
    "configured_names",
    "default_config_path",
    "load_api_config",
    "require_usable",
    "resolve_provider",
]

ROLES = ("planner", "coder", "critic")


# Which hosts a vendor-wide key variable may be sent to: a key only goes to its own vendor.
_OPENAI_HOSTS = ("api.openai.com",)
_AZURE_HOST_SUFFIXES = (".azure.com", ".azure.us", ".azure.cn")
_ANTHROPIC_HOSTS = ("api.anthropic.com",)
GEMINI_KEY_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_AI_STUDIO_API_KEY")
DEFAULT_AZURE_API_VERSION = "2024-10-21"


# -- the resolved settings --------------------------------------------------------------------
class ProviderSettings(Strict):
    """Everything a provider client needs, resolved on the driver and sent to the actors."""

    name: str
    kind: ProviderKind
    model: str
    role_models: dict[str, str] = Field(default_factory=dict)
    api_key: SecretStr | None = None
    key_source: str | None = None  # where the key came from ("env GEMINI_API_KEY"), never the key
    base_url: str | None = None
    api_version: str | None = None
    timeout_s: float = Field(default=180.0, gt=0)
    max_tries: int = Field(default=5, ge=1)
    backoff_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    max_wait_s: float = Field(default=300.0, ge=0)
    max_output_tokens: int | None = None
    structured_output: bool = True
    rpm: int | None = None
    tpm: int | None = None
    prices: dict[str, Price] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    def model_for(self, role: str) -> str:
        return self.role_models.get(role, self.model)

    @property
    def is_foundry(self) -> bool:
        """Azure AI Foundry's Anthropic endpoint (Code2Video's ``claude`` entry)."""
        return self.kind is ProviderKind.anthropic and _is_foundry(self.base_url)

    def secrets(self) -> list[str]:
        """The secret values this configuration holds, for scrubbing error text."""
        return [self.api_key.get_secret_value()] if self.api_key is not None else []

    @classmethod
    def offline(cls) -> ProviderSettings:
        return cls(name="offline", kind=ProviderKind.offline, model="offline-transcript")


# -- loading --------------------------------------------------------------------------------
def _set(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return None if not value or value.startswith(PLACEHOLDER_PREFIX) else value


def _host(url: str | None) -> str:
    return (urlsplit(url).hostname or "").lower() if url else ""


def _is_foundry(url: str | None) -> bool:
    if not url:
        return False
    return urlsplit(url).path.rstrip("/").endswith("/anthropic") or _host(url).endswith(_AZURE_HOST_SUFFIXES)


def _kind_of(name: str, entry: EntryConfig) -> ProviderKind:
    if entry.provider is not None:
        compatible = entry.provider is EntryProvider.openai_compatible
        return ProviderKind.openai if compatible else ProviderKind(entry.provider.value)
    if name in PRESETS:
        return PRESETS[name].kind
    if name.startswith(("gpt", "o1", "o3", "o4", "openai")):
        return ProviderKind.openai
    if "claude" in name or "anthropic" in name:
        return ProviderKind.anthropic
    if "gemini" in name:
        return ProviderKind.gemini
    raise ConfigError(
        f"entry {name!r} of the API config file does not say which provider it is: "
        'add "provider": "openai", "azure", "anthropic", "gemini" or "openai-compatible"'
    )


@dataclass
class _Field:
    value: str | None = None
    source: str | None = None

    def take(self, value: str | None, source: str) -> None:
        value = _set(value)
        if value is not None:
            self.value, self.source = value, source


def resolve_provider(
    api: str, config_path: Path | None = None, env: Mapping[str, str] | None = None
) -> ProviderSettings:
    """The settings for ``--api NAME``: file entry, then environment (which wins), then knobs.

    Environment variables, in increasing precedence:

    - vendor variables, applied only to endpoints of their own vendor so that a key is
      never sent to someone else's server: ``GEMINI_API_KEY`` (``GOOGLE_API_KEY``,
      ``GOOGLE_AI_STUDIO_API_KEY``); ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``;
      ``AZURE_OPENAI_API_KEY``, ``AZURE_OPENAI_ENDPOINT``, ``AZURE_OPENAI_API_VERSION``
      (or ``OPENAI_API_VERSION``) and ``AZURE_OPENAI_DEPLOYMENT`` (used when no model is
      named); ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL``, ``ANTHROPIC_FOUNDRY_API_KEY``;
    - Code2Video's per-entry variables ``<NAME>_API_KEY``, ``<NAME>_BASE_URL``,
      ``<NAME>_MODEL``, ``<NAME>_API_VERSION`` (``GPT41_API_KEY``, ``CLAUDE_BASE_URL``).
    """
    env = os.environ if env is None else env
    knobs = llm_knobs() if env is os.environ else parse_knobs(env)
    name = canonical_name(api)
    if name == "offline":
        return ProviderSettings.offline()
    config = load_api_config(config_path if config_path is not None else default_config_path(env))
    if (name not in PRESETS and name not in config.entries) or name in NON_LLM_ENTRIES:
        known = [n for n in PRESETS if n != "offline"] + ["offline"]
        extra = sorted(n for n in config.entries if n not in PRESETS and n not in NON_LLM_ENTRIES)
        names = ", ".join(known + extra)
        raise ConfigError(f"unknown provider {api!r}; available: {names}")
    entry = config.entries.get(name, EntryConfig())
    kind = _kind_of(name, entry)
    preset = PRESETS.get(name)
    source = config.path.name if config.path is not None else "config"

    key, base_url, version, model = _Field(), _Field(), _Field(), _Field()
    key.take(entry.api_key.get_secret_value() if entry.api_key else None, source)
    base_url.take(entry.base_url, source)
    version.take(entry.api_version, source)
    model.take(entry.model, source)
    prefix = name.upper().replace("-", "_").replace(".", "_")
    own = {f: env.get(f"{prefix}_{f}") for f in ("API_KEY", "BASE_URL", "API_VERSION", "MODEL")}
    base_url.take(own["BASE_URL"], f"env {prefix}_BASE_URL")
    version.take(own["API_VERSION"], f"env {prefix}_API_VERSION")

    compatible = name == EntryProvider.openai_compatible or entry.provider is EntryProvider.openai_compatible
    if kind is ProviderKind.openai and not compatible:
        wants_azure = version.value is not None or (
            base_url.value is None and _set(env.get("AZURE_OPENAI_ENDPOINT")) is not None
        )
        kind = ProviderKind.azure if wants_azure else kind

    if kind is ProviderKind.gemini:
        for var in reversed(GEMINI_KEY_VARS):
            key.take(env.get(var), f"env {var}")
    elif kind is ProviderKind.openai:
        if compatible:
            base_url.take(env.get("OPENAI_BASE_URL"), "env OPENAI_BASE_URL")
        host = _host(base_url.value)
        if base_url.value is None or host in _OPENAI_HOSTS:
            key.take(env.get("OPENAI_API_KEY"), "env OPENAI_API_KEY")
        elif host.endswith(_AZURE_HOST_SUFFIXES):
            key.take(env.get("AZURE_OPENAI_API_KEY"), "env AZURE_OPENAI_API_KEY")
    elif kind is ProviderKind.azure:
        base_url.take(env.get("AZURE_OPENAI_ENDPOINT"), "env AZURE_OPENAI_ENDPOINT")
        version.take(env.get("OPENAI_API_VERSION"), "env OPENAI_API_VERSION")
        version.take(env.get("AZURE_OPENAI_API_VERSION"), "env AZURE_OPENAI_API_VERSION")
        key.take(env.get("AZURE_OPENAI_API_KEY"), "env AZURE_OPENAI_API_KEY")
        if model.value is None:
            model.take(env.get("AZURE_OPENAI_DEPLOYMENT"), "env AZURE_OPENAI_DEPLOYMENT")
        if version.value is None:
            version.take(DEFAULT_AZURE_API_VERSION, "default")
    elif kind is ProviderKind.anthropic:
        base_url.take(env.get("ANTHROPIC_BASE_URL"), "env ANTHROPIC_BASE_URL")
        if _is_foundry(base_url.value):
            key.take(env.get("ANTHROPIC_FOUNDRY_API_KEY"), "env ANTHROPIC_FOUNDRY_API_KEY")
        elif base_url.value is None or _host(base_url.value) in _ANTHROPIC_HOSTS:
            key.take(env.get("ANTHROPIC_API_KEY"), "env ANTHROPIC_API_KEY")

    # Code2Video's per-entry variables win over everything (BASE_URL and API_VERSION were
    # also read above, because they decide which kind of endpoint this is).
    key.take(own["API_KEY"], f"env {prefix}_API_KEY")
    model.take(own["MODEL"], f"env {prefix}_MODEL")
    base_url.take(own["BASE_URL"], f"env {prefix}_BASE_URL")
    version.take(own["API_VERSION"], f"env {prefix}_API_VERSION")
    if model.value is None and preset is not None:
        model.take(preset.model, "default")
    if model.value is None and compatible and base_url.value is None:
        raise ConfigError(
            f"provider {name!r} is not configured: set OPENAI_BASE_URL and {prefix}_MODEL, or give "
            f'its entry in {DEFAULT_CONFIG_NAME} a "base_url" and a "model"'
        )
    if model.value is None:
        raise ConfigError(
            f'provider {name!r} has no model: set "model" in its entry of {DEFAULT_CONFIG_NAME} '
            f"or {prefix}_MODEL"
        )
    roles = {r: m for r in ROLES if (m := _set(getattr(entry.models, r))) is not None}
    max_output = entry.max_output_tokens
    if max_output is None and kind is ProviderKind.anthropic:
        max_output = 16384  # the Messages API requires a limit; Code2Video uses the same
    return ProviderSettings(
        name=name,
        kind=kind,
        model=model.value,
        role_models=roles,
        api_key=SecretStr(key.value) if key.value is not None else None,
        key_source=key.source if key.value is not None else None,
        base_url=base_url.value,
        api_version=version.value if kind in (ProviderKind.azure, ProviderKind.gemini) else None,
        timeout_s=knobs.timeout_s or entry.timeout_s or 180.0,
        max_tries=knobs.max_tries,
        backoff_s=knobs.backoff_s,
        backoff_max_s=knobs.backoff_max_s,
        max_wait_s=knobs.max_wait_s,
        max_output_tokens=max_output,
        structured_output=entry.structured_output,
        rpm=knobs.rpm or entry.rpm,
        tpm=knobs.tpm or entry.tpm,
        prices={**DEFAULT_PRICES, **config.prices},
    )


def require_usable(settings: ProviderSettings) -> None:
    """Raise a one-line :class:`ConfigError` when ``settings`` cannot possibly work."""
    if settings.kind is ProviderKind.offline:
        return
    preset = PRESETS.get(settings.name)
    needs_key = preset.needs_key if preset is not None else settings.base_url is None
    prefix = settings.name.upper().replace("-", "_")
    if needs_key and settings.api_key is None:
        own_var = f"{prefix}_API_KEY"
        claude_var = "ANTHROPIC_FOUNDRY_API_KEY" if settings.is_foundry else "ANTHROPIC_API_KEY"
        vendor_var = {
            ProviderKind.gemini: "GEMINI_API_KEY",
            ProviderKind.openai: "OPENAI_API_KEY" if settings.base_url is None else own_var,
            ProviderKind.azure: "AZURE_OPENAI_API_KEY",
            ProviderKind.anthropic: claude_var,
        }[settings.kind]
        either = vendor_var if vendor_var == own_var else f"{vendor_var} (or {own_var})"
        raise ConfigError(
            f"provider {settings.name!r} has no API key: set {either}, "
            f'or add "api_key" to its entry in {DEFAULT_CONFIG_NAME}'
        )
    if settings.kind is ProviderKind.azure and settings.base_url is None:
        raise ConfigError(
            f"provider {settings.name!r} uses Azure OpenAI but has no endpoint: set AZURE_OPENAI_ENDPOINT "
            f'or "base_url" in its entry of {DEFAULT_CONFIG_NAME}'
        )
    if (preset is not None and preset.needs_base_url) and settings.base_url is None:
        raise ConfigError(
            f"provider {settings.name!r} needs a server: set OPENAI_BASE_URL (or {prefix}_BASE_URL) "
            f'or "base_url" in its entry of {DEFAULT_CONFIG_NAME}'
        )


def configured_names(config_path: Path | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """Every provider name worth showing in ``c2v doctor``: presets plus the file's entries."""
    env = os.environ if env is None else env
    config = load_api_config(config_path if config_path is not None else default_config_path(env))
    names = [n for n in PRESETS if n != "offline"]
    names += [n for n in config.entries if n not in PRESETS and n not in NON_LLM_ENTRIES]
    return [*names, "offline"]
