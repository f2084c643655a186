"""The `cpu` space: mini-Xception-like candidates drawn by real Optuna trials build within budget,
and block rules between keys (separable kernel, residual padding) or ranges (se_ratio) fail on read."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest

from fer_core.model import ArchitectureConfig, build_model, model_complexity
from spaces import RandomSuggester, SearchSpace, SpaceError, load_space

N_TRIALS = 10


def _check_candidate(space: SearchSpace, architecture: dict) -> None:
    config = ArchitectureConfig.from_dict(architecture)
    complexity = model_complexity(config)
    assert space.max_macs is not None and complexity.macs <= space.max_macs
    assert 10_000 <= complexity.n_params <= 160_000, complexity
    assert config.head == "gap"
    assert all(block.conv_type == "separable" for block in config.blocks[1:])
    assert build_model(config).count_params() == complexity.n_params


def test_optuna_trials_sample_valid_buildable_cpu_candidates() -> None:
    space = load_space("cpu")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen_kinds = set()
    for _ in range(N_TRIALS):
        trial = study.ask()
        candidate = space.sample(trial)
        _check_candidate(space, candidate["architecture"])
        blocks = candidate["architecture"]["blocks"][1:]
        seen_kinds |= {(block["residual"], block["se_ratio"] > 0) for block in blocks}
        study.tell(trial, 0.5)
    assert len(seen_kinds) == 4  # residual and SE are searched, independently of each other


def test_fixed_trials_replay_the_same_cpu_candidates() -> None:
    space = load_space("cpu")
    for seed in range(N_TRIALS):
        suggester = RandomSuggester(seed)
        candidate = space.sample(suggester)
        replayed = space.sample(optuna.trial.FixedTrial(suggester.params))
        assert replayed == candidate
        _check_candidate(space, replayed["architecture"])


def test_cpu_space_searches_the_new_block_keys_per_block() -> None:
    names = {parameter.name for parameter in load_space("cpu").parameters}
    assert {"architecture.block2.residual", "architecture.block2.se_ratio", "architecture.block5.se_ratio"} <= names
    assert "architecture.block1.residual" not in names  # the stem is fixed: plain convs


def test_search_spaces_command_lists_cpu() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "search", "spaces", "--format", "json"],
        capture_output=True, text=True, timeout=120, check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["cpu"]["max_macs"] == 20e6
    assert rows["cpu"]["description"].startswith("cpu: mini-Xception-like")


def _load(tmp_path: Path, blocks: str) -> SearchSpace:
    path = tmp_path / "bad.yaml"
    path.write_text("architecture:\n  n_blocks: 1\n  blocks:\n" + textwrap.indent(blocks, "    "), encoding="utf-8")
    return load_space(path)


@pytest.mark.parametrize(
    ("blocks", "rule", "key_path"),
    [
        ("filters: 8\nse_ratio: {float: [0.0, 1.5]}\n", "1.5 is not allowed: the value must be a number in [0, 1]",
         "architecture.blocks.se_ratio"),
        ("filters: 8\nconv_type: {choice: [standard, depthwise]}\n",
         "'depthwise' is not allowed: the value must be one of standard, separable", "architecture.blocks.conv_type"),
        ("filters: 8\nresidual: {choice: [0, 1]}\n", "is not allowed: the value must be true or false",
         "architecture.blocks.residual"),
        ("filters: 8\nconv_type: {choice: [standard, separable]}\nkernel_size: {int: [1, 5]}\n",
         "a separable conv needs kernel_size >= 2 (this template allows 1)", "architecture.blocks.kernel_size"),
        ("filters: 8\nresidual: true\npadding: {choice: [same, valid]}\n",
         "a residual block needs padding same", "architecture.blocks.padding"),
    ],
)
def test_bad_block_keys_fail_when_the_space_is_read(tmp_path: Path, blocks: str, rule: str, key_path: str) -> None:
    with pytest.raises(SpaceError, match=re.escape(rule) + ".*" + re.escape(key_path)):
        _load(tmp_path, blocks)


def test_separable_1x1_is_fine_when_the_template_never_makes_it_separable(tmp_path: Path) -> None:
    space = _load(tmp_path, "filters: 8\nkernel_size: 1\nresidual: true\nse_ratio: 0.5\n")
    architecture = space.sample(RandomSuggester(0))["architecture"]
    assert architecture["blocks"] == [{"filters": 8, "kernel_size": 1, "residual": True, "se_ratio": 0.5}]
    ArchitectureConfig.from_dict(architecture)
