"""Re-opens what a finished study needs to be scored later: its data (proved the same) and its runs."""

from __future__ import annotations

import optuna

from search.errors import NotFoundError, StudyMismatchError
from search.study import _attrs as st
from search.study._data import StudyData, load_study_data
from search.tracking import StudyTracker


def open_scored_context(study: optuna.Study) -> tuple[optuna.Study, StudyData, StudyTracker, str]:
    """Loads the study's data with its recorded settings and checks its fingerprint."""
    settings = study.user_attrs.get(st.SETTINGS_ATTR)
    parent_run_id = study.user_attrs.get(st.PARENT_RUN_ATTR)
    if settings is None or parent_run_id is None:
        raise NotFoundError(f"Study {study.study_name!r} was not created by `python -m search run`.")
    data = load_study_data(settings["data"], split=settings["split"], subset=settings["subset"],
                           seed=settings["seed"], dedupe=bool(settings.get("dedupe", False)))
    recorded = study.user_attrs.get(st.FINGERPRINT_ATTR)
    if recorded != data.fingerprints["splits"]:
        raise StudyMismatchError(
            f"The data at {settings['data']!r} no longer matches study {study.study_name!r} (fingerprint "
            f"{data.fingerprints['splits'][:12]} != {str(recorded)[:12]}): the test score would not be comparable."
        )
    return study, data, StudyTracker(study.study_name), parent_run_id
