"""The study's Optuna figures (plotly), each guarded by the trials it needs.

``optuna.visualization`` draws an empty or misleading figure (and logs a warning) when a study has too
few trials; a report says so in words instead, so each builder checks first and raises
:class:`SectionUnavailable` with the rule and the count.
"""

from __future__ import annotations

import warnings
from typing import Any

import optuna
import optuna.visualization as ov
from optuna.importance import FanovaImportanceEvaluator
from optuna.trial import FrozenTrial, TrialState

from search.report._section import SectionContent, SectionUnavailable

TARGET_NAME = "validation accuracy"
NEEDS_MORE_TRIALS = "Needs more trials"
SLICE_PARAMS_PER_FIGURE = 4
IMPORTANCE_SEED = 0
_STATE_STYLES: dict[TrialState, tuple[str, str]] = {
    TrialState.COMPLETE: ("solid", "complete"),
    TrialState.PRUNED: ("dot", "pruned"),
    TrialState.RUNNING: ("dash", "running"),
}


def optimization_history(study: optuna.Study) -> SectionContent:
    """Validation accuracy of every completed trial and the best so far."""
    _require_completed(study, 1, "the optimization history")
    figure = ov.plot_optimization_history(study, target_name=TARGET_NAME)
    return SectionContent(
        caption="Validation accuracy of each completed trial (dots) and the best so far (line).",
        figures=(figure,),
    )


def learning_curves(study: optuna.Study) -> SectionContent:
    """Best validation accuracy so far, per epoch, of every trial; pruned trials dotted, running ones dashed."""
    with_values = [t for t in study.get_trials(deepcopy=False) if t.intermediate_values]
    if not with_values:
        raise SectionUnavailable(
            f"{NEEDS_MORE_TRIALS}: the learning curves need at least 1 trial that reported a validation "
            "accuracy (this study has none yet); they appear after the first epoch of the first trial."
        )
    figure = ov.plot_intermediate_values(study)
    states = {t.number: t for t in with_values}
    for trace in figure.data:
        number = _trace_trial_number(trace.name)
        trial = states.get(number) if number is not None else None
        if trial is not None:
            _style_curve(trace, trial)
    figure.update_layout(
        title={"text": "Best validation accuracy so far, per epoch"}, showlegend=True,
        xaxis={"title": {"text": "epoch"}}, yaxis={"title": {"text": TARGET_NAME}},
    )
    return SectionContent(
        caption="One line per trial: Optuna's intermediate values, the best validation accuracy up to each epoch "
        "(what the pruner judges: training ends on the best epoch's weights; each epoch's own value is the "
        "trial run's val_accuracy in MLflow). Complete trials are solid, pruned trials dotted (they stop at the "
        "epoch the pruner ended them), running trials dashed.",
        figures=(figure,),
    )


def param_importances(study: optuna.Study) -> SectionContent:
    """fANOVA importances of the searched parameters for validation accuracy."""
    completed = _require_completed(study, 2, "the parameter-importance plot")
    if not _varying_params(completed):
        raise SectionUnavailable(
            f"{NEEDS_MORE_TRIALS}: parameter importances need completed trials whose parameters differ; "
            f"the {len(completed)} completed trials all used the same values."
        )
    values = {t.value for t in completed}
    if len(values) < 2:
        raise SectionUnavailable(
            f"{NEEDS_MORE_TRIALS}: parameter importances need completed trials with different validation "
            f"accuracies; all {len(completed)} completed trials scored {completed[0].value:.4f}."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "few trials per regime": the caption says so
        figure = ov.plot_param_importances(
            study, evaluator=FanovaImportanceEvaluator(seed=IMPORTANCE_SEED), target_name=TARGET_NAME
        )
    return SectionContent(
        caption=f"fANOVA importance (seeded, so a report is reproducible) of each parameter for validation "
        f"accuracy, from {len(completed)} completed trials; parameters that only some trials use "
        "(conditional ones) are left out. Rough with few trials.",
        figures=(figure,),
    )


def parallel_coordinates(study: optuna.Study) -> SectionContent:
    """One line per completed trial across all parameters, coloured by validation accuracy."""
    completed = _require_completed(study, 2, "the parallel-coordinates plot")
    figure = ov.plot_parallel_coordinate(study, target_name=TARGET_NAME)
    return SectionContent(
        caption=f"Each line is one of the {len(completed)} completed trials; its colour is its validation "
        "accuracy.",
        figures=(figure,),
    )


def slice_plots(study: optuna.Study) -> SectionContent:
    """Validation accuracy against each parameter, a few parameters per figure."""
    completed = _require_completed(study, 1, "the slice plot")
    names = sorted({name for trial in completed for name in trial.params})
    figures = tuple(
        ov.plot_slice(study, params=names[start : start + SLICE_PARAMS_PER_FIGURE], target_name=TARGET_NAME)
        for start in range(0, len(names), SLICE_PARAMS_PER_FIGURE)
    )
    if not figures:
        raise SectionUnavailable("The slice plots need searched parameters; this study's trials have none.")
    return SectionContent(
        caption="Validation accuracy of completed trials against each parameter (colour: trial number).",
        figures=figures,
    )


def completed_trials_of(study: optuna.Study) -> list[FrozenTrial]:
    """The study's completed trials, in trial order."""
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def _require_completed(study: optuna.Study, n_needed: int, what: str) -> list[FrozenTrial]:
    completed = completed_trials_of(study)
    if len(completed) < n_needed:
        noun = "trial" if n_needed == 1 else "trials"
        raise SectionUnavailable(
            f"{NEEDS_MORE_TRIALS}: {what} needs at least {n_needed} completed {noun} (this study has "
            f"{len(completed)}); run more trials and build the report again."
        )
    return completed


def _varying_params(trials: list[FrozenTrial]) -> list[str]:
    """Parameters that took at least two different values among ``trials``."""
    seen: dict[str, set[str]] = {}
    for trial in trials:
        for name, value in trial.params.items():
            seen.setdefault(name, set()).add(repr(value))
    return sorted(name for name, values in seen.items() if len(values) > 1)


def _trace_trial_number(trace_name: str | None) -> int | None:
    """Optuna names each intermediate-values trace ``Trial<number>``."""
    digits = (trace_name or "").removeprefix("Trial")
    return int(digits) if digits.isdigit() else None


def _style_curve(trace: Any, trial: FrozenTrial) -> None:
    dash, label = _STATE_STYLES.get(trial.state, ("solid", trial.state.name.lower()))
    if trial.state == TrialState.PRUNED:
        label = f"pruned at epoch {max(trial.intermediate_values)}"
    trace.update(name=f"#{trial.number} {label}", line={"dash": dash}, showlegend=True)
