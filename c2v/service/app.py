"""The Ray Serve application: an HTTP ingress (FastAPI) and one scheduler replica.

``c2v serve`` builds it with :func:`build_app`; a KubeRay RayService names
``c2v.service.app:from_env`` in its ``serveConfigV2``, which reads the same settings from
environment variables (``C2V_DATABASE_URL``, ``C2V_OUTPUT_DIR``, ...).
"""

from __future__ import annotations

from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle

from c2v.service.deps import ServiceState, install
from c2v.service.routes import make_api
from c2v.service.scheduler import Scheduler
from c2v.service.settings import ServiceSettings
from c2v.store.db import Database

api = make_api()


@serve.deployment(
    num_replicas=1, ray_actor_options={"num_cpus": 0}, max_ongoing_requests=1000, health_check_period_s=5
)
class SchedulerDeployment:
    def __init__(self, settings: ServiceSettings) -> None:
        self._scheduler = Scheduler(settings)

    def wake(self) -> None:
        self._scheduler.wake()

    def check_health(self) -> None:
        self._scheduler.check()


@serve.deployment(ray_actor_options={"num_cpus": 0}, max_ongoing_requests=200)
@serve.ingress(api)
class Ingress:
    def __init__(self, scheduler: DeploymentHandle[Any], settings: ServiceSettings) -> None:
        self._scheduler = scheduler
        install(
            ServiceState(db=Database(settings.db_url.get_secret_value()), settings=settings, wake=self._wake)
        )

    def _wake(self) -> None:
        self._scheduler.wake.remote()


def build_app(settings: ServiceSettings, http_replicas: int = 1) -> Any:
    scheduler = SchedulerDeployment.bind(settings)  # type: ignore[attr-defined]
    return Ingress.options(num_replicas=http_replicas).bind(scheduler, settings)  # type: ignore[attr-defined]


def from_env(args: dict[str, str]) -> Any:
    """Application builder for ``serveConfigV2`` (``import_path: c2v.service.app:from_env``)."""
    replicas = int(args.get("http_replicas", "2"))
    return build_app(ServiceSettings.from_env(), http_replicas=replicas)
