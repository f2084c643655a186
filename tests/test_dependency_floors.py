"""The dependency floors in pyproject.toml leave out releases with known security problems, and the
installed packages meet them."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
SAFE_FLOORS = {
    "keras": Version("3.14"),  # safe_mode bypasses: CVE-2025-1550, -8747, -9906, CVE-2026-1462 (TFSMLayer)
    "mlflow": Version("3.5"),  # the tracking server's security middleware (DNS rebinding, CORS)
}


def _requirements() -> dict[str, Requirement]:
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    return {(requirement := Requirement(line)).name: requirement for line in dependencies}


@pytest.mark.parametrize("name", sorted(SAFE_FLOORS))
def test_the_floor_excludes_the_vulnerable_releases(name: str) -> None:
    specifier = _requirements()[name].specifier
    floors = [Version(spec.version) for spec in specifier if spec.operator == ">="]
    assert floors and min(floors) >= SAFE_FLOORS[name], f"{name}: {specifier}"
    below = Version(f"{SAFE_FLOORS[name].major}.{SAFE_FLOORS[name].minor - 1}")
    assert not specifier.contains(below), f"{name} {below} is still allowed by {specifier}"


def test_installed_packages_meet_every_floor() -> None:
    unmet = {name: importlib.metadata.version(name) for name, requirement in _requirements().items()
             if not requirement.specifier.contains(importlib.metadata.version(name), prereleases=True)}
    assert not unmet, unmet
