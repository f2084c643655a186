"""Is the MLflow tracking store there? A quick probe, and which MLflow errors mean "it is not, for now".

The probe bypasses MLflow's own HTTP retries (which can wait minutes on a dead server): a worker riding out
an outage asks often and must get a quick answer.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

PROBE_TIMEOUT_S = 5.0
OUTAGE_ERROR_CODES = frozenset({"TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"})
"""MLflow REST error codes that say "the server is there but cannot serve now" (not a bad request)."""


def is_tracking_outage(error: BaseException) -> bool:
    """True for an MLflow error whose code says the tracking server is temporarily unavailable."""
    return getattr(error, "error_code", None) in OUTAGE_ERROR_CODES


def probe_store(tracking_uri: str, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Returns when the store at ``tracking_uri`` answers; raises the error that says why not.

    An HTTP(S) tracking server must answer ``GET /health``; a database (a tracking store or a study
    storage) must accept a connection; a local folder must exist. Other URI schemes (``databricks`` and
    the like) are not probed.
    """
    scheme = urlsplit(tracking_uri).scheme.split("+", 1)[0].lower()
    if scheme in ("http", "https"):
        import requests

        response = requests.get(f"{tracking_uri.rstrip('/')}/health", timeout=timeout_s)
        response.raise_for_status()
    elif scheme in ("sqlite", "postgresql", "mysql", "mssql"):
        from sqlalchemy import create_engine, text

        connect_args = {"connect_timeout": max(1, int(timeout_s))} if scheme in ("postgresql", "mysql") else {}
        engine = create_engine(tracking_uri, connect_args=connect_args)
        try:
            with engine.connect() as connection:
                # SQLite answers "SELECT 1" without its file: read the schema, which a lock holder blocks.
                connection.execute(text("SELECT count(*) FROM sqlite_master" if scheme == "sqlite" else "SELECT 1"))
        finally:
            engine.dispose()
    elif scheme in ("", "file"):
        folder = Path(urlsplit(tracking_uri).path if scheme == "file" else tracking_uri)
        if not folder.is_dir():
            raise FileNotFoundError(f"tracking folder {folder} does not exist")
