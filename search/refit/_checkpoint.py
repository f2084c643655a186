"""A refit's checkpoint folder: what an interrupted refit needs to continue from its last finished epoch.

``./mlruns/refit/<study>/trial_<n>/`` holds ``state.json`` (epochs done, history, early-stopping and
plateau state, the MLflow run, the outcome) and, per finished epoch, the model's weights and the
optimizer's variables, plus the best epoch's weights. Files are named after their epoch and
``state.json`` is replaced atomically last: it is the commit point, so a process killed at any moment
leaves a state that names complete files only. Files no state names any more are deleted after a commit.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from search.errors import CheckpointMismatchError, NotFoundError
from search.paths import atomic_path

if TYPE_CHECKING:
    import keras

STATE_FILE = "state.json"
TRAINING, COMPLETE, FAILED = "training", "complete", "failed"
_KEPT_SUFFIXES = (".weights.h5", ".optimizer.npz")



@dataclass
class RefitState:
    """Everything ``state.json`` records about one refit (mutable: updated after every epoch).

    Args:
        trial: The stage-1 trial number whose candidate is refit.
        n_epochs: ``--epochs`` the refit was started with.
        patience: ``--patience`` it was started with.
        run_id: Its MLflow run.
        status: ``training``, ``complete`` or ``failed``.
        epochs_done: Epochs finished and checkpointed (1-based count).
        best_epoch: The epoch (1-based) with the best validation accuracy so far.
        best_val_accuracy: That accuracy.
        n_stale: Epochs since the best one (early stopping's wait counter).
        plateau: ReduceLROnPlateau's ``wait``, ``best`` and ``cooldown_counter`` (plateau schedule only).
        history: Metric name -> one value per finished epoch.
        weights_file / optimizer_file / best_weights_file: Files of this folder, by name.
        n_resumes: How many times the refit was continued after an interruption.
        outcome: ``completed``, ``early_stopped``, ``timeout`` or ``nan_loss`` once training ended.
        timed_out: Stopped because its share of ``refit --timeout`` ran out (best weights kept).
        reason: Why it failed.
        model_uri / model_id: The MLflow model logged when complete.
        n_params: Trainable and non-trainable parameters of the model.
        val_accuracy: TTA mode -> validation accuracy of the final (best-epoch) model.
        teacher: A distilled student's teacher trials, best first (None for a refit).
        soft_weight: A distilled student's ``--distill-weight`` (None for a refit).
    """

    trial: int
    n_epochs: int
    patience: int
    run_id: str
    status: str = TRAINING
    epochs_done: int = 0
    best_epoch: int | None = None
    best_val_accuracy: float | None = None
    n_stale: int = 0
    plateau: dict[str, float] | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    weights_file: str | None = None
    optimizer_file: str | None = None
    best_weights_file: str | None = None
    n_resumes: int = 0
    outcome: str | None = None
    timed_out: bool = False
    reason: str | None = None
    model_uri: str | None = None
    model_id: str | None = None
    n_params: int | None = None
    val_accuracy: dict[str, float] = field(default_factory=dict)
    teacher: list[int] | None = None
    soft_weight: float | None = None

    @property
    def training_done(self) -> bool:
        """No epoch is left to train: all ran, early stopping's patience or the time share ran out."""
        return (self.epochs_done >= self.n_epochs or self.timed_out
                or (self.epochs_done > 0 and self.n_stale >= self.patience))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RefitState:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


class RefitCheckpoint:
    """The checkpoint folder of one refit.

    Args:
        directory: ``./mlruns/refit/<study>/trial_<n>``; created on the first commit.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    # --- state ---------------------------------------------------------------------------------------
    def load(self) -> RefitState | None:
        """The committed state, or None when this refit never finished an epoch's commit."""
        path = self.directory / STATE_FILE
        if not path.is_file():
            return None
        try:
            return RefitState.from_dict(json.loads(path.read_text()))
        except (ValueError, TypeError) as error:
            raise NotFoundError(
                f"The refit checkpoint {path} cannot be read ({error}); delete the folder {self.directory} "
                "to refit this trial from scratch."
            ) from None

    def commit(self, state: RefitState) -> None:
        """Writes ``state.json`` atomically (temp file, fsync, rename), then drops files it no longer names."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / STATE_FILE
        temporary = path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        with open(temporary, "w") as handle:
            json.dump(asdict(state), handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _fsync_directory(self.directory)
        self._drop_unreferenced(state)

    # --- per-epoch files -----------------------------------------------------------------------------
    def save_epoch(self, model: keras.Model, epoch: int, *, is_best: bool) -> dict[str, str]:
        """Writes the weights and optimizer variables after ``epoch`` (1-based); returns their file names.

        Nothing refers to them until the caller commits a state naming them.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        names = {"weights_file": f"epoch_{epoch:04d}.weights.h5",
                 "optimizer_file": f"epoch_{epoch:04d}.optimizer.npz"}
        model.save_weights(self.directory / names["weights_file"])
        _fsync_file(self.directory / names["weights_file"])
        self._save_optimizer(model.optimizer, self.directory / names["optimizer_file"])
        if is_best:
            names["best_weights_file"] = f"best_{epoch:04d}.weights.h5"
            model.save_weights(self.directory / names["best_weights_file"])
            _fsync_file(self.directory / names["best_weights_file"])
        return names

    def restore_weights(self, model: keras.Model, file_name: str) -> None:
        """Loads weights this folder holds into ``model``."""
        model.load_weights(self.directory / file_name)

    def restore_optimizer(self, optimizer: keras.optimizers.Optimizer, model: keras.Model, file_name: str) -> None:
        """Sets the optimizer's variables (step, learning rate, moments) to the saved ones.

        Raises:
            CheckpointMismatchError: The saved variables do not fit this optimizer.
        """
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        with np.load(self.directory / file_name, allow_pickle=False) as saved:
            values = [saved[f"v{index:05d}"] for index in range(len(saved.files))]
        variables = list(optimizer.variables)
        shapes_fit = len(values) == len(variables) and all(
            tuple(v.shape) == value.shape for v, value in zip(variables, values)
        )
        if not shapes_fit:
            raise CheckpointMismatchError(
                f"The optimizer state in {self.directory / file_name} does not fit this model's optimizer "
                f"({len(values)} saved variables, {len(variables)} now); delete {self.directory} to refit "
                "this trial from scratch."
            )
        for variable, value in zip(variables, values):
            variable.assign(value)

    # --- validation predictions ----------------------------------------------------------------------
    def save_probabilities(self, tta: str, probabilities: np.ndarray) -> None:
        """Caches the final model's validation probabilities under TTA mode ``tta``."""
        self.save_array(f"val_proba_{tta}.npy", probabilities)

    def load_probabilities(self, tta: str) -> np.ndarray | None:
        """The cached validation probabilities under ``tta``, if computed before."""
        return self.load_array(f"val_proba_{tta}.npy")

    def save_array(self, name: str, values: np.ndarray) -> None:
        """Caches float32 ``values`` as ``name`` (a ``.npy`` file beside the checkpoint), whole or not at all."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.directory / name) as temporary:
            np.save(temporary, values.astype(np.float32), allow_pickle=False)

    def load_array(self, name: str) -> np.ndarray | None:
        """The array cached as ``name``, or None when there is none."""
        path = self.directory / name
        return np.load(path, allow_pickle=False) if path.is_file() else None

    def clear_probabilities(self) -> None:
        """Drops cached probabilities (the final model changed)."""
        for path in self.directory.glob("val_proba_*.npy"):
            path.unlink(missing_ok=True)

    # --- helpers -------------------------------------------------------------------------------------
    @staticmethod
    def _save_optimizer(optimizer: keras.optimizers.Optimizer, path: Path) -> None:
        arrays: dict[str, Any] = {
            f"v{index:05d}": np.asarray(variable.numpy()) for index, variable in enumerate(optimizer.variables)
        }
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())

    def _drop_unreferenced(self, state: RefitState) -> None:
        named = {state.weights_file, state.optimizer_file, state.best_weights_file}
        for path in self.directory.iterdir():
            if path.name.endswith(_KEPT_SUFFIXES) and path.name not in named:
                path.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(directory: Path) -> None:
    """Makes a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
