"""Sampling: conditionals, per-block parameters, growth, alternatives, determinism, Optuna trials."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna

from spaces import RandomSuggester, SearchSpace, Suggester, load_space


def _space(tmp_path: Path, text: str) -> SearchSpace:
    path = tmp_path / "space.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_space(path)


class ReplaySuggester:
    """Answers every suggestion from a fixed name -> value table (a replay of an earlier trial)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.asked: list[str] = []

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        return self._answer(name)

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        return self._answer(name)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        assert self.values[name] in choices
        return self._answer(name)

    def _answer(self, name: str) -> Any:
        self.asked.append(name)
        return self.values[name]


def test_momentum_is_suggested_only_for_sgd() -> None:
    space = load_space("smoke")
    seen = set()
    for seed in range(30):
        suggester = RandomSuggester(seed)
        training = space.sample(suggester)["training"]
        optimizer = suggester.params["training.optimizer"]
        seen.add(optimizer)
        assert ("training.momentum" in suggester.params) == (optimizer == "sgd")
        assert ("momentum" in training) == (optimizer == "sgd")
    assert seen == {"adam", "sgd"}


def test_block_parameters_exist_only_for_sampled_blocks() -> None:
    space = load_space("smoke")
    for seed in range(20):
        suggester = RandomSuggester(seed)
        candidate = space.sample(suggester)
        n_blocks = suggester.params["architecture.n_blocks"]
        assert len(candidate["architecture"]["blocks"]) == n_blocks
        block_names = {name.split(".")[1] for name in suggester.params if ".block" in name}
        assert block_names == {f"block{index}" for index in range(1, n_blocks + 1)}
        n_dense = suggester.params["architecture.n_dense"]
        assert len(candidate["architecture"]["dense"]) == n_dense
        assert ("architecture.dense1.units" in suggester.params) == (n_dense == 1)


def test_same_suggestions_give_the_same_candidate() -> None:
    for name in ("smoke", "compact", "vgg"):
        space = load_space(name)
        first = RandomSuggester(11)
        candidate = space.sample(first)
        assert space.sample(RandomSuggester(11)) == candidate
        replay = ReplaySuggester(dict(first.params))
        assert space.sample(replay) == candidate
        assert sorted(replay.asked) == sorted(first.params)


def test_candidate_is_a_fresh_dict_whose_epochs_the_caller_may_override() -> None:
    space = load_space("smoke")
    candidate = space.sample(RandomSuggester(0))
    candidate["training"]["epochs"] = 1
    candidate["architecture"]["blocks"][0]["filters"] = 99
    again = space.sample(RandomSuggester(0))
    assert again["training"]["epochs"] == 2
    assert again["architecture"]["blocks"][0]["filters"] != 99


def test_conditions_on_the_schedule_pick_plateau_or_cosine_keys() -> None:
    space = load_space("vgg")
    for seed in range(20):
        training = space.sample(RandomSuggester(seed))["training"]
        is_cosine = training["schedule"] == "cosine"
        assert ("warmup_epochs" in training) == is_cosine
        assert ("plateau_factor" in training) == (not is_cosine)
        assert ("momentum" in training) == (training["optimizer"] == "sgd")


def test_alternatives_pick_the_learning_rate_range_by_optimizer() -> None:
    space = load_space("vgg")
    for seed in range(30):
        training = space.sample(RandomSuggester(seed))["training"]
        if training["optimizer"] == "sgd":
            assert 1e-3 <= training["learning_rate"] <= 5e-2
        else:
            assert 1e-4 <= training["learning_rate"] <= 3e-3


