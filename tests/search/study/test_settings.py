"""Command-line settings are validated once, with messages naming the flag, the rule and the value."""

from __future__ import annotations

import pytest

from search.errors import SettingsError
from search.study import StudySettings, default_data, default_study_name


def _settings(**overrides: object) -> StudySettings:
    values = {"study_name": "s", "space": "smoke", "data": "demo", "storage": "sqlite:///x.db"}
    return StudySettings(**{**values, **overrides})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_trials": 0}, r"--trials must be >= 1 \(got 0\)"),
        ({"sampler": "bayes"}, r"--sampler must be one of tpe, random, cmaes, gp, nsga2 \(got 'bayes'\)"),
        ({"pruner": "asha"}, r"--pruner must be one of hyperband, median, none \(got 'asha'\)"),
        ({"split": "kfold"}, r"--split must be one of official, random \(got 'kfold'\)"),
        ({"subset": 0.0}, r"--subset must be in \(0, 1\] \(got 0.0\)"),
        ({"subset": 1.5}, r"--subset must be in \(0, 1\]"),
        ({"max_epochs": 0}, r"--epochs must be >= 1"),
        ({"timeout_s": -1.0}, r"--timeout must be > 0 seconds"),
        ({"keep_top": 0}, r"--keep-top must be >= 1"),
        ({"study_name": " "}, r"--study must be 1-200 letters, digits"),
        ({"study_name": "bob's"}, r"--study must be 1-200 letters, digits, .* \(got \"bob's\"\)"),
    ],
)
def test_bad_settings_are_rejected_with_the_rule(overrides: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        _settings(**overrides)


def test_settings_round_trip_to_a_json_friendly_dict() -> None:
    assert _settings(seed=3).to_dict()["seed"] == 3


def test_default_study_name_is_stable_so_a_rerun_resumes() -> None:
    assert default_study_name("smoke", "demo") == "smoke-demo"
    assert default_study_name("compact", "data/fer2013.csv.gz") == "compact-fer2013"
    assert default_study_name("my/spaces/wide.yaml", "faces/") == "wide-faces"
    assert default_study_name("my space.yaml", "my faces (2)/") == "my_space-my_faces__2_"  # a valid --study


def test_default_data_is_the_demo_set_without_data_fer2013(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_data() == "demo"
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "fer2013.csv").write_text("emotion,pixels\n")
    assert default_data() == "data/fer2013.csv"


@pytest.mark.parametrize("name", [".", "..", "...", "a/b", "../x", "a\\b", ""])
def test_a_study_name_that_would_leave_its_folder_is_refused(name: str) -> None:
    with pytest.raises(SettingsError, match=r"--study must be 1-200 letters, digits, .*not only dots"):
        _settings(study_name=name)


def test_the_recorded_settings_hold_no_password() -> None:
    settings = _settings(storage="postgresql://fer:S3cret@db/fer?sslpassword=K3y")
    assert settings.to_dict()["storage"] == "postgresql://fer:***@db/fer?sslpassword=***"
    assert settings.storage.endswith("S3cret@db/fer?sslpassword=K3y")  # the live value still connects
