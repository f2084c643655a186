"""The MLflow UI on the project's store: ``mlflow server`` as a child process, bound to loopback.

The server (and the uvicorn worker it spawns) runs in its own process group, so stopping the UI -- Ctrl-C,
SIGTERM, or the readiness check failing -- ends every process it started and leaves nothing listening.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.defaults import DEFAULT_HOST, DEFAULT_PORT
from search.errors import UiError
from search.redaction import redact_url
from search.signals import sigterm_as_keyboard_interrupt

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
READY_TIMEOUT_S = 180.0
STOP_GRACE_S = 10.0
_SQLITE_PREFIX = "sqlite:///"
_SERVER_PREFIXES = ("http://", "https://", "databricks")
RUNS_VIEW_QUERY = "workflowType=machine_learning"
"""The UI's model-training view. MLflow 3.17 opens any experiment on the view its sidebar switch names (GenAI
unless the browser was switched to "Model training"), whatever the experiment's kind tag; this query opens
the runs table whatever the switch says."""
MAX_STUDY_LINKS = 10
_DEFAULT_EXPERIMENT_ID = "0"



@dataclass(frozen=True)
class UiSettings:
    """Where the UI reads from and listens.

    Args:
        tracking_uri: The MLflow backend store: the ``sqlite:///`` database of ``python -m search run`` (any
            database URI ``mlflow server`` accepts works; a tracking *server* already has its UI).
        artifacts_dir: Root of the artifacts (``./mlruns/artifacts``); runs keep their own locations.
        host: Interface to bind; loopback unless the user asks otherwise.
        port: TCP port, 1-65535.
    """

    tracking_uri: str
    artifacts_dir: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise UiError(f"--port must be between 1 and 65535 (port={self.port}); e.g. --port 5000.")
        if not self.host.strip():
            raise UiError("--host must not be empty; use 127.0.0.1 (this machine only).")
        if self.tracking_uri.startswith(_SERVER_PREFIXES):
            raise UiError(
                f"The tracking store is {redact_url(self.tracking_uri)!r} (from $MLFLOW_TRACKING_URI), a tracking "
                "server: it already serves its own UI, open it in a browser. Unset MLFLOW_TRACKING_URI to use ./mlruns."
            )

    @property
    def is_loopback(self) -> bool:
        """True when only this machine can connect."""
        return self.host in LOOPBACK_HOSTS

    @property
    def url(self) -> str:
        """The address to open in a browser."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def database_path(self) -> Path | None:
        """The SQLite file behind ``tracking_uri`` (None for another kind of database)."""
        if not self.tracking_uri.startswith(_SQLITE_PREFIX):
            return None
        return Path(self.tracking_uri[len(_SQLITE_PREFIX):])


def mlflow_server_command(settings: UiSettings) -> list[str]:
    """The ``mlflow server`` command line for ``settings`` (one worker: a local, single-user UI).

    ``--default-artifact-root`` and ``--artifacts-destination`` both point at ``./mlruns/artifacts`` so
    experiments created through the UI and proxied uploads land beside the studies' artifacts instead of
    in a stray ``./mlartifacts``; existing experiments keep the artifact location they were created with.
    The backend store is not on the command line (every local user can read a process's arguments, and
    the URI may hold a password): ``server_environment`` passes it as ``MLFLOW_BACKEND_STORE_URI``.
    """
    artifacts_uri = settings.artifacts_dir.resolve().as_uri()
    return [
        sys.executable, "-m", "mlflow", "server",
        "--default-artifact-root", artifacts_uri,
        "--serve-artifacts", "--artifacts-destination", artifacts_uri,
        "--host", settings.host, "--port", str(settings.port),
        "--workers", "1",
    ]


def runs_page_url(base_url: str, experiment_id: str) -> str:
    """The address of an experiment's runs table in the UI at ``base_url`` (see ``RUNS_VIEW_QUERY``)."""
    return f"{base_url}/#/experiments/{experiment_id}/runs?{RUNS_VIEW_QUERY}"


def study_run_pages(base_url: str, limit: int = MAX_STUDY_LINKS) -> tuple[list[tuple[str, str]], bool]:
    """``(study, runs page)`` of the ``limit`` most recently updated studies served at ``base_url``, and whether
    there are more; MLflow's empty ``Default`` experiment is left out. Asks the running server (none when it
    cannot answer: the links are a convenience)."""
    from mlflow import MlflowClient
    from mlflow.entities import ViewType
    from mlflow.exceptions import MlflowException

    try:
        experiments = MlflowClient(base_url).search_experiments(
            view_type=ViewType.ACTIVE_ONLY, max_results=limit + 2, order_by=["last_update_time DESC"])
    except (MlflowException, OSError):
        return [], False
    studies = [experiment for experiment in experiments if experiment.experiment_id != _DEFAULT_EXPERIMENT_ID]
    pages = [(experiment.name, runs_page_url(base_url, experiment.experiment_id)) for experiment in studies]
    return pages[:limit], len(pages) > limit


