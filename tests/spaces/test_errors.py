"""Every broken space fails when read, with a SpaceError naming the rule, the file and the key path."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from fer_core.errors import ConfigError
from spaces import SearchSpace, SpaceError, load_space

VALID_BLOCKS = "architecture:\n  n_blocks: 1\n  blocks: {filters: 8}\n"
TWO_OPTIMIZERS = VALID_BLOCKS + "training:\n  optimizer: {choice: [adam, sgd]}\n"


def _load(tmp_path: Path, text: str) -> SearchSpace:
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_space(path)


def _expect(tmp_path: Path, rule: str, key_path: str) -> str:
    """Pattern of a located message: '<rule>... in <file>: <key path>'."""
    return re.escape(rule) + ".*" + re.escape(f" in {tmp_path / 'bad.yaml'}: {key_path}") + "$"


def test_space_error_is_a_config_error() -> None:
    assert issubclass(SpaceError, ConfigError)


@pytest.mark.parametrize(
    ("text", "rule", "key_path"),
    [
        (
            "architectur: {}\n",
            "unknown key 'architectur'; allowed keys here: description, budget, architecture",
            "architectur",
        ),
        (VALID_BLOCKS + "training:\n  optimiser: sgd\n", "unknown key 'optimiser'", "training.optimiser"),
        (
            VALID_BLOCKS + "augmentation:\n  brightness: 0.2\n",
            "unknown key 'brightness'; allowed keys here: horizontal_flip, rotation",
            "augmentation.brightness",
        ),
        (
            "architecture:\n  n_blocks: 1\n  blocks: {filters: 8, colour: red}\n",
            "unknown key 'colour'; allowed keys here: n_convs, filters",
            "architecture.blocks.colour",
        ),
        (
            "architecture:\n  n_blocks: 1\n  blocks: {filters: {int: [4, 8], stepp: 2}}\n",
            "unknown key 'stepp'; allowed keys here: int, step, log, when",
            "architecture.blocks.filters.stepp",
        ),
        (
            "architecture:\n  n_blocks: 1\n  blocks: {filters: {int: [4, 8], choice: [4]}}\n",
            "exactly one of the keys int, float, choice, value",
            "architecture.blocks.filters",
        ),
        (
            "architecture:\n  blocks: [{filters: 8}, {filters: 8, kernal_size: 3}]\n",
            "unknown key 'kernal_size'",
            "architecture.blocks[1].kernal_size",
        ),
    ],
)
def test_unknown_keys_are_named_with_the_allowed_ones(
    tmp_path: Path, text: str, rule: str, key_path: str
) -> None:
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, key_path)):
        _load(tmp_path, text)


def test_low_above_high(tmp_path: Path) -> None:
    text = "architecture:\n  n_blocks: 1\n  blocks: {filters: {int: [5, 3]}}\n"
    rule = "`low` must be <= `high` (low=5, high=3)"
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, "architecture.blocks.filters")):
        _load(tmp_path, text)


@pytest.mark.parametrize(
    ("choice", "rule"),
    [("[]", "`choice` needs at least one value"), ("[relu, elu, relu]", "`choice` lists a value twice ('relu')")],
)
def test_empty_or_repeated_choice_list(tmp_path: Path, choice: str, rule: str) -> None:
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, "architecture.activation")):
        _load(tmp_path, VALID_BLOCKS + f"  activation: {{choice: {choice}}}\n")


def test_log_scale_needs_a_positive_low(tmp_path: Path) -> None:
    text = VALID_BLOCKS + "training:\n  weight_decay: {float: [0.0, 1e-3], log: true}\n"
    rule = "`log: true` needs `low` > 0 (low=0.0)"
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, "training.weight_decay")):
        _load(tmp_path, text)


@pytest.mark.parametrize(
    ("distribution", "rule"),
    [
        ("{int: [4, 10], step: 4}", "`step` must divide `high` - `low` (low=4, high=10, step=4); adjust `high` to 8"),
        ("{int: [4, 8], step: 0}", "`step` must be >= 1 (got 0)"),
        ("{int: [4, 64], step: 4, log: true}", "`log: true` works with step 1 only"),
    ],
)
def test_int_steps_that_do_not_fit(tmp_path: Path, distribution: str, rule: str) -> None:
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, "architecture.blocks.filters")):
        _load(tmp_path, f"architecture:\n  n_blocks: 1\n  blocks: {{filters: {distribution}}}\n")


def test_float_step_that_does_not_fit(tmp_path: Path) -> None:
    text = VALID_BLOCKS + "augmentation:\n  rotation: {float: [0, 10], step: 3}\n"
    rule = "`step` must divide `high` - `low` (low=0, high=10, step=3); adjust `high` to 9"
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, "augmentation.rotation")):
        _load(tmp_path, text)


@pytest.mark.parametrize(
    ("entry", "rule", "key"),
    [
        ("learning_rate: {float: [a, 0.1]}", "`low` of a float range must be a finite number (got 'a')", "learning_rate"),
        ("learning_rate: fast", "'fast' is not allowed: the value must be a number > 0", "learning_rate"),
        ("batch_size: {int: [32.0, 64]}", "`low` of an int range must be an integer (got 32.0)", "batch_size"),
        ("batch_size: {float: [32, 64]}", "takes integers; write {int: [low, high]}", "batch_size"),
        ("batch_size: 32.5", "32.5 is not allowed: the value must be an integer >= 1", "batch_size"),
        ("class_weighting: 1", "1 is not allowed: the value must be true or false", "class_weighting"),
        (
            "optimizer: {choice: [adam, rmsprop]}",
            "'rmsprop' is not allowed: the value must be one of adam, adamw, sgd",
            "optimizer",
        ),
        ("schedule: {int: [1, 2]}", "takes one of none, plateau, cosine, onecycle, not a range", "schedule"),
        ("momentum: {float: [0.5, 1.0]}", "1.0 is not allowed: the value must be a number in [0, 1)", "momentum"),
        ("optimizer: [adam, sgd]", "a list is not a value here; write {choice: ['adam', 'sgd']}", "optimizer"),
    ],
)
def test_wrong_types_and_values_outside_the_schema(tmp_path: Path, entry: str, rule: str, key: str) -> None:
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, f"training.{key}")):
        _load(tmp_path, VALID_BLOCKS + f"training:\n  {entry}\n")


def test_unknown_activation_lists_the_registry(tmp_path: Path) -> None:
    with pytest.raises(SpaceError, match=r"'relu2' is not allowed: the value must be one of .*elu.*gelu.*relu"):
        _load(tmp_path, VALID_BLOCKS + "  activation: {choice: [relu, relu2]}\n")


def test_when_naming_an_unknown_parameter(tmp_path: Path) -> None:
    text = TWO_OPTIMIZERS + "  momentum: {float: [0.8, 0.9], when: {training.optimiser: sgd}}\n"
    rule = "`when` names 'training.optimiser', which is not a parameter of this space; choose one of: "
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, "training.momentum.when.training.optimiser")):
        _load(tmp_path, text)


def test_when_naming_a_parameter_the_space_leaves_out(tmp_path: Path) -> None:
    text = VALID_BLOCKS + "training:\n  warmup_epochs: {int: [0, 3], when: {training.schedule: cosine}}\n"
    with pytest.raises(SpaceError, match="`when` names 'training.schedule', which is not a parameter"):
        _load(tmp_path, text)


def test_when_with_a_value_the_parameter_never_takes(tmp_path: Path) -> None:
    text = TWO_OPTIMIZERS + "  momentum: {float: [0.8, 0.9], when: {training.optimizer: [sgd, adamw]}}\n"
    rule = "`when` expects training.optimizer to be 'adamw', a value it can never take (it takes: 'adam', 'sgd')"
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, "training.momentum.when.training.optimizer")):
        _load(tmp_path, text)


def test_when_conditions_must_not_form_a_cycle(tmp_path: Path) -> None:
    text = (
        VALID_BLOCKS
        + "training:\n  optimizer: {choice: [adam, sgd], when: {training.schedule: none}}\n"
        + "  schedule: {choice: [none, cosine], when: {training.optimizer: sgd}}\n"
    )
    with pytest.raises(SpaceError, match=r"cycle \(training.optimizer -> training.schedule -> training.optimizer\)"):
        _load(tmp_path, text)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(SpaceError, match=r"^YAML syntax error at line 3, column 2: .* in .*bad.yaml$"):
        _load(tmp_path, "architecture:\n  n_blocks: 1\n blocks: {filters: 8}\n")
    unclosed = "architecture:\n  n_blocks: 1\n  blocks: {filters: [8\n"
    with pytest.raises(SpaceError, match=r"line 4, column 1: expected ',' or '\]'.*sequence at line 3, column 21"):
        _load(tmp_path, unclosed)


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    with pytest.raises(SpaceError, match=r"line 3, .*the key 'n_blocks' is given twice"):
        _load(tmp_path, "architecture:\n  n_blocks: 1\n  n_blocks: 2\n  blocks: {filters: 8}\n")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(SpaceError, match=r"^the file is empty; a space needs at least `architecture.blocks`"):
        _load(tmp_path, text)


def test_missing_file_lists_the_shipped_spaces(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SpaceError, match=re.escape(f"space file {missing} not found") + ".*compact, cpu, seed, smoke, vgg"):
        load_space(missing)


def test_unknown_name_lists_the_shipped_spaces() -> None:
    with pytest.raises(SpaceError, match=r"unknown space 'nope'; choose one of: compact, cpu, seed, smoke, vgg"):
        load_space("nope")


@pytest.mark.parametrize(
    ("architecture", "rule", "key_path"),
    [
        ("head: gap\n", "architecture.blocks is required", "architecture.blocks"),
        ("n_blocks: 1\n", "is required when `n_blocks` can be above 0", "architecture.blocks"),
        (
            "blocks: {filters: 8}\n",
            "`n_blocks` is required when architecture.blocks is one template",
            "architecture.n_blocks",
        ),
        ("n_blocks: 1\n  blocks: {n_convs: 2}\n", "lacks `filters`, which every block needs", "architecture.blocks"),
        (
            "n_blocks: {int: [1, 3]}\n  blocks: [{filters: 8}, {filters: 16}]\n",
            "`n_blocks` reaches at most 3 but architecture.blocks lists 2 templates",
            "architecture.n_blocks",
        ),
        (
            "blocks: [{filters: 8}, {filters: 16}]\n  filters_growth: 2.0\n",
            "`filters` of block 2 follows from `filters_growth`",
            "architecture.blocks[1].filters",
        ),
        (
            "n_blocks: 1\n  blocks: {filters: {int: [4, 8], when: {architecture.head: gap}}}\n  head: gap\n",
            "every block needs `filters`, so it cannot depend on `when`",
            "architecture.blocks.filters",
        ),
        (
            "n_blocks: {int: [0, 2]}\n  blocks: {filters: 8}\n",
            "0 is not allowed: the value must be an integer >= 1",
            "architecture.n_blocks",
        ),
        (
            "n_blocks: {int: [1, 2], when: {architecture.head: gap}}\n  blocks: {filters: 8}\n  head: gap\n",
            "`n_blocks` cannot depend on `when`",
            "architecture.n_blocks",
        ),
        (
            "n_blocks: 1\n  blocks: {filters: 8}\n  n_dense: {int: [0, 2]}\n",
            "is required when `n_dense` can be above 0",
            "architecture.dense",
        ),
        ("n_blocks: 1\n  blocks: {filters: 8}\n  n_blocks2: 3\n", "unknown key 'n_blocks2'", "architecture.n_blocks2"),
    ],
)
def test_block_and_dense_structure(tmp_path: Path, architecture: str, rule: str, key_path: str) -> None:
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, key_path)):
        _load(tmp_path, "architecture:\n  " + architecture)


def test_alternatives_need_conditions_and_one_kind(tmp_path: Path) -> None:
    first_always = VALID_BLOCKS + "training:\n  learning_rate:\n    - {float: [1e-3, 1e-2]}\n    - {value: 1e-3}\n"
    rule = "alternative 1 has no `when`, so the alternatives after it are never used"
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, "training.learning_rate")):
        _load(tmp_path, first_always)
    mixed_log = (
        TWO_OPTIMIZERS
        + "  learning_rate:\n"
        + "    - {float: [1e-3, 1e-2], when: {training.optimizer: sgd}}\n"
        + "    - {float: [1e-4, 1e-3], log: true}\n"
    )
    with pytest.raises(SpaceError, match="alternatives must share their kind and `log`"):
        _load(tmp_path, mixed_log)


@pytest.mark.parametrize(
    ("budget", "rule", "key_path"),
    [
        ("{max_macs: -1}", "must be a number of multiply-accumulates > 0", "budget.max_macs"),
        ("{max_macs: lots}", "(got 'lots')", "budget.max_macs"),
        ("{max_params: 10}", "unknown key 'max_params'; allowed keys here: max_macs", "budget.max_params"),
    ],
)
def test_bad_budget(tmp_path: Path, budget: str, rule: str, key_path: str) -> None:
    with pytest.raises(SpaceError, match=_expect(tmp_path, rule, key_path)):
        _load(tmp_path, f"budget: {budget}\n" + VALID_BLOCKS)


def test_exponent_floats_without_a_dot_are_numbers(tmp_path: Path) -> None:
    space = _load(tmp_path, "budget: {max_macs: 2e7}\n" + VALID_BLOCKS + "training:\n  learning_rate: 1e-3\n")
    assert space.max_macs == 2e7
    assert space.sample(_NoSuggestions())["training"] == {"learning_rate": 1e-3}


class _NoSuggestions:
    """A suggester for spaces without searchable parameters: being asked is a failure."""

    def suggest_int(self, *args: object, **kwargs: object) -> int:
        raise AssertionError("nothing should be suggested")

    suggest_float = suggest_int
    suggest_categorical = suggest_int
