"""The service's configuration: flags of ``c2v serve``, or environment knobs on a cluster."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError

from c2v.errors import ConfigError, first_error
from c2v.models import Strict
from c2v.store.db import default_url
from sandbox.base import SandboxChoice

DATABASE_ENV = "C2V_DATABASE_URL"
#: Environment knobs read by :meth:`ServiceSettings.from_env` (a RayService has no CLI).
ENV_FIELDS = {
    "output_dir": "C2V_OUTPUT_DIR",
    "api_config": "C2V_API_CONFIG",
    "storage": "C2V_STORAGE",
    "s3_endpoint_url": "C2V_S3_ENDPOINT_URL",
    "sandbox": "C2V_SANDBOX",
    "render_timeout": "C2V_RENDER_TIMEOUT",
    "max_in_flight": "C2V_MAX_IN_FLIGHT",
    "tenant_max_in_flight": "C2V_TENANT_MAX_IN_FLIGHT",
    "tenant_rpm": "C2V_TENANT_RPM",
}


class ServiceSettings(Strict):
    output_dir: Path
    #: SQLAlchemy URL; a secret because a PostgreSQL DSN carries a password.
    db_url: SecretStr
    api_config: Path | None = None
    storage: str | None = None  # publish finished videos: a folder or s3://bucket/prefix
    s3_endpoint_url: str | None = None
    sandbox: SandboxChoice = SandboxChoice.auto
    render_timeout: float = Field(default=180.0, gt=0)
    #: Videos rendering at once over the whole service; the rest wait in the store.
    max_in_flight: int = Field(default=2, ge=1, le=1000)
    #: Per tenant (unless its row says otherwise): videos queued or running, requests a minute.
    tenant_max_in_flight: int = Field(default=5, ge=1)
    tenant_rpm: int = Field(default=120, ge=1)
    #: One content-addressed render cache for all cases (a render is a pure function of its key).
    shared_render_cache: bool = True
    #: Starts of one video's work before a lost worker fails it instead of requeueing it.
    max_runs: int = Field(default=3, ge=1)
    poll_s: float = Field(default=0.5, gt=0)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **given: object) -> ServiceSettings:
        env = os.environ if env is None else env
        values: dict[str, object] = {k: env[v] for k, v in ENV_FIELDS.items() if env.get(v)}
        values.update({k: v for k, v in given.items() if v is not None})
        values.setdefault("output_dir", Path("CASES"))
        if "db_url" not in values:
            values["db_url"] = env.get(DATABASE_ENV) or default_url(Path(str(values["output_dir"])))
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(f"invalid service setting {first_error(exc).line()}") from None

    @property
    def videos_dir(self) -> Path:
        return self.output_dir / "videos"

    @property
    def render_cache(self) -> Path:
        return self.output_dir / "render-cache"