def test_searched_growth_and_per_block_templates(tmp_path: Path) -> None:
    space = _space(
        tmp_path,
        """
        architecture:
          n_blocks: {int: [1, 3]}
          blocks:
            - {filters: {choice: [8, 16]}, n_convs: 3}
            - {kernel_size: 5}
            - {pooling: none}
          filters_growth: {choice: [1.5, 2.0]}
        """,
    )
    names = [parameter.name for parameter in space.parameters]
    assert names == ["architecture.n_blocks", "architecture.filters_growth", "architecture.block1.filters"]
    values = {
        "architecture.n_blocks": 3,
        "architecture.filters_growth": 1.5,
        "architecture.block1.filters": 16,
    }
    blocks = space.sample(ReplaySuggester(values))["architecture"]["blocks"]
    assert blocks == [
        {"filters": 16, "n_convs": 3},
        {"kernel_size": 5, "filters": 24},
        {"pooling": "none", "filters": 36},
    ]
    one_block = ReplaySuggester({**values, "architecture.n_blocks": 1})
    assert len(space.sample(one_block)["architecture"]["blocks"]) == 1
    assert "architecture.filters_growth" not in one_block.asked


def test_fixed_lists_and_omitted_sections(tmp_path: Path) -> None:
    space = _space(
        tmp_path,
        """
        description: Two fixed blocks.
        architecture:
          blocks: [{filters: 8}, {filters: 16, padding: valid}]
          dense: []
        """,
    )
    assert space.description == "Two fixed blocks."
    assert space.n_parameters == 0
    suggester = RandomSuggester(0)
    assert space.sample(suggester) == {
        "architecture": {"blocks": [{"filters": 8}, {"filters": 16, "padding": "valid"}], "dense": []},
        "training": {},
        "augmentation": {},
    }
    assert suggester.params == {}


def test_parameters_list_every_possible_name_with_its_conditionality() -> None:
    space = load_space("smoke")
    parameters = {parameter.name: parameter for parameter in space.parameters}
    assert parameters["training.momentum"].is_conditional
    assert parameters["architecture.block2.filters"].is_conditional
    assert not parameters["architecture.block1.filters"].is_conditional
    assert not parameters["training.optimizer"].is_conditional
    assert len(parameters) == space.n_parameters


def test_an_optuna_trial_is_a_suggester() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    space = load_space("vgg")
    for _ in range(3):
        trial = study.ask()
        assert isinstance(trial, Suggester)
        candidate = space.sample(trial)
        assert trial.params["training.optimizer"] == candidate["training"]["optimizer"]
        assert len(candidate["architecture"]["blocks"]) == 4
        assert space.sample(ReplaySuggester(dict(trial.params))) == candidate
        study.tell(trial, 0.5)


def test_block_entries_may_depend_on_globals_and_conditions_chain(tmp_path: Path) -> None:
    space = _space(
        tmp_path,
        """
        architecture:
          n_blocks: 2
          blocks:
            filters: 8
            dropout: {float: [0.1, 0.3], when: {architecture.batch_norm: none}}
          batch_norm: {choice: [none, conv]}
        training:
          optimizer: {choice: [adam, sgd]}
          schedule: {choice: [plateau, cosine], when: {training.optimizer: sgd}}
          warmup_epochs: {int: [1, 3], when: {training.schedule: cosine}}
        """,
    )
    answers = {"architecture.batch_norm": "none", "training.optimizer": "adam"}
    replay = ReplaySuggester({**answers, "architecture.block1.dropout": 0.2, "architecture.block2.dropout": 0.1})
    candidate = space.sample(replay)
    assert [block["dropout"] for block in candidate["architecture"]["blocks"]] == [0.2, 0.1]
    assert candidate["training"] == {"optimizer": "adam"}  # no schedule, so no warm-up either
    answers = {
        "architecture.batch_norm": "conv",
        "training.optimizer": "sgd",
        "training.schedule": "cosine",
        "training.warmup_epochs": 2,
    }
    candidate = space.sample(ReplaySuggester(answers))
    assert candidate["architecture"]["blocks"] == [{"filters": 8}, {"filters": 8}]
    assert candidate["training"] == {"optimizer": "sgd", "schedule": "cosine", "warmup_epochs": 2}


def test_yaml_anchors_and_merge_keys_repeat_a_block_template() -> None:
    space = load_space("compact")
    templates = space.blocks.templates
    assert len(templates) == 4 and not space.blocks.shared
    filters = [next(entry for entry in template if entry.key == "filters") for template in templates]
    assert [entry.values() for entry in filters] == [(8, 16), (16, 32), (32, 64), (48, 96)]
    assert all(len(template) == len(templates[0]) for template in templates)