def check_can_start(settings: UiSettings) -> None:
    """Fails early when there is nothing to show or the port is taken."""
    database = settings.database_path
    if database is not None and not database.is_file():
        raise FileNotFoundError(
            f"No MLflow store at {database}: run a study first (`python -m search run`) "
            "or start the UI from the directory that holds ./mlruns."
        )
    if not port_is_free(settings.host, settings.port):
        raise UiError(
            f"Port {settings.port} on {settings.host} is already in use (another MLflow UI?); "
            f"pass another one, e.g. --port {settings.port + 1}."
        )


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now (False: another process listens there).

    Probed with SO_REUSEADDR, as uvicorn binds: connections of a UI stopped a moment ago (TIME_WAIT) do not
    count, a listening server does.

    Raises:
        UiError: ``host`` is not an address of this machine, or binding is not allowed (ports < 1024).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise UiError(f"Cannot listen on {host}:{port} ({error.strerror or error}); pass --host 127.0.0.1 "
                          "and a --port above 1023.") from None
    return True


BACKEND_STORE_ENV = "MLFLOW_BACKEND_STORE_URI"
"""``mlflow server --backend-store-uri`` read from the environment (a click ``envvar``): a process's environment
is readable by its own user only, its command line by every local user."""


def server_environment(settings: UiSettings) -> dict[str, str]:
    """The environment of ``mlflow server``: ours, plus the backend store URI (kept off the command line)."""
    env = dict(os.environ)
    env[BACKEND_STORE_ENV] = settings.tracking_uri
    # Job execution (GenAI evaluation jobs) would add a consumer process the UI of a study never needs.
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    return env


def start_server(settings: UiSettings) -> subprocess.Popen[bytes]:
    """Starts ``mlflow server`` in a new process group (its output goes to this terminal)."""
    return subprocess.Popen(mlflow_server_command(settings), env=server_environment(settings),
                            start_new_session=True)


def wait_until_ready(process: subprocess.Popen[bytes], url: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Polls ``<url>/health`` until the server answers; raises UiError if it dies or never answers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UiError(f"mlflow server exited with status {process.returncode} before it was ready "
                          "(its messages are above).")
        if _answers(f"{url}/health"):
            return
        time.sleep(0.5)
    raise UiError(f"mlflow server did not answer at {url} within {timeout_s:.0f} s.")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def stop_process_group(process: subprocess.Popen[Any], grace_s: float = STOP_GRACE_S) -> None:
    """Stops every process of ``process``'s group: SIGTERM, then SIGKILL if still alive after ``grace_s``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _signal_group(process.pid, sig) or _wait_group_gone(process, grace_s):
            return


def _signal_group(pgid: int, sig: int) -> bool:
    """Sends ``sig`` to the group; False when no process of it is left."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _wait_group_gone(process: subprocess.Popen[Any], timeout_s: float) -> bool:
    """Reaps the group leader and waits until no process of its group is left."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        process.poll()
        if not _signal_group(process.pid, 0):
            return True
        time.sleep(0.1)
    return False


def serve_ui(settings: UiSettings, *, on_ready: Callable[[], None] | None = None,
             on_stop: Callable[[], None] | None = None) -> int:
    """Runs the UI until Ctrl-C or SIGTERM; returns 0 when stopped so, else the server's own exit status.

    ``on_ready`` is called once the server answers, ``on_stop`` when Ctrl-C or SIGTERM stops it (the CLI
    tells the user).
    """
    check_can_start(settings)
    with sigterm_as_keyboard_interrupt():
        process = None
        try:
            process = start_server(settings)
            wait_until_ready(process, settings.url)
            if on_ready is not None:
                on_ready()
            return process.wait()
        except KeyboardInterrupt:
            if on_stop is not None:
                on_stop()
            return 0
        finally:
            with _stop_signals_ignored():  # a second Ctrl-C must not leave the server running
                if process is not None:
                    stop_process_group(process)


@contextmanager
def _stop_signals_ignored() -> Iterator[None]:
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


__all__ = ["UiError", "UiSettings", "check_can_start", "mlflow_server_command", "port_is_free", "runs_page_url",
           "serve_ui", "server_environment", "start_server", "stop_process_group", "study_run_pages",
           "wait_until_ready"]
