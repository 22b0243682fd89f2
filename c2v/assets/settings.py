"""Asset settings, resolved once on the driver: which sources, where the cache is, the keys.

The IconFinder key comes from ``ICONFINDER_API_KEY``, else from the ``iconfinder`` entry of
Code2Video's ``api_config.json`` (read by :func:`c2v.llm.settings.load_api_config`, the same
file and lookup as the LLM providers). It is a :class:`pydantic.SecretStr` from the moment it
is read. Retries use the LLM providers' knobs (``C2V_LLM_MAX_TRIES``, ``C2V_LLM_BACKOFF_S``,
...), so one policy governs every remote call c2v makes.

Environment: ``C2V_ASSETS_DIR`` (cache root), ``C2V_ASSETS_OFFLINE=1`` (no remote source is
tried), ``C2V_ICONIFY_URL`` and ``C2V_ICONFINDER_URL`` (another endpoint, e.g. a mirror).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, SecretStr

from c2v.assets.cache import default_cache_dir
from c2v.assets.models import SourceChoice
from c2v.llm.knobs import parse_knobs
from c2v.llm.settings import PLACEHOLDER_PREFIX, default_config_path, load_api_config
from c2v.models import Strict

ICONFINDER_KEY_ENV = "ICONFINDER_API_KEY"
OFFLINE_ENV = "C2V_ASSETS_OFFLINE"
ICONIFY_URL_ENV = "C2V_ICONIFY_URL"
ICONFINDER_URL_ENV = "C2V_ICONFINDER_URL"
DEFAULT_ICONIFY_URL = "https://api.iconify.design"
DEFAULT_ICONFINDER_URL = "https://api.iconfinder.com/v4"


class AssetSettings(Strict):
    choice: SourceChoice = SourceChoice.auto
    cache_dir: Path
    online: bool = True
    iconify_url: str = DEFAULT_ICONIFY_URL
    iconfinder_url: str = DEFAULT_ICONFINDER_URL
    iconfinder_key: SecretStr | None = None
    key_source: str | None = None  # "env ICONFINDER_API_KEY" or the file name, never the key
    timeout_s: float = Field(default=10.0, gt=0)
    connect_timeout_s: float = Field(default=3.0, gt=0)  # an offline machine gives up quickly
    max_tries: int = Field(default=5, ge=1)
    backoff_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=60.0, ge=0)
    max_wait_s: float = Field(default=300.0, ge=0)
    results_per_search: int = Field(default=8, ge=1, le=50)

    def secrets(self) -> list[str]:
        return [self.iconfinder_key.get_secret_value()] if self.iconfinder_key is not None else []


def _value(raw: str | None) -> str | None:
    raw = (raw or "").strip()
    return None if not raw or raw.startswith(PLACEHOLDER_PREFIX) else raw


def resolve_asset_settings(
    choice: SourceChoice | str = SourceChoice.auto,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> AssetSettings:
    """Settings from the environment and ``api_config.json`` (a bad file is a ConfigError)."""
    env = os.environ if env is None else env
    knobs = parse_knobs(env)
    path = config_path if config_path is not None else default_config_path(env)
    key, source = _value(env.get(ICONFINDER_KEY_ENV)), f"env {ICONFINDER_KEY_ENV}"
    if key is None and path is not None:
        entry = load_api_config(path).entries.get("iconfinder")
        if entry is not None and entry.api_key is not None:
            key, source = _value(entry.api_key.get_secret_value()), path.name
    return AssetSettings(
        choice=SourceChoice(choice),
        cache_dir=cache_dir if cache_dir is not None else default_cache_dir(env),
        online=env.get(OFFLINE_ENV, "").strip().lower() not in ("1", "true", "yes"),
        iconify_url=(_value(env.get(ICONIFY_URL_ENV)) or DEFAULT_ICONIFY_URL).rstrip("/"),
        iconfinder_url=(_value(env.get(ICONFINDER_URL_ENV)) or DEFAULT_ICONFINDER_URL).rstrip("/"),
        iconfinder_key=SecretStr(key) if key is not None else None,
        key_source=source if key is not None else None,
        max_tries=knobs.max_tries,
        backoff_s=knobs.backoff_s,
        backoff_max_s=knobs.backoff_max_s,
        max_wait_s=knobs.max_wait_s,
    )
