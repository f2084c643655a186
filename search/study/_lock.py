"""A lock shared by every worker of a study, held while the study's bookkeeping is changed.

Workers on one machine share a SQLite file: a file lock beside it serves. Workers on several machines
share a PostgreSQL or MySQL server: an advisory lock of that server serves. The lock guards only short
bookkeeping (recovering dead trials, adding trial slots, the one-time test score) — never a training.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from search.errors import StorageError
from search.redaction import redact_url
from search.study._storage import first_line


@contextlib.contextmanager
def study_lock(storage_url: str, study_name: str) -> Iterator[None]:
    """Holds the study's lock for the duration of the ``with`` block."""
    url = make_url(storage_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        with _file_lock(url.database, study_name):
            yield
    elif backend in ("postgresql", "mysql", "mariadb"):
        with _advisory_lock(storage_url, backend, study_name):
            yield
    else:
        yield  # e.g. an in-memory storage: one process, nothing to share


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
            raise StorageError(
                f"Cannot open the study storage {redact_url(storage_url)}: {first_line(error)}"
            ) from None
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
