"""Pytest fixtures for real PostgreSQL databases and a real MLflow tracking server.

Loaded from ``tests/conftest.py`` with ``pytest_plugins = ["tests.services_fixtures"]``.

PostgreSQL comes from ``$FER_TEST_POSTGRES_URL`` (CI: ``.ci/run`` starts a cluster and sets it), else
from a private cluster started here when ``initdb``/``pg_ctl`` are installed, else the tests that need
it are skipped with the reason. The role in the URL must be allowed to CREATE DATABASE.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from tests._services import (
    POSTGRES_URL_ENV,
    MlflowServer,
    ServiceError,
    ServiceUnavailable,
    check_connection,
    create_database,
    database_name,
    drop_database,
    find_postgres_bin_dir,
    installed_postgres_driver,
    sqlalchemy_url,
    start_mlflow_server,
    start_postgres_cluster,
)

POSTGRES_SKIP_REASON = (
    f"PostgreSQL not available: set {POSTGRES_URL_ENV} or install postgresql (initdb/pg_ctl)"
)
DRIVER_SKIP_REASON = "no PostgreSQL driver installed: pip install -e '.[postgres]' (psycopg)"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL database whose role may create databases (session-wide).

    ``$FER_TEST_POSTGRES_URL`` when set (it must answer: a broken CI setup fails, it is not skipped),
    else a private cluster on a free 127.0.0.1 port, stopped and deleted at the end of the session.
    The URL names the installed driver (``postgresql+psycopg://...``), so Optuna and MLflow accept
    it whatever their SQLAlchemy version defaults to.
    """
    if installed_postgres_driver() is None:
        pytest.skip(DRIVER_SKIP_REASON)
    configured = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if configured:
        try:
            check_connection(configured)
        except ServiceError as error:
            pytest.fail(f"{POSTGRES_URL_ENV} is set but unusable: {error}", pytrace=False)
        yield sqlalchemy_url(configured)
        return
    bin_dir = find_postgres_bin_dir()
    if bin_dir is None:
        pytest.skip(POSTGRES_SKIP_REASON)
    try:
        cluster = start_postgres_cluster(bin_dir)
    except ServiceUnavailable as error:
        pytest.skip(f"{POSTGRES_SKIP_REASON} ({error})")
    try:
        yield sqlalchemy_url(cluster.url())
    finally:
        cluster.remove()


@pytest.fixture
def make_database(postgres_url: str) -> Iterator[Callable[[], str]]:
    """Factory of fresh, empty databases (unique names, SQLAlchemy URLs); dropped after the test."""
    created: list[str] = []

    def make() -> str:
        url = create_database(postgres_url)
        created.append(url)
        return url

    yield make
    for url in reversed(created):
        drop_database(postgres_url, database_name(url))


@pytest.fixture
def fresh_database(make_database: Callable[[], str]) -> str:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    return make_database()


@pytest.fixture
def mlflow_server_factory(
    make_database: Callable[[], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., MlflowServer]]:
    """Factory of MLflow tracking servers, each on its own fresh PostgreSQL backend store.

    Each server binds 127.0.0.1 on a free port (``n_workers`` uvicorn workers), proxies artifacts
    into a temp dir and is stopped (its whole process group) after the test, before its database is
    dropped. Start-up takes ~10-20 s (schema migrations, imports).
    """
    servers: list[MlflowServer] = []

    def start(n_workers: int = 1) -> MlflowServer:
        work_dir = tmp_path_factory.mktemp("mlflow-server")
        try:
            server = start_mlflow_server(make_database(), work_dir, n_workers=n_workers)
        except ServiceError as error:
            pytest.fail(str(error), pytrace=False)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def mlflow_server(mlflow_server_factory: Callable[..., MlflowServer]) -> str:
    """``http://127.0.0.1:PORT`` of a fresh MLflow tracking server with a PostgreSQL backend store."""
    return mlflow_server_factory().uri
