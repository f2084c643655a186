"""Opening a study (create or resume), checking that a resumed one is the same, finding an existing one."""

from __future__ import annotations

import optuna

from search.errors import NotFoundError, StudyMismatchError
from search.study._attrs import DEFINITION_ATTR, FINGERPRINT_ATTR, SPACE_ATTR
from search.study._settings import StudySettings


def open_study(
    settings: StudySettings, storage: optuna.storages.BaseStorage, sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study:
    """Creates the study, or loads it when it exists (resume)."""
    return optuna.create_study(
        storage=storage, study_name=settings.study_name, sampler=sampler, pruner=pruner,
        direction="maximize", load_if_exists=True,
    )


def check_compatible(study: optuna.Study, definition: dict[str, str]) -> None:
    """Refuses to resume a study whose definition differs; stamps a new study with it.

    ``definition`` names what makes trials comparable: the space (name and text), the data and split
    fingerprints, the training subset and the epoch budget.
    """
    recorded = study.user_attrs.get(DEFINITION_ATTR)
    if recorded is None:
        study.set_user_attr(DEFINITION_ATTR, definition)
        study.set_user_attr(SPACE_ATTR, definition["space"])
        study.set_user_attr(FINGERPRINT_ATTR, definition["data"])
        return
    changed = sorted(key for key in definition.keys() | recorded.keys() if definition.get(key) != recorded.get(key))
    if changed:
        details = "; ".join(f"{key}: {_short(recorded.get(key))} -> {_short(definition.get(key))}" for key in changed)
        raise StudyMismatchError(
            f"Study {study.study_name!r} was created with another definition ({details}). Its trials would not "
            "be comparable with this command's. Pass --study NEW_NAME to start a separate study."
        )


def _short(value: object) -> str:
    text = str(value)
    return text[:12] if len(text) == 64 else text


def latest_study_name(storage: optuna.storages.BaseStorage) -> str:
    """The most recently started study in ``storage`` (the default of best/test/promote)."""
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    if not summaries:
        raise NotFoundError("No study found in the storage; run `python -m search run` first.")
    dated = [s for s in summaries if s.datetime_start is not None] or summaries
    return max(dated, key=lambda s: (s.datetime_start is not None, s.datetime_start or 0)).study_name


def load_existing_study(storage: optuna.storages.BaseStorage, name: str | None) -> optuna.Study:
    """Loads the named study (default: the latest); a clear error when it does not exist."""
    study_name = name or latest_study_name(storage)
    try:
        return optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        known = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
        raise NotFoundError(
            f"No study named {study_name!r}; known studies: {', '.join(known) or 'none'}"
        ) from None
