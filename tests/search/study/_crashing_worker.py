"""A ``run`` worker process whose first parameter set crashes it natively, every time it is trained.

Run as a script by ``test_crash_loops.py`` (``python _crashing_worker.py CSV STUDY N_TRIALS``). The study's
source is the smoke space, wrapped: once a trial's parameters are sampled, inside the running trial (its
MLflow run open, its heartbeat beating), the parameters of the study's first trial make the process read
memory at address 0 through ``ctypes`` — a segmentation fault, the process dies on SIGSEGV without a word
to the study, as from a native crash or the kernel's out-of-memory killer. Any other parameters train.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from search.engines import run_study
from search.paths import default_study_storage
from search.study import StudySettings
from spaces import load_space


class CrashingSpace:
    """The smoke space, except that the first trial's parameter set crashes the process."""

    def __init__(self) -> None:
        self._space = load_space("smoke")
        self.name = self._space.name
        self.max_macs = self._space.max_macs
        self.source_text = self._space.source_text

    def sample(self, trial: Any) -> dict[str, Any]:
        candidate = self._space.sample(trial)
        if trial.params == trial.study.trials[0].params:
            ctypes.string_at(0)  # a null-pointer read: SIGSEGV, the process dies natively
        return candidate


def main(csv: str, study: str, n_trials: str) -> int:
    settings = StudySettings(study_name=study, space="smoke", data=csv, storage=default_study_storage(),
                             n_trials=int(n_trials), pruner="none", max_epochs=1, seed=1, max_crashes=3)
    run = run_study(settings, CrashingSpace())
    return 0 if run.test_score is not None and not run.interrupted else 3


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
