"""The service fixtures work: a real PostgreSQL, fresh databases and a real MLflow tracking server."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests._services import (
    MlflowServer,
    database_name,
    drop_database,
    find_postgres_bin_dir,
    libpq_url,
    list_databases,
    live_group_members,
    redact_password,
    sqlalchemy_url,
)


def _fake_tool(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _query(url: str, statement: str) -> list[tuple]:
    """Rows of ``statement`` run (and committed) on ``url`` through SQLAlchemy, as Optuna and MLflow
    connect; an empty list for statements that return no rows."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            result = connection.execute(sqlalchemy.text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_find_postgres_bin_dir_prefers_path_then_newest_debian_version(tmp_path: Path) -> None:
    empty_path = str(tmp_path / "empty")
    assert find_postgres_bin_dir(search_path=empty_path, roots=[tmp_path / "none"]) is None
    for version in ("9.6", "15", "13"):
        for tool in ("initdb", "pg_ctl"):
            _fake_tool(tmp_path / "lib" / version / "bin" / tool)
    _fake_tool(tmp_path / "lib" / "16" / "bin" / "initdb")  # incomplete install: no pg_ctl
    assert find_postgres_bin_dir(search_path=empty_path, roots=[tmp_path / "lib"]) == (
        tmp_path / "lib" / "15" / "bin")
    on_path = tmp_path / "lib" / "13" / "bin"
    assert find_postgres_bin_dir(search_path=str(on_path), roots=[tmp_path / "lib"]) == on_path


def test_urls_name_the_driver_for_sqlalchemy_and_drop_it_for_libpq() -> None:
    plain = "postgresql://fer@127.0.0.1:5432/fer_test"
    assert sqlalchemy_url(plain, "psycopg2") == "postgresql+psycopg2://fer@127.0.0.1:5432/fer_test"
    assert sqlalchemy_url("postgresql+psycopg2://fer@h:1/d") == "postgresql+psycopg2://fer@h:1/d"
    assert libpq_url("postgresql+psycopg://fer@h:1/d") == "postgresql://fer@h:1/d"
    assert database_name(plain) == "fer_test"
    assert redact_password("postgresql://fer:s3cret@h:1/d") == "postgresql://fer:***@h:1/d"
    with pytest.raises(ValueError, match=r"names no database \(url='postgresql://fer@h:1'\)"):
        database_name("postgresql://fer@h:1")


@pytest.mark.integration
def test_postgres_url_answers_select_one(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+")  # the driver is named for SQLAlchemy
    assert _query(postgres_url, "select 1") == [(1,)]


@pytest.mark.integration
def test_fresh_databases_are_distinct_empty_and_droppable(
    postgres_url: str, make_database: Callable[[], str]
) -> None:
    first, second = make_database(), make_database()
    assert database_name(first) != database_name(second)
    assert {database_name(first), database_name(second)} <= set(list_databases(postgres_url))
    _query(first, "create table marker (id int)")
    _query(first, "insert into marker values (7)")
    assert _query(first, "select id from marker") == [(7,)]
    assert _query(second, "select count(*) from pg_tables where tablename = 'marker'") == [(0,)]

    drop_database(postgres_url, database_name(first))
    assert database_name(first) not in list_databases(postgres_url)
    with pytest.raises(ValueError, match="refusing to drop the admin database"):
        drop_database(postgres_url, database_name(postgres_url))


@pytest.mark.integration
def test_mlflow_server_logs_runs_to_postgres_and_proxies_artifacts(
    mlflow_server_factory: Callable[..., MlflowServer], tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    server = mlflow_server_factory()
    assert server.uri.startswith("http://127.0.0.1:")
    client = MlflowClient(tracking_uri=server.uri)
    experiment_id = client.create_experiment("fer-services")
    run = client.create_run(experiment_id, tags={"fer.role": "trial"})
    client.log_metric(run.info.run_id, "val_accuracy", 0.5, step=1)
    client.log_metric(run.info.run_id, "val_accuracy", 0.75, step=2)
    note = tmp_path / "note.txt"
    note.write_text("logged through the server's artifact proxy\n")
    client.log_artifact(run.info.run_id, str(note), artifact_path="notes")
    client.set_terminated(run.info.run_id)

    stored = client.get_run(run.info.run_id)
    assert stored.info.artifact_uri.startswith("mlflow-artifacts:/")
    assert stored.data.metrics == {"val_accuracy": 0.75}
    assert [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, "val_accuracy")] == [
        (1, 0.5), (2, 0.75)]
    assert [a.path for a in client.list_artifacts(run.info.run_id, "notes")] == ["notes/note.txt"]
    downloaded = client.download_artifacts(run.info.run_id, "notes/note.txt", str(tmp_path / "back"))
    assert Path(downloaded).read_text() == note.read_text()
    assert len(list(server.artifacts_dir.rglob("note.txt"))) == 1  # stored by the server, not us
    assert ("fer-services",) in _query(server.backend_store_uri, "select name from experiments")

    server.stop()
    assert live_group_members(server.pid) == []
    assert not server.is_healthy()

