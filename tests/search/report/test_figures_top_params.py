"""The report's parallel-coordinates and slice figures show only the parameters that matter most (by the same
fANOVA importances as the importance figure, computed once per report), and say how many they leave out."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.importance import FanovaImportanceEvaluator
from optuna.trial import TrialState, create_trial

from search.report import (
    IMPORTANCE_SEED,
    SECTIONS,
    TARGET_NAME,
    TOP_PARAMS,
    ReportContext,
    SectionUnavailable,
    compute_param_importances,
    parallel_coordinates,
    param_importances,
    slice_plots,
    top_params,
)

DRIVERS = [f"drives_{letter}" for letter in "abcdefgh"]  # what the value depends on
NOISE = [f"noise_{letter}" for letter in "abcdef"]  # searched, but the value ignores them


def _driven_study(n_trials: int, *, drivers: list[str] = DRIVERS, noise: list[str] = NOISE) -> optuna.Study:
    """A study whose value is a sum of the ``drivers`` (equal weights) and ignores the ``noise`` parameters."""
    rng = np.random.default_rng(0)
    names = sorted(drivers + noise)
    distributions = {name: FloatDistribution(0.0, 1.0) for name in names}
    study = optuna.create_study(direction="maximize")
    for _ in range(n_trials):
        params = {name: float(rng.uniform()) for name in names}
        value = sum(params[name] for name in drivers) / len(drivers)
        study.add_trial(create_trial(params=params, distributions=distributions, value=value))
    return study


@pytest.fixture(scope="module")
def driven() -> optuna.Study:
    """14 parameters, 8 of which drive the value: 200 trials, enough for fANOVA to rank the 8 well above the 6
    others (about 0.04 and more against 0.01 and less)."""
    return _driven_study(200)


def _axes(figure) -> list[str]:
    """The parallel-coordinates figure's axes (Optuna 5 draws them as x ticks: the target, then the parameters)."""
    return list(figure.layout.xaxis.ticktext)


def _slice_params(figures) -> list[str]:
    """The parameters of the slice figures: each subplot's x-axis title."""
    return [figure.layout[key].title.text for figure in figures for key in figure.layout if key.startswith("xaxis")]


def test_the_figures_show_the_eight_most_important_and_say_how_many_are_left_out(driven: optuna.Study) -> None:
    study = driven
    importances = compute_param_importances(study)
    top = top_params(study, importances)
    assert TOP_PARAMS == 8
    assert top.names == tuple(list(importances.values)[:8])  # most important first
    assert set(top.names) == set(DRIVERS)
    assert (top.n_params, top.n_left_out) == (14, 6)
    note = "8 of 14 parameters, the most important by fANOVA; 6 left out."
    assert top.note == note

    content = parallel_coordinates(study, top)
    (figure,) = content.figures
    axes = _axes(figure)
    assert axes[0] == TARGET_NAME
    assert axes[1:] == sorted(DRIVERS)  # exactly 8 parameter axes (Optuna orders them by name)
    assert note in content.caption and "Axes in name order" in content.caption

    slices = slice_plots(study, top)
    assert len(slices.figures) == 2  # 4 parameters per figure
    assert sorted(_slice_params(slices.figures)) == sorted(DRIVERS)
    assert set(_slice_params(slices.figures[:1])) == set(top.names[:4])  # the most important first
    assert note in slices.caption


def test_without_precomputed_importances_the_figures_compute_the_same(driven: optuna.Study) -> None:
    study = driven
    assert _axes(parallel_coordinates(study).figures[0])[1:] == sorted(DRIVERS)
    assert sorted(_slice_params(slice_plots(study).figures)) == sorted(DRIVERS)


def test_a_study_with_fewer_parameters_shows_all_and_leaves_none_out() -> None:
    study = _driven_study(20, drivers=["lr", "dropout"], noise=["width"])
    top = top_params(study)
    assert set(top.names) == {"lr", "dropout", "width"} and top.n_left_out == 0
    assert top.note == "All 3 parameters, ordered by fANOVA importance; none left out."
    content = parallel_coordinates(study, top)
    assert _axes(content.figures[0])[1:] == ["dropout", "lr", "width"]
    assert "none left out" in content.caption
    slices = slice_plots(study, top)
    assert sorted(_slice_params(slices.figures)) == ["dropout", "lr", "width"]
    assert "none left out" in slices.caption


def _two_trial_study(n_varying: int, n_constant: int, values: tuple[float, float] = (0.5, 0.5)) -> optuna.Study:
    """2 completed trials (and 1 pruned) over ``n_varying`` parameters that differ and ``n_constant`` that do not."""
    varying = [f"v{i:02d}" for i in range(n_varying)]
    constant = [f"c{i:02d}" for i in range(n_constant)]
    distributions = {name: FloatDistribution(0.0, 1.0) for name in varying + constant}
    study = optuna.create_study(direction="maximize")
    for number, value in enumerate(values):
        params = {**{name: 0.1 + 0.5 * number for name in varying}, **{name: 0.3 for name in constant}}
        study.add_trial(create_trial(params=params, distributions=distributions, value=value))
    study.add_trial(create_trial(params={"v00": 0.9}, distributions={"v00": distributions["v00"]},
                                 state=TrialState.PRUNED, intermediate_values={1: 0.1}))
    return study


