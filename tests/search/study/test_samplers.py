"""Every registered sampler and pruner runs a short seeded study (contract test over the tables)."""

from __future__ import annotations

import optuna
import pytest

from search.study import PRUNERS, SAMPLERS, make_pruner, make_sampler


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", -2, 2)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    for step in range(1, 4):
        trial.report(x * step, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return -(x**2) + (kind == "a")


def _has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler_is_seeded_and_deterministic(name: str) -> None:
    if name == "gp" and not _has_torch():
        pytest.skip("the gp sampler needs PyTorch (pip install -e '.[gp]'), not installed here")
    def params(seed: int) -> list[dict]:
        study = optuna.create_study(direction="maximize", sampler=make_sampler(name, seed))
        study.optimize(_objective, n_trials=4)
        return [t.params for t in study.trials]

    assert params(7) == params(7)


@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_every_pruner_runs_with_and_without_an_epoch_budget(name: str) -> None:
    for max_epochs in (3, None):
        study = optuna.create_study(direction="maximize", pruner=make_pruner(name, max_epochs),
                                    sampler=make_sampler("random", 0))
        study.optimize(_objective, n_trials=6)
        assert all(t.state.is_finished() for t in study.trials)


def test_gp_without_torch_says_how_to_install_it() -> None:
    if _has_torch():
        pytest.skip("PyTorch is installed here")
    from search.errors import SamplerUnavailable

    with pytest.raises(SamplerUnavailable, match=r"--sampler gp needs PyTorch.*pip install -e '.\[gp\]'"):
        make_sampler("gp", 0)


def test_unknown_names_list_the_choices() -> None:
    with pytest.raises(ValueError, match="Unknown sampler 'bayes'; choose one of: tpe, random, cmaes, gp, nsga2"):
        make_sampler("bayes", 0)
    with pytest.raises(ValueError, match="Unknown pruner 'asha'; choose one of: hyperband, median, none"):
        make_pruner("asha", 3)
