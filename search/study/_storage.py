"""Opening the Optuna storage (RDB) behind a study, with heartbeats and one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna

from search.errors import StorageError
from search.redaction import redact_text, redact_url

DEFAULT_HEARTBEAT_S = 30


def open_storage(url: str, *, heartbeat_s: int = DEFAULT_HEARTBEAT_S) -> optuna.storages.BaseStorage:
    """An RDB storage for ``url`` with trial heartbeats, so a dead worker's trial is detected.

    SQLite waits for locks instead of failing at once. A server database's pooled connections are
    checked before each use (``pool_pre_ping``), so a database restart costs a reconnect, not a failed
    trial. A trial whose heartbeat is older than twice ``heartbeat_s`` counts as dead.

    Raises:
        StorageError: The storage cannot be reached, or refuses the credentials.
    """
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        engine_kwargs = {"connect_args": {"timeout": 60}}
        _create_parent_folder(url)
    try:
        return optuna.storages.RDBStorage(
            url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_s, grace_period=2 * heartbeat_s
        )
    except Exception as error:  # noqa: BLE001 - driver errors vary: report them in one line
        reason = redact_text(first_line(error), url)
        raise StorageError(f"Cannot open the study storage {redact_url(url)}: {reason}") from None


def _create_parent_folder(sqlite_url: str) -> None:
    from sqlalchemy.engine import make_url

    database = make_url(sqlite_url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def first_line(error: BaseException) -> str:
    """The first line of a (database driver) error, for one-line messages."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
