"""The resolved configuration of a study: defaults < command line, validated once, saved with the run."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.defaults import ENGINES, TUNERS
from search.errors import SettingsError
from search.paths import STUDY_NAME_RULE, STUDY_NAME_RULE_TEXT
from search.redaction import redact_url
from search.study._samplers import PRUNERS, SAMPLERS
from search.tracking import ENGINE_TAG, TUNER_TAG

SPLIT_METHODS = ("official", "random")
KERAS_TUNER = "keras-tuner"
DEFAULT_DATA_PATH = Path("data") / "fer2013.csv"
DEMO_DATA = "demo"



@dataclass(frozen=True)
class StudySettings:
    """Everything that defines a study, as resolved from the command line.

    Args:
        study_name: Optuna study name, also the MLflow experiment name.
        space: Shipped space name or path of a YAML space.
        data: Path of a FER2013-style CSV or image-folder tree, or ``"demo"`` for the synthetic set.
        split: ``official`` (FER2013 Usage column) or ``random`` (stratified 80/10/10); None = automatic.
        n_trials: Number of finished trials the study must end with.
        storage: Optuna storage URL.
        sampler: Name in ``search.study._samplers.SAMPLERS``.
        pruner: Name in ``search.study._samplers.PRUNERS``.
        max_epochs: Upper bound on epochs per trial (None: the space's own value).
        timeout_s: Stop starting new trials after this many seconds (None: no limit).
        subset: Fraction of the training split each trial trains on (1.0 = all).
        seed: Seeds the sampler, the data split, the subset and training.
        keep_top: How many of the best trials keep their logged model.
        heartbeat_s: A running trial stamps the storage this often; one silent for twice as long is
            taken as dead and run again.
        engine: ``optuna`` (sampler + pruner) or ``keras-tuner`` (a Keras Tuner oracle proposes the
            trials; the Optuna study still records them). Keras Tuner trains as long as its oracle
            says, so it needs ``pruner="none"``.
        tuner: The Keras Tuner oracle (``hyperband``, ``bayesian`` or ``random``); used by keras-tuner only.
        defer_test: Do not score the test split when the study completes: a later stage selects the final
            model and scores it once (``run --refit-top``).
        max_latency_ms: A candidate whose single-face latency on this machine is above it fails before
            training (None: no limit).
        dedupe: Drop validation and test faces that duplicate a training face (exact hash; ``run --dedupe``).
        max_crashes: A parameter set whose trial killed its worker process this many times (out of host
            memory, a native crash) ends as failed instead of being run again (``run --max-crashes``).
    """

    study_name: str
    space: str
    data: str
    storage: str
    split: str | None = None
    n_trials: int = 20
    sampler: str = "tpe"
    pruner: str = "hyperband"
    max_epochs: int | None = None
    timeout_s: float | None = None
    subset: float = 1.0
    seed: int = 0
    keep_top: int = 5
    heartbeat_s: int = 30
    engine: str = "optuna"
    tuner: str = "hyperband"
    defer_test: bool = False
    max_latency_ms: float | None = None
    dedupe: bool = False
    max_crashes: int = 3

    def __post_init__(self) -> None:
        _check(self.n_trials >= 1, "--trials", self.n_trials, "must be >= 1")
        _check(self.sampler in SAMPLERS, "--sampler", self.sampler, f"must be one of {', '.join(SAMPLERS)}")
        _check(self.pruner in PRUNERS, "--pruner", self.pruner, f"must be one of {', '.join(PRUNERS)}")
        _check(self.split is None or self.split in SPLIT_METHODS, "--split", self.split,
               f"must be one of {', '.join(SPLIT_METHODS)}")
        _check(self.max_epochs is None or self.max_epochs >= 1, "--epochs", self.max_epochs, "must be >= 1")
        _check(self.timeout_s is None or self.timeout_s > 0, "--timeout", self.timeout_s, "must be > 0 seconds")
        _check(0.0 < self.subset <= 1.0, "--subset", self.subset, "must be in (0, 1]")
        _check(self.keep_top >= 1, "--keep-top", self.keep_top, "must be >= 1 (the selected model is kept)")
        _check(self.heartbeat_s >= 1, "--heartbeat", self.heartbeat_s, "must be >= 1 second")
        _check(self.max_crashes >= 1, "--max-crashes", self.max_crashes,
               "must be >= 1 (worker crashes a parameter set may cause before it ends as failed)")
        _check(self.max_latency_ms is None or self.max_latency_ms > 0, "--max-latency-ms", self.max_latency_ms,
               "must be > 0 milliseconds")
        _check(bool(STUDY_NAME_RULE.fullmatch(self.study_name)) and bool(self.study_name.strip(".")), "--study",
               self.study_name, STUDY_NAME_RULE_TEXT)
        _check(self.engine in ENGINES, "--engine", self.engine, f"must be one of {', '.join(ENGINES)}")
        _check(self.tuner in TUNERS, "--tuner", self.tuner, f"must be one of {', '.join(TUNERS)}")
        _check(self.engine != KERAS_TUNER or self.pruner == "none", "--pruner", self.pruner,
               "cannot be used with --engine keras-tuner (its oracle decides how long each trial trains); "
               "leave --pruner out")

    def engine_tags(self) -> dict[str, str]:
        """MLflow tags naming the search engine (and the Keras Tuner oracle) on the study's runs."""
        tags = {ENGINE_TAG: self.engine}
        if self.engine == KERAS_TUNER:
            tags[TUNER_TAG] = self.tuner
        return tags

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly copy, as recorded (study attribute, MLflow params, ``search_settings.json``).

        The storage URL is redacted (no password or token is ever recorded), so a recorded copy is never
        used to connect: the real URL comes from ``--storage`` on every run.
        """
        return {**dataclasses.asdict(self), "storage": redact_url(self.storage)}


def _check(ok: bool, flag: str, value: object, rule: str) -> None:
    if not ok:
        raise SettingsError(f"{flag} {rule} (got {value!r})")


def default_data() -> str:
    """``data/fer2013.csv`` when it exists in the working directory, else the synthetic demo set."""
    return str(DEFAULT_DATA_PATH) if DEFAULT_DATA_PATH.is_file() else DEMO_DATA


def default_study_name(space: str, data: str) -> str:
    """A stable name, so that re-running the same command resumes the same study."""
    space_tag = Path(space).stem if space.endswith((".yaml", ".yml")) else space
    if data == DEMO_DATA:
        data_tag = "demo"
    else:
        data_tag = Path(data).name.split(".")[0] or "data"
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{space_tag}-{data_tag}")[:200]  # a valid --study, whatever the files
