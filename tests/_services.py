"""Throwaway services for tests: a private PostgreSQL cluster, fresh databases and an MLflow server.

Everything listens on 127.0.0.1 only, lives in a temporary directory and is stopped by its owner
(the fixtures in ``tests/services_fixtures.py``). Nothing here imports pytest, so the helpers can be
reused from a shell (``python -c``) or a benchmark.
"""

from __future__ import annotations

import importlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

LOOPBACK = "127.0.0.1"
POSTGRES_URL_ENV = "FER_TEST_POSTGRES_URL"
POSTGRES_SUPERUSER = "fer"
POSTGRES_SYSTEM_USER = "postgres"
POSTGRES_BIN_ROOTS = (Path("/usr/lib/postgresql"),)
POSTGRES_START_TIMEOUT_S = 60
N_PORT_ATTEMPTS = 3
MLFLOW_START_TIMEOUT_S = 60.0
MLFLOW_STOP_TIMEOUT_S = 15.0
N_LOG_TAIL_CHARS = 4000


class ServiceError(RuntimeError):
    """A service could not be started or stopped; the message carries the tail of its log."""


class ServiceUnavailable(ServiceError):
    """The machine cannot run the service at all (missing binaries or system user)."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it; a race is still possible)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def log_tail(path: Path, n_chars: int = N_LOG_TAIL_CHARS) -> str:
    """The last ``n_chars`` characters of a log file, or a note that it does not exist."""
    if not path.is_file():
        return f"(no log at {path})"
    text = path.read_text(errors="replace")
    return text[-n_chars:] if text.strip() else f"(log {path} is empty)"


# --------------------------------------------------------------------------------------------------
# PostgreSQL binaries and cluster


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    """Sort key of ``/usr/lib/postgresql/<version>/bin`` by numeric version."""
    return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name)) or (0,)


def find_postgres_bin_dir(
    search_path: str | None = None, roots: Sequence[Path] = POSTGRES_BIN_ROOTS
) -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: from $PATH, else the newest Debian install.

    Debian keeps the server binaries out of $PATH (``/usr/lib/postgresql/<version>/bin``), so that
    location is searched too. Returns None when PostgreSQL is not installed.
    """
    initdb = shutil.which("initdb", path=search_path)
    if initdb is not None and shutil.which("pg_ctl", path=search_path) is not None:
        return Path(initdb).resolve().parent
    candidates = [d for root in roots for d in root.glob("*/bin")]
    for bin_dir in sorted(candidates, key=_version_key, reverse=True):
        if all(os.access(bin_dir / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return bin_dir
    return None


def _system_user_for_postgres() -> str | None:
    """The user that runs PostgreSQL: ``postgres`` when we are root (initdb refuses root), else us."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        raise ServiceUnavailable(
            f"running as root but there is no '{POSTGRES_SYSTEM_USER}' system user to run initdb as "
            "(install the Debian package postgresql, or run the tests as a normal user)"
        ) from None
    return POSTGRES_SYSTEM_USER


@dataclass
class PostgresCluster:
    """A private PostgreSQL cluster in ``base_dir``, reachable at 127.0.0.1:``port`` with trust auth."""

    bin_dir: Path
    base_dir: Path
    port: int
    run_as: str | None = None
    superuser: str = POSTGRES_SUPERUSER

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    def url(self, database: str = "postgres") -> str:
        """A libpq/SQLAlchemy URL of ``database`` on this cluster."""
        return f"postgresql://{self.superuser}@{LOOPBACK}:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs a server tool as the cluster's owner; output is captured for error messages."""
        command = [str(self.bin_dir / tool), *args]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                              check=False)

    def init(self) -> None:
        """Creates the cluster's data directory (trust auth: a throwaway cluster for tests only)."""
        done = self._run("initdb", "-D", str(self.data_dir), "-U", self.superuser, "-A", "trust",
                         "-E", "UTF8", "--no-locale")
        if done.returncode != 0:
            raise ServiceError(f"initdb failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        """Starts the server on 127.0.0.1 only, with no Unix socket, and waits until it accepts."""
        options = f"-c listen_addresses={LOOPBACK} -c port={self.port} -c unix_socket_directories=''"
        done = self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w",
                         "-t", str(POSTGRES_START_TIMEOUT_S), "-o", options, "start")
        if done.returncode != 0:
            raise ServiceError(f"pg_ctl start failed on port {self.port} (exit {done.returncode}):\n"
                               f"{done.stdout}{done.stderr}\nserver log:\n{log_tail(self.log_file)}")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data_dir), "status").returncode == 0

    def stop(self) -> None:
        """Stops the server (fast mode: open sessions are rolled back); a no-op when it is down."""
        if not self.data_dir.is_dir() or not self.is_running():
            return
        done = self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        if done.returncode != 0:
            raise ServiceError(f"pg_ctl stop failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")

    def remove(self) -> None:
        """Stops the server and deletes its directory."""
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)


def _make_base_dir(run_as: str | None) -> Path:
    """A fresh directory under the system temp dir, owned by ``run_as`` (pytest's tmp is 0700 root)."""
    base_dir = Path(tempfile.mkdtemp(prefix="fer-pg-"))
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        os.chown(base_dir, entry.pw_uid, entry.pw_gid)
    return base_dir


def _is_port_clash(error: ServiceError) -> bool:
    return "address already in use" in str(error).lower() or "could not bind" in str(error).lower()


def start_postgres_cluster(bin_dir: Path | None = None) -> PostgresCluster:
    """Initialises and starts a private cluster on a free loopback port; the caller must ``remove()`` it.

    Raises:
        ServiceUnavailable: PostgreSQL is not installed, or there is no user to run it as.
        ServiceError: initdb or the server failed; the message holds their output.
    """
    bin_dir = bin_dir or find_postgres_bin_dir()
    if bin_dir is None:
        raise ServiceUnavailable("initdb/pg_ctl not found in $PATH or /usr/lib/postgresql/*/bin")
    run_as = _system_user_for_postgres()
    cluster = PostgresCluster(bin_dir=bin_dir, base_dir=_make_base_dir(run_as), port=free_port(),
                              run_as=run_as)
    try:
        cluster.init()
        _start_on_free_port(cluster)
    except BaseException:
        cluster.remove()
        raise
    return cluster


def _start_on_free_port(cluster: PostgresCluster) -> None:
    """Starts the cluster, moving to another free port when its port was taken in the meantime."""
    for _ in range(N_PORT_ATTEMPTS - 1):
        try:
            cluster.start()
            return
        except ServiceError as error:
            if not _is_port_clash(error):
                raise
            cluster.port = free_port()
    cluster.start()


# --------------------------------------------------------------------------------------------------
# Databases. The DBAPI driver is imported lazily: it is an optional dependency. SQLAlchemy 2.1 (used
# by Optuna and MLflow) maps a bare ``postgresql://`` URL to psycopg 3, SQLAlchemy 2.0 to psycopg2,
# so the URLs handed to them name the installed driver explicitly (``postgresql+psycopg://``).

POSTGRES_DRIVERS = ("psycopg", "psycopg2")  # preference order; module name == SQLAlchemy driver name


def installed_postgres_driver() -> str | None:
    """The first importable PostgreSQL DBAPI module of ``POSTGRES_DRIVERS``, or None."""
    for driver in POSTGRES_DRIVERS:
        try:
            importlib.import_module(driver)
        except ImportError:
            continue
        return driver
    return None


def _require_driver() -> ModuleType:
    """The installed DBAPI module; ServiceUnavailable names the package to install."""
    driver = installed_postgres_driver()
    if driver is None:
        raise ServiceUnavailable("no PostgreSQL driver installed: pip install 'psycopg[binary]' "
                                 "(or psycopg2-binary)")
    return importlib.import_module(driver)


def libpq_url(url: str) -> str:
    """``url`` as libpq accepts it: ``postgresql+psycopg://...`` -> ``postgresql://...``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.split("+", 1)[0]))


def sqlalchemy_url(url: str, driver: str | None = None) -> str:
    """``url`` naming a SQLAlchemy driver, for Optuna and MLflow.

    An explicit ``driver`` wins, else the one already in ``url``, else the installed one.
    """
    scheme = urlsplit(url).scheme
    driver = driver or (scheme.split("+", 1)[1] if "+" in scheme else installed_postgres_driver())
    plain = libpq_url(url)
    if driver is None:
        return plain
    return urlunsplit(urlsplit(plain)._replace(scheme=f"postgresql+{driver}"))


def redact_password(url: str) -> str:
    """``url`` with its password, if any, shown as ``***`` (for error messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


def database_url(server_url: str, database: str) -> str:
    """``server_url`` with its database (the URL path) replaced by ``database``."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_name(url: str) -> str:
    """The database named in a PostgreSQL URL (``postgresql://user@host:port/NAME``)."""
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise ValueError(f"the PostgreSQL URL names no database (url={url!r}); append '/<database>'")
    return name


@contextmanager
def _autocommit_cursor(url: str) -> Iterator[Any]:
    """A cursor outside any transaction (CREATE/DROP DATABASE cannot run inside one)."""
    driver = _require_driver()
    try:
        connection = driver.connect(libpq_url(url), connect_timeout=10)
    except driver.OperationalError as error:
        raise ServiceError(f"cannot connect to PostgreSQL at {redact_password(url)}: "
                           f"{str(error).strip()}") from error
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


def _sql(template: str, *identifiers: str) -> Any:
    """``template`` with its ``{}`` filled by quoted SQL identifiers (database names)."""
    sql = importlib.import_module(f"{_require_driver().__name__}.sql")
    return sql.SQL(template).format(*(sql.Identifier(name) for name in identifiers))


def check_connection(url: str) -> str:
    """Runs ``select version()`` on ``url`` and returns it; raises ServiceError when unreachable."""
    with _autocommit_cursor(url) as cursor:
        cursor.execute("select version()")
        return str(cursor.fetchone()[0])


def create_database(admin_url: str, prefix: str = "fer_test") -> str:
    """Creates an empty database with a unique name through ``admin_url`` and returns its URL.

    ``admin_url``'s role needs the CREATEDB privilege (the test clusters use a superuser).
    """
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _autocommit_cursor(admin_url) as cursor:
        cursor.execute(_sql("CREATE DATABASE {}", name))
    return database_url(admin_url, name)


def drop_database(admin_url: str, database: str) -> None:
    """Drops ``database`` after terminating its open sessions (a no-op when it does not exist)."""
    if database == database_name(admin_url):
        raise ValueError(f"refusing to drop the admin database itself (database={database!r})")
    with _autocommit_cursor(admin_url) as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))
        cursor.execute(_sql("DROP DATABASE IF EXISTS {}", database))


def list_databases(admin_url: str) -> list[str]:
    """Names of the non-template databases on the server of ``admin_url``."""
    with _autocommit_cursor(admin_url) as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname")
        return [row[0] for row in cursor.fetchall()]


# --------------------------------------------------------------------------------------------------
# MLflow tracking server


@dataclass
class MlflowServer:
    """A running ``mlflow server`` in its own process group; ``stop()`` ends the whole group."""

    process: subprocess.Popen[bytes]
    uri: str
    backend_store_uri: str
    artifacts_dir: Path
    log_file: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_healthy(self) -> bool:
        """True when ``GET /health`` answers 200."""
        try:
            with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def wait_until_healthy(self, timeout_s: float = MLFLOW_START_TIMEOUT_S) -> None:
        """Polls ``/health``; raises ServiceError with the server log if it dies or times out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceError(f"mlflow server exited with status {self.process.returncode} before "
                                   f"answering {self.uri}/health; log:\n{log_tail(self.log_file)}")
            if self.is_healthy():
                return
            time.sleep(0.25)
        raise ServiceError(f"mlflow server did not answer {self.uri}/health within {timeout_s:.0f} s; "
                           f"log:\n{log_tail(self.log_file)}")

    def stop(self, timeout_s: float = MLFLOW_STOP_TIMEOUT_S) -> None:
        """SIGTERM to the process group (uvicorn shuts down cleanly), SIGKILL to what is left after
        ``timeout_s``; returns once no process of the group is alive. Idempotent."""
        _signal_group(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
        if not _wait_group_gone(self.pid, timeout_s):
            _signal_group(self.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout_s)
            if not _wait_group_gone(self.pid, timeout_s):
                raise ServiceError(f"mlflow server process group {self.pid} survived SIGKILL: "
                                   f"{live_group_members(self.pid)}")


def _signal_group(pgid: int, signum: int) -> None:
    """Sends ``signum`` to a process group that may already be gone."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def live_group_members(pgid: int) -> list[int]:
    """PIDs of the live processes of a process group (zombies awaiting their reaper excluded).

    Reads /proc (Linux); elsewhere any member, zombie or not, counts as live.
    """
    if not Path("/proc/self/stat").is_file():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    members = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(stat_file.parent.name))
    return members


def _wait_group_gone(pgid: int, timeout_s: float) -> bool:
    """Polls until no live process of the group is left; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while live_group_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def mlflow_server_command(backend_store_uri: str, artifacts_dir: Path, port: int,
                          n_workers: int = 1) -> list[str]:
    """The ``mlflow server`` command line: loopback only, artifacts proxied by the server."""
    return [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", backend_store_uri,
        "--default-artifact-root", "mlflow-artifacts:/",
        "--serve-artifacts",
        "--artifacts-destination", str(artifacts_dir),
        "--host", LOOPBACK,
        "--port", str(port),
        "--workers", str(n_workers),
    ]


def _server_env() -> dict[str, str]:
    """Our environment minus the client-side tracking URI, without MLflow's GenAI job runner."""
    env = {key: value for key, value in os.environ.items() if key != "MLFLOW_TRACKING_URI"}
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # one process fewer; fer-search runs no jobs
    return env


def _launch_mlflow_server(backend_store_uri: str, work_dir: Path, n_workers: int) -> MlflowServer:
    """Spawns the server in a new session (its own process group), logging to ``work_dir``."""
    artifacts_dir = work_dir / "artifacts"
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    log_file = work_dir / "mlflow-server.log"
    port = free_port()
    with log_file.open("wb") as log_handle:  # the child keeps its own descriptor
        process = subprocess.Popen(
            mlflow_server_command(backend_store_uri, artifacts_dir, port, n_workers),
            stdin=subprocess.DEVNULL, stdout=log_handle, stderr=subprocess.STDOUT, env=_server_env(),
            cwd=work_dir, start_new_session=True,
        )
    return MlflowServer(process=process, uri=f"http://{LOOPBACK}:{port}",
                        backend_store_uri=backend_store_uri, artifacts_dir=artifacts_dir,
                        log_file=log_file)


def start_mlflow_server(backend_store_uri: str, work_dir: Path, *, n_workers: int = 1,
                        timeout_s: float = MLFLOW_START_TIMEOUT_S) -> MlflowServer:
    """Starts ``mlflow server`` on a free loopback port and waits for ``/health``.

    Artifacts go to ``work_dir/artifacts`` and the server's output to ``work_dir/mlflow-server.log``.
    ``backend_store_uri`` may omit the driver (``postgresql://``); the installed one is named for
    MLflow's SQLAlchemy. The caller must ``stop()`` the returned server.

    Raises:
        ServiceError: the server exited or did not answer in time; the message holds its log.
    """
    backend_store_uri = sqlalchemy_url(backend_store_uri)
    for _ in range(N_PORT_ATTEMPTS - 1):
        try:
            return _launch_until_healthy(backend_store_uri, work_dir, n_workers, timeout_s)
        except ServiceError as error:
            if not _is_port_clash(error):
                raise
    return _launch_until_healthy(backend_store_uri, work_dir, n_workers, timeout_s)


def _launch_until_healthy(backend_store_uri: str, work_dir: Path, n_workers: int,
                          timeout_s: float) -> MlflowServer:
    """One launch on a fresh free port; the server is stopped again when it does not come up."""
    server = _launch_mlflow_server(backend_store_uri, work_dir, n_workers)
    try:
        server.wait_until_healthy(timeout_s)
    except BaseException:
        server.stop()
        raise
    return server
