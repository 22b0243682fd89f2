"""Code2Video's ``api_config.json``: the file's model, where it is found, and how it is read.

Only reading and validating happen here; what an entry means for a provider (which wire,
which key wins over the environment) is :func:`c2v.llm.settings.resolve_provider`'s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError

from c2v.errors import ConfigError, first_error
from c2v.llm.presets import canonical_name
from c2v.llm.prices import Price
from c2v.models import Strict

CONFIG_ENV = "C2V_API_CONFIG"
DEFAULT_CONFIG_NAME = "api_config.json"
#: Code2Video's sample file ships values like "YOUR_API_KEY": they count as unset.
PLACEHOLDER_PREFIX = "YOUR_"


class EntryProvider(StrEnum):
    """What an ``api_config.json`` entry may say it is (``provider``): a wire, or a compatible server."""

    gemini = "gemini"
    openai = "openai"
    azure = "azure"
    anthropic = "anthropic"
    openai_compatible = "openai-compatible"


class RoleModels(Strict):
    planner: str | None = None
    coder: str | None = None
    critic: str | None = None


class EntryConfig(Strict):
    """One entry of ``api_config.json``: Code2Video's fields plus c2v's optional ones."""

    api_key: SecretStr | None = None
    base_url: str | None = None
    api_version: str | None = None
    model: str | None = None
    provider: EntryProvider | None = None
    models: RoleModels = Field(default_factory=RoleModels)
    timeout_s: float | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    structured_output: bool = True
    rpm: int | None = Field(default=None, gt=0)
    tpm: int | None = Field(default=None, gt=0)


class ApiConfig(Strict):
    """The whole file: named entries plus an optional price table."""

    path: Path | None = None
    entries: dict[str, EntryConfig] = Field(default_factory=dict)
    prices: dict[str, Price] = Field(default_factory=dict)


def default_config_path(env: Mapping[str, str] | None = None) -> Path | None:
    """``$C2V_API_CONFIG``, else ``./api_config.json`` when it exists."""
    env = os.environ if env is None else env
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    try:
        local = Path.cwd() / DEFAULT_CONFIG_NAME
    except FileNotFoundError:  # the working directory is gone (a Ray job's unpacked working_dir)
        return None
    return local if local.is_file() else None


def load_api_config(path: Path | None) -> ApiConfig:
    """Read Code2Video's ``api_config.json``; ``None`` gives an empty configuration."""
    if path is None:
        return ApiConfig()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"API config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read API config file {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ConfigError(f"API config file {path} is not valid JSON{where}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"API config file {path} must hold a JSON object of named entries")
    raw_prices = data.pop("prices", {})
    data.pop("speech", None)  # text-to-speech settings: c2v/speech/settings.py reads them
    entries: dict[str, EntryConfig] = {}
    for name, body in data.items():
        try:
            entries[canonical_name(name)] = EntryConfig.model_validate(body)
        except ValidationError as exc:
            raise ConfigError(f"API config file {path}, entry {name!r}: {_first_error(exc)}") from None
    try:
        prices = {str(k): Price.model_validate(v) for k, v in dict(raw_prices).items()}
    except (ValidationError, TypeError, ValueError) as exc:
        cause = _first_error(exc) if isinstance(exc, ValidationError) else "must map model names to prices"
        raise ConfigError(f'API config file {path}, "prices": {cause}') from None
    return ApiConfig(path=path, entries=entries, prices=prices)


def _first_error(exc: ValidationError) -> str:
    # Never echo the input: for api_key it is the secret itself.
    return first_error(exc).line()
