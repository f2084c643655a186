"""A lock shared by every worker of a study, held while the study's bookkeeping is changed.

Workers on one machine share a SQLite file: a file lock beside it serves. Workers on several machines
share a PostgreSQL or MySQL server: an advisory lock of that server serves. The lock guards only short
bookkeeping (recovering dead trials, adding trial slots, the one-time test score) — never a training.

The lock is re-entrant within a thread: code that needs it (the one-time test score) takes it whether or
not its caller already holds it (the last worker's final bookkeeping), and never waits on itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from search.errors import StorageError
from search.redaction import redact_text, redact_url
from search.study._storage import first_line

if TYPE_CHECKING:
    import optuna

_held = threading.local()
"""Per thread: the locks (by identity) this thread holds now, with their depth."""


@contextlib.contextmanager
def study_lock(storage_url: str, study_name: str) -> Iterator[None]:
    """Holds the study's lock for the duration of the ``with`` block (re-entrant within a thread)."""
    url = make_url(storage_url)
    backend = url.get_backend_name()
    identity = _lock_identity(storage_url, study_name)
    depths: dict[str, int] = _held.__dict__.setdefault("depths", {})
    if depths.get(identity):
        depths[identity] += 1
        try:
            yield  # this thread holds it already
        finally:
            depths[identity] -= 1
        return
    if backend == "sqlite":
        lock: contextlib.AbstractContextManager[None] = _file_lock(url.database, study_name)
    elif backend in ("postgresql", "mysql", "mariadb"):
        lock = _advisory_lock(storage_url, backend, study_name)
    else:
        lock = contextlib.nullcontext()  # e.g. an in-memory storage: one process, nothing to share
    with lock:
        depths[identity] = 1
        try:
            yield
        finally:
            depths.pop(identity, None)


def study_lock_of(study: optuna.Study) -> contextlib.AbstractContextManager[None]:
    """``study_lock`` for an open study: its own storage's URL and its name."""
    return study_lock(storage_url_of(study), study.study_name)


def storage_url_of(study: optuna.Study) -> str:
    """The URL of the storage ``study`` was opened on (Optuna wraps an RDB storage in a cache)."""
    storage = getattr(study._storage, "_backend", study._storage)
    url = getattr(storage, "url", None)
    return url if isinstance(url, str) else "memory://"


def _lock_identity(storage_url: str, study_name: str) -> str:
    """What makes two ``study_lock`` calls the same lock: the lock file, or the server and database."""
    url = make_url(storage_url)
    if url.get_backend_name() == "sqlite":
        database = str(Path(url.database).resolve()) if url.database and url.database != ":memory:" else ""
        return f"sqlite:{database}:{study_name}"
    return f"{url.get_backend_name()}://{url.host}:{url.port}/{url.database}:{study_name}"


@contextlib.contextmanager
def _file_lock(database: str | None, study_name: str) -> Iterator[None]:
    if not database or database == ":memory:":
        yield
        return
    digest = hashlib.sha1(study_name.encode()).hexdigest()[:12]
    lock_path = Path(database).with_name(f"{Path(database).name}.{digest}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _advisory_lock(storage_url: str, backend: str, study_name: str) -> Iterator[None]:
    key = int.from_bytes(hashlib.sha1(f"fer-search:{study_name}".encode()).digest()[:8], "big", signed=True)
    engine = create_engine(storage_url)
    try:
        try:
            connection_context = engine.connect()
        except Exception as error:  # noqa: BLE001 - driver errors vary: one line for the user
            reason = redact_text(first_line(error), storage_url)
            raise StorageError(f"Cannot open the study storage {redact_url(storage_url)}: {reason}") from None
        with connection_context as connection:
            if backend == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            else:
                name = f"fer-search:{key}"
                taken = connection.execute(text("SELECT GET_LOCK(:name, 600)"), {"name": name}).scalar()
                if taken != 1:
                    raise StorageError(f"Could not take the study lock on {redact_url(storage_url)} in 600 s")
                try:
                    yield
                finally:
                    connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
    finally:
        engine.dispose()
