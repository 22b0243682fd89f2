"""``c2v serve`` and ``c2v keys create|list|revoke``, registered on the main command group.

Heavy imports (Ray Serve, FastAPI) happen only inside the commands.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from pathlib import Path
from typing import Any

import click

from c2v.errors import UsageError
from c2v.llm.settings import CONFIG_ENV
from c2v.service.settings import DATABASE_ENV, ServiceSettings

_DB_OPTION = click.option(
    "--db",
    "db_url",
    envvar=DATABASE_ENV,
    default=None,
    help="SQLAlchemy URL of the job store, e.g. postgresql://user:pw@host/db "
    "(default: sqlite in the output folder).",
)
_OUT_OPTION = click.option(
    "--output-dir", "-o", type=click.Path(path_type=Path), default=Path("CASES"), show_default=True
)


def _db(db_url: str | None, output_dir: Path) -> Any:
    from c2v.store.db import Database, migrate

    settings = ServiceSettings.from_env(output_dir=output_dir, db_url=db_url)
    db = Database(settings.db_url.get_secret_value())
    migrate(db.engine)
    return db


def free_port(host: str) -> int:
    """A port the OS picks (Serve's proxy cannot report one it bound to port 0 itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0: any free port."
)
@_DB_OPTION
@_OUT_OPTION
@click.option(
    "--api-config", type=click.Path(path_type=Path, dir_okay=False), envvar=CONFIG_ENV, default=None
)
@click.option("--storage", default=None, help="Publish finished videos to a folder or s3://bucket/prefix.")
@click.option("--s3-endpoint-url", default=None, help="S3-compatible endpoint for --storage s3://...")
@click.option("--sandbox", type=click.Choice(["auto", "docker", "bwrap"]), default="auto", show_default=True)
@click.option("--render-timeout", type=float, default=180.0, show_default=True)
@click.option(
    "--max-in-flight",
    type=click.IntRange(1, 1000),
    default=2,
    show_default=True,
    help="Videos rendering at once; the rest wait in the store.",
)
@click.option("--tenant-max-in-flight", type=click.IntRange(1), default=5, show_default=True)
@click.option("--tenant-rpm", type=click.IntRange(1), default=120, show_default=True)
@click.option("--http-replicas", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option(
    "--num-cpus",
    type=click.IntRange(1, 4096),
    envvar="C2V_NUM_CPUS",
    default=None,
    help="CPUs of the embedded Ray instance (ignored when joining a cluster).",
)
@click.option("--ray-address", envvar="RAY_ADDRESS", default=None, help="Join this Ray cluster.")
def serve(
    host: str, port: int, http_replicas: int, num_cpus: int | None, ray_address: str | None, **opts: Any
) -> None:
    """Run the hosted service: a Ray Serve API over the job store; Ctrl-C or SIGTERM stops it."""
    from ray import serve as ray_serve

    from c2v.core.deps import require_system_dependencies
    from c2v.core.logs import configure_logging
    from c2v.service.app import build_app
    from cluster.runtime import ensure_ray
    from sandbox.backends import resolve_backend

    configure_logging(json_lines=True, level=logging.WARNING)
    require_system_dependencies()
    backend, why = resolve_backend(opts.pop("sandbox"))
    click.echo(why, err=True)
    settings = ServiceSettings.from_env(sandbox=backend.name, **opts)
    _db(settings.db_url.get_secret_value(), settings.output_dir)  # migrate before anything starts
    port = port or free_port(host)
    ensure_ray(ray_address, num_cpus=num_cpus)
    ray_serve.start(http_options={"host": host, "port": port})
    ray_serve.run(build_app(settings, http_replicas), name="c2v", route_prefix="/")
    click.echo(f"c2v serve: listening on http://{host}:{port}", nl=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    ray_serve.shutdown()  # type: ignore[no-untyped-call]


@click.group()
def keys() -> None:
    """API keys of the hosted service's tenants."""


@keys.command("create")
@click.argument("tenant")
@click.option("--max-in-flight", type=click.IntRange(1), default=None, help="This tenant's own limit.")
@click.option("--rpm", type=click.IntRange(1), default=None, help="This tenant's requests a minute.")
@_DB_OPTION
@_OUT_OPTION
def create(
    tenant: str, max_in_flight: int | None, rpm: int | None, db_url: str | None, output_dir: Path
) -> None:
    """Make a key for TENANT (made when new) and print the key alone; it is not shown again."""
    from c2v.store.keys import create_key, set_limits

    db = _db(db_url, output_dir)
    key_id, key = create_key(db, tenant)
    if max_in_flight is not None or rpm is not None:
        set_limits(db, tenant, max_in_flight, rpm)
    click.echo(f"key {key_id} for tenant {tenant}", err=True)
    click.echo(key)


@keys.command("list")
@_DB_OPTION
@_OUT_OPTION
def list_(db_url: str | None, output_dir: Path) -> None:
    """Key ids, tenants and whether each key is revoked (never the keys)."""
    from c2v.store.keys import list_keys

    for info in list_keys(_db(db_url, output_dir)):
        state = f"revoked {info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "active"
        click.echo(f"{info.id}  {info.tenant:<24} created {info.created_at:%Y-%m-%d %H:%M}  {state}")


@keys.command("revoke")
@click.argument("key_id")
@_DB_OPTION
@_OUT_OPTION
def revoke(key_id: str, db_url: str | None, output_dir: Path) -> None:
    """Revoke the key KEY_ID (from `c2v keys list`); requests with it get 401 from now on."""
    from c2v.store.keys import revoke_key

    if not revoke_key(_db(db_url, output_dir), key_id):
        raise UsageError(f"no API key {key_id!r}; `c2v keys list` shows them")
    click.echo(f"revoked {key_id}", err=True)


def register(group: click.Group) -> None:
    """Add the service's commands to the ``c2v`` command group."""
    group.add_command(serve)
    group.add_command(keys)
