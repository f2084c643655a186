"""The shipped spaces load, and every configuration they sample is accepted by fer_core."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest

from fer_core.errors import GeometryError
from fer_core.model import (
    ArchitectureConfig,
    ConvBlockConfig,
    DenseLayerConfig,
    build_model,
    check_geometry,
    count_macs,
)
from fer_core.train import AugmentationConfig, TrainConfig, build_augmentation
from spaces import SHIPPED_SPACES_DIR, RandomSuggester, SearchSpace, list_spaces, load_space
from spaces._schema import (
    ARCHITECTURE_FIELDS,
    AUGMENTATION_FIELDS,
    BLOCK_FIELDS,
    DENSE_FIELDS,
    TRAINING_FIELDS,
)

SHIPPED = ("compact", "cpu", "seed", "smoke", "vgg")
N_SAMPLES = 20
BUILT = ("compact", "cpu", "smoke")
"""Small enough to build 20 Keras models in seconds; seed and vgg are checked by geometry only."""


def _samples(space: SearchSpace) -> list[dict]:
    return [space.sample(RandomSuggester(seed=seed)) for seed in range(N_SAMPLES)]


def test_list_spaces_lists_every_shipped_space_with_its_parameter_count() -> None:
    listed = list_spaces()
    assert [space.name for space in listed] == list(SHIPPED)
    counts = {space.name: space.n_parameters for space in listed}
    assert all(count >= 5 for count in counts.values()), counts
    assert all(space.n_fixed > 0 for space in listed)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_space_loads_with_header_and_source(name: str) -> None:
    space = load_space(name)
    assert space.name == name
    assert space.path == SHIPPED_SPACES_DIR / f"{name}.yaml"
    assert space.source_text == space.path.read_text(encoding="utf-8")
    assert space.source_text.startswith(f"# {name}: ")
    assert space.description.startswith(f"{name}: ")
    assert load_space(space.path) == space  # by path as well as by name


def test_parameter_names_are_valid_mlflow_keys() -> None:
    for space in list_spaces():
        for parameter in space.parameters:
            assert re.fullmatch(r"[A-Za-z0-9_.\-/]+", parameter.name), parameter.name


def test_compact_and_cpu_have_a_budget_and_the_others_do_not() -> None:
    assert {space.name: space.max_macs for space in list_spaces()} == {
        "compact": 20e6,
        "cpu": 20e6,
        "seed": None,
        "smoke": None,
        "vgg": None,
    }


@pytest.mark.parametrize("name", SHIPPED)
def test_every_sample_is_accepted_by_the_training_configs(name: str) -> None:
    for candidate in _samples(load_space(name)):
        assert set(candidate) == {"architecture", "training", "augmentation"}
        TrainConfig.from_dict(candidate["training"])
        build_augmentation(AugmentationConfig.from_dict(candidate["augmentation"]))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_sample_builds_or_fails_geometry_naming_the_block(name: str) -> None:
    n_built = 0
    for candidate in _samples(load_space(name)):
        config = ArchitectureConfig.from_dict(candidate["architecture"])
        try:
            check_geometry(config)
        except GeometryError as error:
            assert re.match(r"block [1-9]", str(error)), error
            continue
        n_built += 1
        if name in BUILT:
            model = build_model(config)
            assert model.output_shape == (None, 7)
            if name == "smoke":
                assert model.count_params() < 20_000
    assert n_built >= N_SAMPLES // 2


def test_seed_space_rejects_some_valid_padding_draws_by_geometry() -> None:
    outcomes = []
    for seed in range(60):
        config = ArchitectureConfig.from_dict(load_space("seed").sample(RandomSuggester(seed))["architecture"])
        try:
            check_geometry(config)
            outcomes.append(True)
        except GeometryError:
            outcomes.append(False)
    assert any(outcomes) and not all(outcomes)


def test_vgg_space_grows_filters_from_64_to_512() -> None:
    blocks = load_space("vgg").sample(RandomSuggester(0))["architecture"]["blocks"]
    assert [block["filters"] for block in blocks] == [64, 128, 256, 512]


def test_compact_space_samples_fit_its_mac_budget() -> None:
    """Its ranges are drawn so candidates are not wasted on the budget (the search rejects those)."""
    space = load_space("compact")
    macs = [count_macs(ArchitectureConfig.from_dict(c["architecture"])) for c in _samples(space)]
    assert space.max_macs == 20e6
    assert max(macs) <= space.max_macs


def test_schema_table_has_exactly_fer_core_keys() -> None:
    """The keys a space may set are the fields of fer_core's config dataclasses, no more, no less."""

    def names(cls: type) -> set[str]:
        return {field.name for field in fields(cls)}

    assert set(BLOCK_FIELDS) == names(ConvBlockConfig)
    assert set(DENSE_FIELDS) == names(DenseLayerConfig)
    assert set(ARCHITECTURE_FIELDS) == names(ArchitectureConfig) - {"blocks", "dense"}
    assert set(TRAINING_FIELDS) == names(TrainConfig)
    assert set(AUGMENTATION_FIELDS) == names(AugmentationConfig)
