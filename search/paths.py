"""Where a study's records live by default: ``./mlruns`` of the working directory.

MLflow's tracking database and artifacts, the Optuna study database and, for ``--engine keras-tuner``,
Keras Tuner's project folders sit side by side there, so one folder holds everything a study produced.
``MLFLOW_TRACKING_URI`` overrides the tracking store and ``--storage`` the Optuna storage.

Two rules for every file the platform writes there: a study name becomes a folder only after
``check_study_name`` (names read back from a shared storage included), and a file that a user or a resumed
run reads is written atomically (``atomic_write``, ``atomic_path``: a temporary file beside it, then a rename).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from search.errors import SettingsError

MLRUNS_DIRNAME = "mlruns"
TRACKING_DB_NAME = "mlflow.db"
STUDY_DB_NAME = "optuna.db"
ARTIFACTS_DIRNAME = "artifacts"
REFIT_DIRNAME = "refit"
KERAS_TUNER_DIRNAME = "keras_tuner"
STUDY_STORAGE_ENV = "FER_SEARCH_STORAGE"
"""The Optuna storage URL when ``--storage`` is not given (like ``MLFLOW_TRACKING_URI`` for the tracking store)."""
STUDY_NAME_RULE = re.compile(r"[A-Za-z0-9._-]{1,200}")
"""A study name is a folder name in ``./mlruns`` (refits, Keras Tuner, artifacts): no separator, no ``..``."""
STUDY_NAME_RULE_TEXT = ("must be 1-200 letters, digits, '.', '_' or '-', and not only dots (it names the "
                        "MLflow experiment and folders under ./mlruns)")


def check_study_name(study_name: str) -> str:
    """``study_name`` if it is safe as one folder name; SettingsError otherwise.

    Called wherever a name becomes a path, including names read back from a shared storage, which another
    version or another tool may have written.
    """
    if not STUDY_NAME_RULE.fullmatch(study_name) or not study_name.strip("."):
        raise SettingsError(f"The study name {study_name!r} {STUDY_NAME_RULE_TEXT}; pick another --study.")
    return study_name


def study_subdir(root: Path, study_name: str) -> Path:
    """``root/<study_name>`` after checking the name, so the folder cannot leave ``root``."""
    return root / check_study_name(study_name)


def mlruns_dir() -> Path:
    """The project's local store, ``./mlruns`` resolved against the working directory."""
    return Path.cwd() / MLRUNS_DIRNAME


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI`` when set, else a SQLite database in ``./mlruns``."""
    from_env = os.environ.get("MLFLOW_TRACKING_URI")
    if from_env:
        return from_env
    return f"sqlite:///{mlruns_dir() / TRACKING_DB_NAME}"


def default_study_storage() -> str:
    """The Optuna storage used when ``--storage`` is not given: ``$FER_SEARCH_STORAGE`` when set, else a SQLite
    database in ``./mlruns``.

    The variable keeps a storage URL with a password off command lines, which every local user can read
    (``ps``); ``run --workers`` hands the storage to its workers through it.
    """
    from_env = os.environ.get(STUDY_STORAGE_ENV)
    if from_env:
        return from_env
    return f"sqlite:///{mlruns_dir() / STUDY_DB_NAME}"


def default_artifact_location(experiment_name: str) -> str | None:
    """Artifact root for a new experiment: ``./mlruns/artifacts/<name>`` for a local store.

    Returns None (the tracking server decides) when the tracking URI points at a server.
    """
    uri = default_tracking_uri()
    if not uri.startswith("sqlite:///"):
        return None
    return study_subdir(mlruns_dir() / ARTIFACTS_DIRNAME, experiment_name).as_uri()


def refit_dir(study_name: str) -> Path:
    """Checkpoints of a study's refits (``search refit``): ``./mlruns/refit/<study>``.

    Local working state, kept beside the default stores even when the tracking store is a server.
    """
    return study_subdir(mlruns_dir() / REFIT_DIRNAME, study_name)


def ensure_local_store() -> None:
    """Create ``./mlruns`` when the default (local) stores are in use."""
    mlruns_dir().mkdir(parents=True, exist_ok=True)


def keras_tuner_dir(study_name: str) -> Path:
    """Keras Tuner's project folder of a study (``run --engine keras-tuner``): ``./mlruns/keras_tuner/<study>``.

    It holds the oracle's state (``oracle.json``), one ``trial_<id>/trial.json`` per Keras Tuner trial and,
    for Hyperband, the ``checkpoint.weights.h5`` a later round continues from. Local working state, kept
    beside the default stores even when the tracking store is a server.
    """
    return study_subdir(mlruns_dir() / KERAS_TUNER_DIRNAME, study_name)


@contextmanager
def atomic_write(path: Path | str, mode: str = "w", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Opens a temporary file beside ``path`` for writing; it replaces ``path`` only when the block succeeds.

    A reader (a user's browser, a resumed run) sees the old file or the new one, never half of one: the
    data is flushed and fsynced, then ``os.replace`` renames it over ``path`` (atomic on one file system).
    On an error the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=f"-{target.name}", dir=target.parent)
    try:
        with os.fdopen(handle, mode, **open_kwargs) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        _give_usual_mode(Path(temporary), target)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path | str, text: str, encoding: str = "utf-8") -> None:
    """Writes ``text`` to ``path`` atomically (see ``atomic_write``)."""
    with atomic_write(path, "w", encoding=encoding) as stream:
        stream.write(text)


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """A fresh name beside ``path`` for a writer that wants a file name (``model.save_weights``).

    The block writes to the yielded path; when it succeeds the file is fsynced and renamed over ``path``,
    when it fails the file is removed and ``path`` is left as it was. The name ends with ``path``'s whole
    name (``.tmp-x1y2-checkpoint.weights.h5``), so writers that check the extension accept it.
    """
    target = Path(path)
    handle, name = tempfile.mkstemp(prefix=".tmp-", suffix=f"-{target.name}", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        _give_usual_mode(temporary, target)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _give_usual_mode(temporary: Path, target: Path) -> None:
    """The mode ``target`` has, or a new file's (0666 less the umask): temporary files are made 0600."""
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temporary, mode)
