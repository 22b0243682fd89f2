"""Render pools: which Ray resources one section render of each quality tier asks for.

A pool is the ``num_cpus``, ``num_gpus``, ``memory_mb`` and custom ``resources`` a render
task of that tier is submitted with, so a cluster can route 4K renders to GPU nodes and
previews to cheap CPU nodes by naming a custom resource that only those nodes offer. Memory
is a Ray resource like CPUs: a 4K render holds about 2.2 GB (measured on the demo), so the
``k`` pool asks for :data:`K_MEMORY_MB` by default and a node never runs more 4K renders than
its memory fits. Pools come from, first match wins:

1. an explicit JSON file (``c2v generate --render-pools FILE``),
2. the ``C2V_RENDER_POOLS`` environment variable (JSON text, an operator knob),
3. the default: every tier asks for one CPU, and ``k`` for :data:`K_MEMORY_MB` of memory too.

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


#: Memory one 4K render holds at its peak (2.2 GB measured, with room for longer sections).
K_MEMORY_MB = 2560


class RenderPool(Strict):
    """What one render task asks Ray for."""

    num_cpus: float = Field(default=1, ge=0)
    num_gpus: float = Field(default=0, ge=0)
    #: Ray's ``memory`` resource, in MiB (0: not asked for).
    memory_mb: float = Field(default=0, ge=0)
    resources: dict[str, float] = Field(default_factory=dict)

    @field_validator("resources")
    @classmethod
    def _custom_only(cls, value: dict[str, float]) -> dict[str, float]:
        for name, amount in value.items():
            if name in {"CPU", "GPU", "memory"}:
                raise ValueError(f"use num_cpus / num_gpus / memory_mb, not resources[{name!r}]")
            if not name or amount < 0:
                raise ValueError(f"resource {name!r} must be named and not negative")
        return value

    def task_options(self) -> dict[str, Any]:
        """Keyword arguments for ``render_task.options(...)``."""
        options: dict[str, Any] = {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus}
        if self.memory_mb:
            options["memory"] = int(self.memory_mb * 1024**2)
        return options | {"resources": dict(self.resources)}

    def demand(self) -> dict[str, float]:
        """Everything one task needs from a single node, in Ray's resource names (zeros left out)."""
        wanted = {"CPU": self.num_cpus, "GPU": self.num_gpus, "memory": self.memory_mb * 1024**2}
        return {name: amount for name, amount in (wanted | self.resources).items() if amount > 0}

    def fits(self, offer: Mapping[str, float]) -> int:
        """How many of these tasks a node offering ``offer`` runs at once."""
        need = self.demand()
        if not need:
            return int(offer.get("CPU", 1))
        return min(int(offer.get(name, 0.0) // amount) for name, amount in need.items())


class RenderPools(Strict):
    """One :class:`RenderPool` per quality tier."""

    l: RenderPool = Field(default_factory=RenderPool)  # noqa: E741 - Manim's tier letters
    m: RenderPool = Field(default_factory=RenderPool)
    h: RenderPool = Field(default_factory=RenderPool)
    k: RenderPool = Field(default_factory=lambda: RenderPool(memory_mb=K_MEMORY_MB))

    @field_validator("k", mode="before")
    @classmethod
    def _k_memory(cls, value: Any) -> Any:
        """A ``k`` pool that names other fields keeps asking for the default memory."""
        if isinstance(value, dict) and "memory_mb" not in value:
            return {"memory_mb": K_MEMORY_MB, **value}
        return value

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
                "num_cpus, num_gpus, memory_mb, resources)"
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
