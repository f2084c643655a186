"""The study's Optuna figures (plotly), each guarded by the trials it needs.

``optuna.visualization`` draws an empty or misleading figure (and logs a warning) when a study has too
few trials; a report says so in words instead, so each builder checks first and raises
:class:`SectionUnavailable` with the rule and the count.

The parallel-coordinates and slice figures show only the :data:`TOP_PARAMS` parameters that matter most
(:func:`top_params`), ranked by the same fANOVA importances the importance figure draws: a report computes
them once (:func:`compute_param_importances`) and passes them to all three.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
import optuna.visualization as ov
from optuna.importance import BaseImportanceEvaluator, FanovaImportanceEvaluator, get_param_importances
from optuna.trial import FrozenTrial, TrialState

from search.report._section import SectionContent, SectionUnavailable

TARGET_NAME = "validation accuracy"
NEEDS_MORE_TRIALS = "Needs more trials"
SLICE_PARAMS_PER_FIGURE = 4
IMPORTANCE_SEED = 0
TOP_PARAMS = 8
"""How many parameters the parallel-coordinates and slice figures show: the most important ones."""
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


@dataclass(frozen=True)
class ParamImportances:
    """The study's fANOVA importances, computed once per report and read by three sections.

    Args:
        values: Parameter -> importance (normalized to sum to 1), most important first; only parameters
            that every completed trial used (fANOVA leaves conditional ones out).
        n_completed: The completed trials they come from.
    """

    values: dict[str, float]
    n_completed: int


@dataclass(frozen=True)
class TopParams:
    """The parameters a figure shows (at most :data:`TOP_PARAMS`) and how they were chosen.

    Args:
        names: The parameters shown, in the order they were chosen (most important first when ranked).
        n_params: How many parameters the completed trials used in all.
        rule: How ``names`` were chosen, in words.
    """

    names: tuple[str, ...]
    n_params: int
    rule: str

    @property
    def n_left_out(self) -> int:
        """Parameters of the completed trials that the figures leave out."""
        return self.n_params - len(self.names)

    @property
    def note(self) -> str:
        """E.g. ``8 of 41 parameters, the most important by fANOVA; 33 left out.``"""
        left_out = f"{self.n_left_out} left out" if self.n_left_out else "none left out"
        shown = (f"All {self.n_params} parameters" if not self.n_left_out
                 else f"{len(self.names)} of {self.n_params} parameters")
        return f"{shown}, {self.rule}; {left_out}."


def compute_param_importances(study: optuna.Study) -> ParamImportances:
    """fANOVA importances (seeded: a report is reproducible) of the parameters for validation accuracy.

    Raises:
        SectionUnavailable: Fewer than 2 completed trials, their parameters or their values all equal, no
            parameter used by every completed trial, or fANOVA failed.
    """
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
        try:
            importances = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=IMPORTANCE_SEED))
        except (ValueError, RuntimeError) as error:
            raise SectionUnavailable(f"Parameter importances could not be computed: {error}") from error
    if not importances:
        raise SectionUnavailable(
            f"Parameter importances: fANOVA ranks only parameters that every completed trial used, and the "
            f"{len(completed)} completed trials have none in common."
        )
    return ParamImportances(values=importances, n_completed=len(completed))


def param_importances(
    study: optuna.Study, importances: ParamImportances | SectionUnavailable | None = None
) -> SectionContent:
    """fANOVA importances of the searched parameters for validation accuracy.

    Args:
        study: The study.
        importances: Its importances from :func:`compute_param_importances` (or why they are missing);
            computed here when None.
    """
    importances = _importances_or_raise(study, importances)
    figure = ov.plot_param_importances(
        study, evaluator=_Precomputed(importances.values), target_name=TARGET_NAME
    )
    return SectionContent(
        caption=f"fANOVA importance (seeded, so a report is reproducible) of each parameter for validation "
        f"accuracy, from {importances.n_completed} completed trials; parameters that only some trials use "
        "(conditional ones) are left out. Rough with few trials.",
        figures=(figure,),
    )


def top_params(
    study: optuna.Study,
    importances: ParamImportances | SectionUnavailable | None = None,
    n: int = TOP_PARAMS,
) -> TopParams:
    """The ``n`` parameters of the completed trials that the parallel-coordinates and slice figures show.

    Ranked by fANOVA importance (``importances``, computed here when None). Parameters fANOVA cannot rank
    (conditional ones, or all of them when importances cannot be computed, e.g. with too few trials) follow
    by the fallback rule: those whose value varies among completed trials first, then the others, each in
    name order.
    """
    completed = completed_trials_of(study)
    names = sorted({name for trial in completed for name in trial.params})
    varying = set(_varying_params(completed))
    unranked_order = [name for name in names if name in varying] + [name for name in names if name not in varying]
    if importances is None:
        importances = _importances_or_unavailable(study)
    ranked = []
    if isinstance(importances, ParamImportances):
        ranked = [name for name in importances.values if name in names]
    chosen = ranked[:n]
    filled = [name for name in unranked_order if name not in chosen][: n - len(chosen)]
    if not ranked:
        rule = ("chosen without importances (they could not be computed: see Parameter importances): the "
                "first by name among those that vary across completed trials, then those that do not")
    elif not filled:
        rule = "the most important by fANOVA" if len(names) > n else "ordered by fANOVA importance"
    else:
        rule = (f"the {len(chosen)} that fANOVA ranks (parameters every completed trial used), then {len(filled)} "
                "it cannot rank (conditional ones), those that vary first, by name")
    return TopParams(names=tuple(chosen + filled), n_params=len(names), rule=rule)


def parallel_coordinates(study: optuna.Study, top: TopParams | None = None) -> SectionContent:
    """One line per completed trial across the most important parameters, coloured by validation accuracy.

    Args:
        study: The study.
        top: The parameters to draw, from :func:`top_params` (computed here when None).
    """
    completed = _require_completed(study, 2, "the parallel-coordinates plot")
    if top is None:
        top = top_params(study)
    if not top.names:
        raise SectionUnavailable("The parallel-coordinates plot needs searched parameters; this study's trials "
                                 "have none.")
    figure = ov.plot_parallel_coordinate(study, params=list(top.names), target_name=TARGET_NAME)
    return SectionContent(
        caption=f"Each line is one of the {len(completed)} completed trials; its colour is its validation "
        f"accuracy. Axes in name order. {top.note}",
        figures=(figure,),
    )


def slice_plots(study: optuna.Study, top: TopParams | None = None) -> SectionContent:
    """Validation accuracy against each of the most important parameters, a few parameters per figure.

    Args:
        study: The study.
        top: The parameters to draw, from :func:`top_params` (computed here when None).
    """
    _require_completed(study, 1, "the slice plot")
    if top is None:
        top = top_params(study)
    names = list(top.names)
    figures = tuple(
        ov.plot_slice(study, params=names[start : start + SLICE_PARAMS_PER_FIGURE], target_name=TARGET_NAME)
        for start in range(0, len(names), SLICE_PARAMS_PER_FIGURE)
    )
    if not figures:
        raise SectionUnavailable("The slice plots need searched parameters; this study's trials have none.")
    return SectionContent(
        caption="Validation accuracy of completed trials against each parameter (colour: trial number), "
        f"{SLICE_PARAMS_PER_FIGURE} parameters per figure in the order chosen, each figure's in name order. "
        f"{top.note}",
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


def _importances_or_unavailable(study: optuna.Study) -> ParamImportances | SectionUnavailable:
    try:
        return compute_param_importances(study)
    except SectionUnavailable as unavailable:
        return unavailable


def _importances_or_raise(
    study: optuna.Study, importances: ParamImportances | SectionUnavailable | None
) -> ParamImportances:
    if importances is None:
        importances = compute_param_importances(study)
    if isinstance(importances, SectionUnavailable):
        raise SectionUnavailable(str(importances))
    return importances


class _Precomputed(BaseImportanceEvaluator):
    """Gives back importances computed before, so the importance figure does not compute them again."""

    def __init__(self, importances: dict[str, float]) -> None:
        self._importances = dict(importances)

    def evaluate(
        self,
        study: optuna.Study,
        params: list[str] | None = None,
        *,
        target: Callable[[FrozenTrial], float] | None = None,
    ) -> dict[str, float]:
        if params is None:
            return dict(self._importances)
        return {name: value for name, value in self._importances.items() if name in params}


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
