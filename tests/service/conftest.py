import secrets

import pytest

from c2v.store.db import Database, migrate
from tests.service.pg import PostgresCluster


@pytest.fixture(scope="session")
def postgres():
    cluster = PostgresCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database of each kind the service supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres").create_database(f"t_{secrets.token_hex(6)}")


@pytest.fixture
def db(db_url):
    database = Database(db_url)
    migrate(database.engine)
    yield database
    database.dispose()
