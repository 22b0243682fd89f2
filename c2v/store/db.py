"""Engines and migrations: one place that knows SQLite from PostgreSQL.

SQLite is shared by the HTTP replicas, the scheduler and every video's worker process, so
it runs in WAL mode with a busy timeout; PostgreSQL needs nothing special. Errors from the
driver are translated into one-line :class:`~c2v.errors.StoreError` messages that never
carry the password of the DSN.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from c2v.errors import StoreError

#: The default database, inside the service's output folder.
DEFAULT_DB_NAME = "c2v-service.db"


def default_url(output_dir: Path) -> str:
    return f"sqlite:///{(output_dir / DEFAULT_DB_NAME).resolve()}"


def safe_url(url: str) -> str:
    """The DSN with its password masked, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable database URL)"


def _normalise(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy's default would be psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = _normalise(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"database URL {safe_url(url)!r} is not a SQLAlchemy URL") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder of {database}: {exc.strerror}") from None
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise StoreError(f"database {safe_url(url)!r}: only sqlite:/// and postgresql:// are supported")
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("c2v.store") / "migrations"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is there already)."""
    cfg = _alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot migrate the job store {safe_url(str(engine.url))}: {_first_line(exc)}"
        ) from None


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ping(engine: Engine) -> bool:
    """True when the database answers and its schema is at the newest revision."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return current_revision(engine) == head_revision()
    except SQLAlchemyError:
        return False


class Database:
    """An engine and its session factory; :meth:`session` commits or rolls back."""

    def __init__(self, url: str) -> None:
        self.url = _normalise(url)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"job store {safe_url(self.url)}: {_first_line(exc)}") from exc

    def dispose(self) -> None:
        self.engine.dispose()


def _first_line(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc)
    return (text_.splitlines() or [type(exc).__name__])[0][:300]
