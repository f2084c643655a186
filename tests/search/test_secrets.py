"""No credential is stored or printed: a study run with passwords in both store URLs leaves none anywhere.

Real components: a PostgreSQL role with a password owns the Optuna storage and the MLflow backend store,
``run`` creates and resumes a study on them, ``ui`` starts a real ``mlflow server`` on that backend. Then
the whole working directory (``mlruns/`` and every file the commands wrote, binary too), every row of both
databases, everything printed, and the command line of every process ``ui`` started are searched for the
passwords.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

from search import main
from tests._services import free_port, libpq_url

pytestmark = pytest.mark.integration

UI_START_TIMEOUT_S = 180.0


def _secret() -> str:
    return f"S3cret{uuid.uuid4().hex[:12]}"


def _with(url: str, *, database: str, netloc: str, query: str = "") -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}", query=query))


def _admin(url: str, statement: str, *args: str) -> None:
    """Runs ``statement`` outside a transaction; ``{}`` placeholders take ``args`` as SQL literals."""
    import psycopg
    from psycopg import sql

    query = sql.SQL(statement).format(*(sql.Literal(arg) for arg in args))
    with psycopg.connect(libpq_url(url), autocommit=True, connect_timeout=10) as connection:
        connection.execute(query)


def _rows_as_text(url: str) -> str:
    """Every row of every table of the database at ``url``, each as PostgreSQL's text of the row."""
    import psycopg
    from psycopg import sql

    texts = []
    with psycopg.connect(libpq_url(url), connect_timeout=10) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')").fetchall()
        for schema, table in tables:
            query = sql.SQL("SELECT t::text FROM {}.{} AS t").format(sql.Identifier(schema), sql.Identifier(table))
            texts += [row[0] for row in connection.execute(query).fetchall()]
    assert tables, f"no table in {url}"
    return "\n".join(texts)


@pytest.fixture
def stores_with_passwords(postgres_url: str) -> Iterator[tuple[str, str, list[str]]]:
    """(Optuna storage URL, MLflow tracking URL, their secrets): two fresh databases owned by a new role
    whose password is in the storage URL's ``user:password@`` and in the tracking URL's ``?password=``."""
    role, password = f"fer_secret_{uuid.uuid4().hex[:8]}", _secret()
    databases = [f"{role}_optuna", f"{role}_mlflow"]
    _admin(postgres_url, f'CREATE ROLE "{role}" LOGIN PASSWORD {{}}', password)
    for database in databases:
        _admin(postgres_url, f'CREATE DATABASE "{database}" OWNER "{role}"')
    host = urlsplit(postgres_url).netloc.rpartition("@")[2]
    storage = _with(postgres_url, database=databases[0], netloc=f"{role}:{quote(password)}@{host}")
    tracking = _with(postgres_url, database=databases[1], netloc=f"{role}@{host}", query=f"password={password}")
    try:
        yield storage, tracking, [password]
    finally:
        for database in databases:
            _admin(postgres_url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {}",
                   database)
            _admin(postgres_url, f'DROP DATABASE IF EXISTS "{database}"')
        _admin(postgres_url, f'DROP ROLE IF EXISTS "{role}"')


def _descendants(pid: int) -> list[int]:
    """PIDs of every live process below ``pid`` (children in new sessions included), read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _command_lines(pids: list[int]) -> dict[int, str]:
    lines = {}
    for pid in pids:
        try:
            lines[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
    return lines


def _files_holding(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            content = path.read_bytes()
            hits += [f"{path}: {needle!r}" for needle in needles if needle in content]
    return hits


def _run_ui(workdir: Path, tracking: str) -> tuple[dict[int, str], str]:
    """Starts ``python -m search ui`` on ``tracking``; the command lines of its processes once it serves, and
    everything it printed until stopped."""
    port = free_port()
    log = workdir / "ui.log"
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking}
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "search", "ui", "--port", str(port)], cwd=workdir,
                                   env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + UI_START_TIMEOUT_S
        while f"MLflow UI: http://127.0.0.1:{port}" not in log.read_text(errors="replace"):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        command_lines = _command_lines([process.pid, *_descendants(process.pid)])
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
    return command_lines, log.read_text(errors="replace")


def test_no_password_is_stored_printed_or_passed_on_a_command_line(
    workdir: Path, small_csv: Path, postgres_url: str, stores_with_passwords: tuple[str, str, list[str]],
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
) -> None:
    storage, tracking, secrets = stores_with_passwords
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    command = ["run", "--space", "smoke", "--data", str(small_csv), "--storage", storage, "--study", "secret",
               "--epochs", "1", "--pruner", "none", "--seed", "1"]
    assert main([*command, "--trials", "1"]) == 0
    assert main([*command, "--trials", "2"]) == 0  # resumed: the URL comes from --storage, not the record
    printed = "".join(capfd.readouterr())
    command_lines, ui_output = _run_ui(workdir, tracking)

    needles = sorted({form for secret in secrets for form in (secret, quote(secret))})
    assert not _files_holding(workdir, [needle.encode() for needle in needles])
    optuna_rows, mlflow_rows = _rows_as_text(storage), _rows_as_text(tracking)
    for text, where in [(printed, "output of run"), (ui_output, "output of ui"), (optuna_rows, "Optuna database"),
                        (mlflow_rows, "MLflow database"), ("\n".join(command_lines.values()), "a command line")]:
        assert not [needle for needle in needles if needle in text], f"a password is in the {where}"

    # Not vacuous: the study was recorded in both databases, with its storage redacted, and ui served it.
    assert "postgresql+psycopg://fer_secret_" in optuna_rows and ":***@" in optuna_rows
    assert "search.storage" in mlflow_rows and ":***@" in mlflow_rows
    assert "Study 'secret'" in printed or "secret" in printed
    assert any("mlflow" in line and "server" in line for line in command_lines.values()), command_lines


def test_workers_get_the_storage_password_through_their_environment_not_their_command_line(
    workdir: Path, small_csv: Path, stores_with_passwords: tuple[str, str, list[str]],
) -> None:
    """``run --workers 2 --storage URL``: each worker's command line (``ps``, readable by every local user) lacks
    ``--storage``; the URL reaches the workers through ``$FER_SEARCH_STORAGE`` and they share the study."""
    storage, tracking, secrets = stores_with_passwords
    command = [sys.executable, "-m", "search", "run", "--space", "smoke", "--data", str(small_csv), "--storage",
               storage, "--study", "secret-workers", "--epochs", "1", "--pruner", "none", "--trials", "2",
               "--workers", "2", "--seed", "1"]
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking}
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen: dict[int, str] = {}
    while process.poll() is None:
        seen.update({pid: line for pid, line in _command_lines(_descendants(process.pid)).items() if line})
        time.sleep(0.2)
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    assert process.returncode == 0, output[-3000:]
    workers = [line for line in seen.values() if " -m search run " in line]
    assert len(workers) == 2, seen  # not vacuous: both workers' command lines were read while they ran
    assert not any("--storage" in line for line in workers), workers
    needles = sorted({form for secret in secrets for form in (secret, quote(secret))})
    assert not [needle for needle in needles if needle in output or any(needle in line for line in seen.values())]
    assert "2 finished of 2" in output or "2 of 2" in output, output[-2000:]
