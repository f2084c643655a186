"""``python -m search audit``: the table, ``--format json`` and the ``--html`` page, on data with planted copies."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from tests.fixtures.data import write_fer_csv


@pytest.fixture
def csv_with_copies(workdir: Path) -> Path:
    """The demo set with 2 validation rows copying training rows (one with another label) and 1 blank test row."""
    from fer_core.data import make_demo_dataset

    dataset = make_demo_dataset(20, seed=4)
    images, labels, usage = dataset.images.copy(), dataset.labels.copy(), dataset.usage
    train, validation, test = (np.flatnonzero(usage == code) for code in (0, 1, 2))
    images[validation[:2]] = images[train[:2]]
    labels[validation[0]] = (labels[train[0]] + 1) % 7
    labels[validation[1]] = labels[train[1]]
    images[test[0]] = 77
    return write_fer_csv(workdir / "copies.csv", images, labels, usage)


def _audit(*argv: str) -> str:
    from search import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["audit", *argv]) == 0
    return out.getvalue()


def test_audit_prints_duplicates_conflicts_blanks_and_the_rules(csv_with_copies: Path) -> None:
    text = _audit("--data", str(csv_with_copies))
    exact = text.split("Exact duplicates")[1].split("Near-duplicates")[0]
    rows = {line.split()[0]: line.split()[1:] for line in exact.splitlines()[2:] if line.strip()}
    assert rows["validation"] == ["2", "0", "0"]  # 2 validation rows also in train, none repeated, none in test
    assert rows["train"][1] == "2"  # the 2 training faces found in validation
    assert "Hamming distance <= 6" in text
    assert "Conflicting labels: 1 groups" in text
    assert "(pixel standard deviation < 3): train 0, validation 0, test 1." in text


def test_audit_json_and_html(csv_with_copies: Path, workdir: Path) -> None:
    record = json.loads(_audit("--data", str(csv_with_copies), "--format", "json", "--html", str(workdir / "a.html")))
    assert record["exact_duplicates"]["validation"]["train"] == 2
    assert record["conflicting_label_groups"] == 1
    assert record["blank"] == {"train": 0, "validation": 0, "test": 1}
    assert record["threshold"] == 6 and record["rules"]["blank"] == "pixel standard deviation < 3"
    page = (workdir / "a.html").read_text()
    assert "2 of" in page and "validation faces" in page and "also appear in training" in page


def test_audit_html_must_be_an_html_file(csv_with_copies: Path) -> None:
    from search import main

    assert main(["audit", "--data", str(csv_with_copies), "--html", "out.txt"]) == 2
