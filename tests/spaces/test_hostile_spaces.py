"""Hostile space files, generated here: each is refused within seconds by one SpaceError naming the file and
the rule, with peak memory far below 1 GB above the interpreter's baseline (measured in this process:
``spaces`` imports TensorFlow, which would cost a child process many seconds)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from spaces import SpaceError, load_space
from spaces._errors import MAX_MESSAGE_CHARS
from spaces._yaml import MAX_EXPANDED_NODES, MAX_FLOW_NESTING, MAX_SPACE_FILE_BYTES
from tests.fixtures.hostile import MAX_PEAK_MB, MAX_SECONDS, alias_bomb_yaml, measure_in_process, sparse_file

_VALID_BLOCKS = "architecture:\n  n_blocks: 1\n  blocks: {filters: 8}\n"


def _corpus(root: Path) -> dict[str, tuple[Path, str]]:
    """Every hostile space file: name -> (path, pattern the one error must match)."""
    root.mkdir()
    files = {name: root / f"{name}.yaml" for name in ("bomb", "recursive", "big", "sparse", "fifo", "zero", "deep", "long")}
    files["bomb"].write_text(alias_bomb_yaml())
    files["recursive"].write_text("architecture: &loop\n  blocks: [*loop]\n")
    files["big"].write_text(_VALID_BLOCKS + "# " + "x" * MAX_SPACE_FILE_BYTES + "\n")
    sparse_file(files["sparse"], 8 << 30)
    os.mkfifo(files["fifo"])
    files["zero"].symlink_to("/dev/zero")
    files["deep"].write_text("architecture: " + "[" * 50_000 + "]" * 50_000 + "\n")
    files["long"].write_text(_VALID_BLOCKS + "budget: " + "x" * (MAX_SPACE_FILE_BYTES - 100) + "\n")
    too_big = rf"more than the limit of {MAX_SPACE_FILE_BYTES:,} bytes for a space file"
    not_regular = r"not a regular file; a space file must be a regular file"
    return {
        "YAML alias bomb (9**10 values)": (
            files["bomb"], rf"YAML refused at line \d+, column \d+: this document expands to more than {MAX_EXPANDED_NODES:,} values"
        ),
        "recursive alias": (files["recursive"], r"YAML refused .*a recursive alias"),
        "space file just over the size limit": (files["big"], too_big),
        "8 GB space file": (files["sparse"], rf"the space file is 8,589,934,592 bytes, {too_big}"),
        "FIFO named .yaml": (files["fifo"], rf"the space file is a FIFO \(named pipe\), {not_regular}"),
        "symlink to /dev/zero named .yaml": (files["zero"], rf"the space file is a character device, {not_regular}"),
        "50,000 nested lists": (
            files["deep"], rf"YAML refused at line 1, column 79: more than {MAX_FLOW_NESTING} nested \[ \] / \{{ \}} levels"
        ),
        "250 KB value in an error message": (files["long"], r"must be a mapping such as \{max_macs: 20.0e6\} \(got 'xxxx.*\.\.\.x*'\)"),
    }


def test_every_hostile_space_file_is_refused_fast_with_bounded_memory(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "space_files")
    cases = [str(path) for path, _ in corpus.values()]

    outcomes = measure_in_process(load_space, cases)

    assert len(outcomes) == len(corpus) == 8
    for (name, (path, pattern)), outcome in zip(corpus.items(), outcomes):
        assert outcome.raised("SpaceError"), f"{name}: {outcome.error}"
        assert outcome.message.endswith(f" in {path}") or f" in {path}:" in outcome.message, (
            f"{name}: the error does not name the file: {outcome.message[:300]}"
        )
        assert re.search(pattern, outcome.message), f"{name}: {outcome.message[:300]!r} does not match {pattern!r}"
        assert "\n" not in outcome.message and len(outcome.message) < MAX_MESSAGE_CHARS + 500, name
        assert outcome.seconds < MAX_SECONDS, f"{name}: took {outcome.seconds:.1f} s"
        assert outcome.peak_mb < MAX_PEAK_MB, f"{name}: peak {outcome.peak_mb:.0f} MB above the baseline"


def test_anchors_that_repeat_a_template_still_work(tmp_path: Path) -> None:
    """The expansion limit refuses bombs, not the `<<: *block` templates the shipped spaces use."""
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "architecture:\n  n_blocks: 2\n  blocks:\n    - &block {filters: 8, n_convs: 1}\n    - {<<: *block, filters: 16}\n"
    )
    assert len(load_space(path).blocks.templates) == 2


def test_an_error_message_never_holds_a_huge_parsed_value(tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(_VALID_BLOCKS + "training:\n  optimizer: " + "y" * 200_000 + "\n")
    with pytest.raises(SpaceError) as raised:
        load_space(path)
    message = str(raised.value)
    assert len(message) < 1_000 and "yyyy" in message and message.endswith(f"in {path}: training.optimizer")
