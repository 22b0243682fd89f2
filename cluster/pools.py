"""Render pools: which Ray resources one section render of each quality tier asks for.

A pool is the ``num_cpus``, ``num_gpus`` and custom ``resources`` a render task of that tier
is submitted with, so a cluster can route 4K renders to GPU nodes and previews to cheap CPU
nodes by naming a custom resource that only those nodes offer. Pools come from, first match
wins:

1. an explicit JSON file (``c2v generate --render-pools FILE``),
2. the ``C2V_RENDER_POOLS`` environment variable (JSON text, an operator knob),
3. the default: every tier asks for one CPU and nothing else.

A map names only the tiers it changes, and within a tier only the fields it changes::

    {"k": {"num_cpus": 2, "num_gpus": 1, "resources": {"render_gpu": 1}},
     "l": {"resources": {"render_cpu": 1}}}

Feasibility against the live cluster is checked by :func:`cluster.runtime.require_pools`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator

from c2v.core.tiers import Tier
from c2v.errors import ConfigError, first_error
from c2v.models import Strict

#: Operator knob: the render pools as JSON text (used when no ``--render-pools`` file is given).
POOLS_ENV = "C2V_RENDER_POOLS"

#: The pools documented in the README and used by the KubeRay manifests in ``k8s/``.
EXAMPLE_POOLS = (
    '{"k": {"num_cpus": 2, "num_gpus": 1, "resources": {"render_gpu": 1}}, '
    '"l": {"resources": {"render_cpu": 1}}}'
)


class RenderPool(Strict):
    """What one render task asks Ray for."""

    num_cpus: float = Field(default=1, ge=0)
    num_gpus: float = Field(default=0, ge=0)
    resources: dict[str, float] = Field(default_factory=dict)

    @field_validator("resources")
    @classmethod
    def _custom_only(cls, value: dict[str, float]) -> dict[str, float]:
        for name, amount in value.items():
            if name in {"CPU", "GPU"}:
                raise ValueError(f"use num_cpus / num_gpus, not resources[{name!r}]")
            if not name or amount < 0:
                raise ValueError(f"resource {name!r} must be named and not negative")
        return value

    def task_options(self) -> dict[str, Any]:
        """Keyword arguments for ``render_task.options(...)``."""
        return {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus, "resources": dict(self.resources)}

    def demand(self) -> dict[str, float]:
        """Everything one task needs from a single node, in Ray's resource names (zeros left out)."""
        wanted = {"CPU": self.num_cpus, "GPU": self.num_gpus, **self.resources}
        return {name: amount for name, amount in wanted.items() if amount > 0}


class RenderPools(Strict):
    """One :class:`RenderPool` per quality tier."""

    l: RenderPool = Field(default_factory=RenderPool)  # noqa: E741 - Manim's tier letters
    m: RenderPool = Field(default_factory=RenderPool)
    h: RenderPool = Field(default_factory=RenderPool)
    k: RenderPool = Field(default_factory=RenderPool)

    def for_tier(self, tier: Tier) -> RenderPool:
        pool: RenderPool = getattr(self, Tier(tier).value)
        return pool

    @classmethod
    def parse(cls, text: str, source: str) -> RenderPools:
        """Pools from JSON text; ``source`` names where the text came from in any error."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"render pools in {source} are not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"render pools in {source} must be a JSON object keyed by tier (l, m, h, k)")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = first_error(exc)
            where = first.where
            what = "unknown tier or field" if first.kind == "extra_forbidden" else first.msg
            raise ConfigError(
                f"render pools in {source}: {where}: {what} (tiers are l, m, h, k; fields are "
                "num_cpus, num_gpus, resources)"
            ) from None

    @classmethod
    def load(cls, path: Path | None = None, env: Mapping[str, str] | None = None) -> RenderPools:
        """The pools of a run: ``path`` if given, else ``$C2V_RENDER_POOLS``, else the defaults."""
        if path is not None:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"cannot read render pools file {path}: {exc.strerror}") from None
            return cls.parse(text, str(path))
        env = os.environ if env is None else env
        return _from_env_text(env.get(POOLS_ENV, "").strip()).model_copy(deep=True)


@lru_cache(maxsize=8)
def _from_env_text(text: str) -> RenderPools:
    """The env knob, parsed once per value (a process parses its environment once)."""
    return RenderPools.parse(text, POOLS_ENV) if text else RenderPools()
