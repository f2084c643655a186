"""RandomSuggester: seeded draws that honour the Optuna ranges, steps, log scales and names."""

from __future__ import annotations

import pytest

from spaces import RandomSuggester, Suggester


def test_random_suggester_satisfies_the_protocol() -> None:
    assert isinstance(RandomSuggester(0), Suggester)


def test_int_draws_stay_on_the_step_grid() -> None:
    values = [RandomSuggester(seed).suggest_int("n", 4, 16, step=4) for seed in range(50)]
    assert set(values) == {4, 8, 12, 16}
    assert all(type(value) is int for value in values)


def test_log_int_draws_cover_the_range() -> None:
    values = {RandomSuggester(seed).suggest_int("n", 8, 64, log=True) for seed in range(200)}
    assert min(values) == 8 and max(values) == 64


def test_float_draws_respect_log_and_step() -> None:
    logs = [RandomSuggester(seed).suggest_float("lr", 1e-4, 1e-2, log=True) for seed in range(200)]
    assert all(1e-4 <= value <= 1e-2 for value in logs)
    assert sum(value < 1e-3 for value in logs) > 60  # log-uniform: about half below the geometric middle
    steps = {round(RandomSuggester(seed).suggest_float("p", 0.0, 0.5, step=0.25), 9) for seed in range(50)}
    assert steps == {0.0, 0.25, 0.5}


def test_categorical_returns_the_choices_themselves() -> None:
    values = {RandomSuggester(seed).suggest_categorical("c", [None, True, "relu", 3]) for seed in range(60)}
    assert values == {None, True, "relu", 3}


def test_same_seed_same_values_and_params_are_recorded() -> None:
    first, second = RandomSuggester(7), RandomSuggester(7)
    for suggester in (first, second):
        suggester.suggest_int("a", 1, 100)
        suggester.suggest_float("b", 0.0, 1.0)
    assert first.params == second.params
    assert list(first.params) == ["a", "b"]


def test_asking_again_returns_the_first_value_and_a_new_distribution_is_an_error() -> None:
    suggester = RandomSuggester(3)
    value = suggester.suggest_int("a", 1, 100)
    assert suggester.suggest_int("a", 1, 100) == value
    with pytest.raises(ValueError, match="'a' was suggested with"):
        suggester.suggest_int("a", 1, 50)


def test_impossible_requests_are_rejected() -> None:
    with pytest.raises(ValueError, match="low <= high"):
        RandomSuggester(0).suggest_int("a", 5, 3)
    with pytest.raises(ValueError, match="low > 0"):
        RandomSuggester(0).suggest_float("a", 0.0, 1.0, log=True)
    with pytest.raises(ValueError, match="at least one choice"):
        RandomSuggester(0).suggest_categorical("a", [])