def test_without_importances_the_fallback_shows_the_first_eight_that_vary_by_name() -> None:
    study = _two_trial_study(n_varying=10, n_constant=2)  # both trials score 0.5: no importances
    with pytest.raises(SectionUnavailable, match="Needs more trials"):
        param_importances(study)
    top = top_params(study)
    assert top.names == tuple(f"v{i:02d}" for i in range(8))
    assert top.note == (
        "8 of 12 parameters, chosen without importances (they could not be computed: see Parameter "
        "importances): the first by name among those that vary across completed trials, then those that do "
        "not; 4 left out."
    )
    content = parallel_coordinates(study, top)
    assert _axes(content.figures[0])[1:] == list(top.names)
    assert "4 left out" in content.caption and "chosen without importances" in content.caption
    assert sorted(_slice_params(slice_plots(study, top).figures)) == list(top.names)


def test_the_fallback_fills_up_with_parameters_that_do_not_vary() -> None:
    study = _two_trial_study(n_varying=5, n_constant=6, values=(0.4, 0.4))
    top = top_params(study)
    assert top.names == ("v00", "v01", "v02", "v03", "v04", "c00", "c01", "c02")
    assert top.n_left_out == 3


def test_one_completed_trial_keeps_the_needs_more_trials_note_and_slices_use_the_fallback() -> None:
    study = _two_trial_study(n_varying=3, n_constant=0, values=(0.5,))
    with pytest.raises(SectionUnavailable, match=r"Needs more trials: the parallel-coordinates plot needs at least 2 "
                       r"completed trials \(this study has 1\)"):
        parallel_coordinates(study)
    slices = slice_plots(study)
    assert sorted(_slice_params(slices.figures)) == ["v00", "v01", "v02"]
    assert "All 3 parameters, chosen without importances" in slices.caption


def test_parameters_fanova_cannot_rank_come_after_the_ranked_ones() -> None:
    """fANOVA ranks only parameters every completed trial used; conditional ones fill the remaining places."""
    rng = np.random.default_rng(1)
    common = [f"common_{i}" for i in range(5)]
    study = optuna.create_study(direction="maximize")
    for number in range(30):
        params: dict[str, float | str] = {name: float(rng.uniform()) for name in common}
        distributions: dict = {name: FloatDistribution(0.0, 1.0) for name in common}
        params["block"] = "wide" if number % 2 else "deep"
        distributions["block"] = CategoricalDistribution(["wide", "deep"])
        conditional = ["wide_units", "wide_act"] if number % 2 else ["deep_layers", "deep_skip"]
        for name in conditional:
            params[name] = float(rng.uniform())
            distributions[name] = FloatDistribution(0.0, 1.0)
        study.add_trial(create_trial(params=params, distributions=distributions, value=float(params["common_0"])))
    top = top_params(study)
    ranked = list(compute_param_importances(study).values)
    assert sorted(ranked) == sorted([*common, "block"])
    assert top.names == (*ranked, "deep_layers", "deep_skip")
    assert top.note == ("8 of 10 parameters, the 6 that fANOVA ranks (parameters every completed trial used), "
                        "then 2 it cannot rank (conditional ones), those that vary first, by name; 2 left out.")
    assert _axes(parallel_coordinates(study, top).figures[0])[1:] == sorted(top.names)


def test_a_report_computes_importances_once_and_draws_the_same_importance_figure(
    driven: optuna.Study, monkeypatch: pytest.MonkeyPatch,
) -> None:
    study = driven
    expected = optuna.visualization.plot_param_importances(
        study, evaluator=FanovaImportanceEvaluator(seed=IMPORTANCE_SEED), target_name=TARGET_NAME
    )
    calls: list[int] = []
    evaluate = FanovaImportanceEvaluator.evaluate

    def counting_evaluate(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(FanovaImportanceEvaluator, "evaluate", counting_evaluate)
    context = ReportContext(study, tracker=None, parent_run_id="run")  # type: ignore[arg-type]
    builders = dict(SECTIONS)
    contents = {title: builders[title](context)
                for title in ("Parameter importances", "Parallel coordinates", "Slice plots")}
    assert len(calls) == 1
    (bars,) = contents["Parameter importances"].figures[0].data
    assert list(bars.y) == list(expected.data[0].y)
    np.testing.assert_allclose(bars.x, expected.data[0].x)
    assert _axes(contents["Parallel coordinates"].figures[0])[1:] == sorted(DRIVERS)
