"""Name -> factory tables for Optuna samplers and pruners (listed in ``--help`` and in errors)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import optuna

from search.errors import SamplerUnavailable

SamplerFactory = Callable[[int], optuna.samplers.BaseSampler]
PrunerFactory = Callable[[int | None], optuna.pruners.BasePruner]


def _tpe(seed: int) -> optuna.samplers.BaseSampler:
    # multivariate + group model the conditional (depth-dependent) parameters jointly;
    # constant_liar keeps parallel workers from proposing the same point.
    return optuna.samplers.TPESampler(
        seed=seed, multivariate=True, group=True, constant_liar=True, warn_independent_sampling=False
    )


def _cmaes(seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)



def _gp(seed: int) -> optuna.samplers.BaseSampler:
    try:
        import torch  # noqa: F401 - Optuna's GPSampler is written in PyTorch
    except ImportError:
        raise SamplerUnavailable(
            "--sampler gp needs PyTorch, which is not installed: pip install -e '.[gp]' "
            "(or choose tpe, random, cmaes or nsga2)"
        ) from None
    return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)


SAMPLERS: dict[str, SamplerFactory] = {
    "tpe": _tpe,
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "cmaes": _cmaes,
    "gp": _gp,
    "nsga2": lambda seed: optuna.samplers.NSGAIISampler(seed=seed),
}
"""Samplers by name; each is seeded with the study's ``--seed``."""


def _hyperband(max_epochs: int | None) -> optuna.pruners.BasePruner:
    # Without --epochs the maximum resource is learnt from the first finished trial ("auto").
    # reduction_factor 4 rather than Optuna's default 3: with the tens of trials a CPU study affords,
    # Hyperband's least aggressive brackets dominate the cost; 4 gives fewer brackets (2 for 4-15 epochs). In
    # offline replays of 20-trial studies (bench/research/pruning_schedules.py) 3 spent 47-54 % of the unpruned epochs
    # against 34-44 % for 4. Factor 6 met the benchmark's targets more often on the two studies it was picked
    # from, but on a fresh seed in none of 50 bracket draws (4: 10 %), so 4 stays (README, Benchmarks).
    return optuna.pruners.HyperbandPruner(
        min_resource=1, max_resource=max_epochs if max_epochs else "auto", reduction_factor=4
    )


def _median(max_epochs: int | None) -> optuna.pruners.BasePruner:
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)


PRUNERS: dict[str, PrunerFactory] = {
    "hyperband": _hyperband,
    "median": _median,
    "none": lambda max_epochs: optuna.pruners.NopPruner(),
}
"""Pruners by name; each is given the maximum number of epochs a trial may run."""


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """The sampler registered as ``name``, seeded."""
    return SAMPLERS[_known(name, SAMPLERS, "sampler")](seed)


def make_pruner(name: str, max_epochs: int | None) -> optuna.pruners.BasePruner:
    """The pruner registered as ``name`` for trials of at most ``max_epochs`` epochs."""
    return PRUNERS[_known(name, PRUNERS, "pruner")](max_epochs)


def _known(name: str, table: Mapping[str, object], what: str) -> str:
    if name not in table:
        raise ValueError(f"Unknown {what} {name!r}; choose one of: {', '.join(table)}")
    return name
