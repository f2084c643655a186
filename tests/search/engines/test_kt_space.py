"""Search spaces as Keras Tuner hyperparameters: every shipped space maps, conditions hold, refusals explain."""

from __future__ import annotations

import textwrap
from pathlib import Path

import keras_tuner
import optuna
import pytest

from search.engines import to_keras_tuner
from spaces import SpaceError, load_space, shipped_space_names

_N_DRAWS = 25


def _random_values(kt_space, seed: int) -> list[dict]:
    """Values as Keras Tuner's random oracle proposes them."""
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("val_accuracy", "max"), hyperparameters=kt_space.hyperparameters.copy(),
        max_trials=_N_DRAWS, seed=seed, allow_new_entries=False, tune_new_entries=False,
    )
    return [oracle._random_values() for _ in range(_N_DRAWS)]


def _space(tmp_path: Path, body: str) -> object:
    path = tmp_path / "space.yaml"
    base = """
        architecture:
          n_blocks: 1
          blocks: {filters: 8, n_convs: 1}
        """
    path.write_text(textwrap.dedent(base) + textwrap.dedent(body))
    return load_space(path)


@pytest.mark.parametrize("name", shipped_space_names())
def test_every_shipped_space_maps_and_reproduces_the_proposed_candidates(name: str) -> None:
    space = load_space(name)
    kt_space = to_keras_tuner(space)
    assert set(kt_space.names.values()) == {parameter.name for parameter in space.parameters}

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for values in _random_values(kt_space, seed=7):
        params = kt_space.params(values)
        # Keras Tuner activates exactly the parameters this candidate uses: nothing missing, nothing extra.
        assert set(params) == {kt_space.names[kt_name] for kt_name in values}
        # Enqueued as an Optuna trial's fixed params, sampling the space gives Keras Tuner's candidate.
        study.enqueue_trial(params)
        trial = study.ask()
        assert space.sample(trial) == kt_space.candidate(values)
        assert trial.params == params
        study.tell(trial, 0.0)


def test_block_and_dense_items_are_active_only_up_to_their_sampled_count() -> None:
    hyperparameters = to_keras_tuner(load_space("compact")).hyperparameters.copy()

    hyperparameters.values = {"architecture.n_blocks": 2, "architecture.n_dense": 0}
    assert not hyperparameters.is_active("architecture.block4.filters")
    assert not hyperparameters.is_active("architecture.block3.dropout")
    assert not hyperparameters.is_active("architecture.dense1.units")
    assert hyperparameters.is_active("architecture.block2.filters")

    hyperparameters.values = {"architecture.n_blocks": 4, "architecture.n_dense": 1}
    assert hyperparameters.is_active("architecture.block4.filters")
    assert hyperparameters.is_active("architecture.dense1.units")


def test_when_conditions_become_keras_tuner_conditions() -> None:
    hyperparameters = to_keras_tuner(load_space("compact")).hyperparameters.copy()
    hyperparameters.values = {"training.optimizer": "adam", "training.schedule": "cosine"}
    assert not hyperparameters.is_active("training.weight_decay")
    assert hyperparameters.is_active("training.warmup_epochs")
    hyperparameters.values = {"training.optimizer": "adamw", "training.schedule": "plateau"}
    assert hyperparameters.is_active("training.weight_decay")
    assert not hyperparameters.is_active("training.warmup_epochs")


def test_alternatives_become_one_declaration_each_under_exclusive_conditions() -> None:
    """seed.yaml: learning_rate is [1e-3, 5e-2] with sgd, else [1e-4, 3e-3] (the adam case)."""
    kt_space = to_keras_tuner(load_space("seed"))
    assert kt_space.names["training.learning_rate#2"] == "training.learning_rate"
    declared = {hp.name: hp for hp in kt_space.hyperparameters.space}
    assert (declared["training.learning_rate"].min_value, declared["training.learning_rate"].max_value) == (1e-3, 5e-2)
    assert declared["training.learning_rate#2"].max_value == 3e-3
    assert [(c.name, c.values) for c in declared["training.learning_rate#2"].conditions] == [
        ("training.optimizer", ["adam"])
    ]
    adam = next(values for values in _random_values(kt_space, seed=1) if values["training.optimizer"] == "adam")
    assert "training.learning_rate" not in adam
    params = kt_space.params({**adam, "tuner/epochs": 3})
    assert params["training.learning_rate"] == adam["training.learning_rate#2"] <= 3e-3
    assert not any(name.startswith("tuner/") or "#" in name for name in params)


def test_log_int_and_bool_choice_map_to_keras_tuner_types() -> None:
    declared = {hp.name: hp for hp in to_keras_tuner(load_space("compact")).hyperparameters.space}
    filters = declared["architecture.block1.filters"]
    assert type(filters).__name__ == "Int" and filters.sampling == "log" and filters.step is None
    assert type(declared["training.class_weighting"]).__name__ == "Boolean"
    smoke = {hp.name: hp for hp in to_keras_tuner(load_space("smoke")).hyperparameters.space}
    assert (smoke["architecture.block1.filters"].step, smoke["architecture.block1.filters"].sampling) == (4, "linear")


@pytest.mark.parametrize(
    ("body", "key_path", "message"),
    [
        ("augmentation:\n  erasing: {choice: [0, 0.25]}\n", "augmentation.erasing",
         r"Keras Tuner's Choice needs values of one type \(choices \[0, 0.25\] mix float, int\)"),
        ("training:\n  early_stopping_patience: {choice: [null, 5]}\n", "training.early_stopping_patience",
         r"Keras Tuner's Choice cannot hold null"),
        ("""training:
  optimizer: {choice: [adam, sgd]}
  schedule: {choice: [none, cosine]}
  learning_rate:
    - {float: [1e-3, 1e-2], when: {training.optimizer: sgd, training.schedule: cosine}}
    - {float: [1e-4, 1e-3]}
""", "training.learning_rate", r"the alternatives after number 1 apply when not \(training.optimizer in "
         r"\['sgd'\] and training.schedule in \['cosine'\]\), which is an OR of conditions"),
        ("""training:
  label_smoothing: {float: [0.0, 0.2]}
  learning_rate:
    - {float: [1e-3, 1e-2], when: {training.label_smoothing: 0.1}}
    - {float: [1e-4, 1e-3]}
""", "training.learning_rate", r"cannot express a condition on the real-valued training.label_smoothing"),
    ],
    ids=["mixed-choice", "null-choice", "or-of-conditions", "float-condition"],
)
def test_what_keras_tuner_cannot_express_is_refused_naming_the_parameter(
    tmp_path: Path, body: str, key_path: str, message: str
) -> None:
    space = _space(tmp_path, body)
    with pytest.raises(SpaceError, match=message) as raised:
        to_keras_tuner(space)
    assert str(raised.value).endswith(f"in {space.path}: {key_path}")
    assert "--engine optuna" in str(raised.value)


def test_a_condition_on_a_fixed_value_is_decided_when_mapping(tmp_path: Path) -> None:
    space = _space(tmp_path, """
        training:
          schedule: plateau
          optimizer: {choice: [adam, sgd]}
          plateau_patience: {int: [2, 4], when: {training.schedule: plateau}}
        """)
    kt_space = to_keras_tuner(space)
    assert set(kt_space.names) == {"training.optimizer", "training.plateau_patience"}
    assert all(not hp.conditions for hp in kt_space.hyperparameters.space)
