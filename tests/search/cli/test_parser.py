"""The parser: fast to build (no heavy library imported), choices that match the library, the summary's test line."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import optuna
import pytest

from search.cli._parser import COMMANDS, build_parser

HEAVY = ("optuna", "mlflow", "tensorflow", "keras", "keras_tuner", "spaces", "search.study", "search.tracking")


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from search.cli._parser import build_parser\n"
        "try:\n"
        "    build_parser().parse_args(['run', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('loaded:', ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "--refit-top K" in result.stdout
    assert result.stdout.splitlines()[-1] == "loaded: "


def test_choices_and_defaults_match_the_library() -> None:
    from search.refit import RefitOptions
    from search.selection import promote_study
    from search.study import ENGINES, PRUNERS, SAMPLERS, TUNERS
    from search.tracking import UiSettings

    parser = build_parser()
    run = parser.parse_args(["run"])
    assert run.command == "run" and run.run is COMMANDS[0].run
    choices = {action.dest: action.choices for action in _subparser(parser, "run")._actions}
    assert choices["sampler"] == sorted(SAMPLERS) and choices["pruner"] == sorted(PRUNERS)
    assert tuple(choices["engine"]) == ENGINES and tuple(choices["tuner"]) == TUNERS
    refit = parser.parse_args(["refit"])
    options = RefitOptions()
    assert (refit.top, refit.epochs, refit.patience, refit.tta, refit.ensemble_max) == (
        options.top, options.epochs, options.patience, options.tta, options.ensemble_max)
    promote = parser.parse_args(["promote"])
    defaults = promote_study.__kwdefaults__ or {}
    assert (promote.name, promote.alias) == (defaults["name"], defaults["alias"])
    ui = parser.parse_args(["ui"])
    ui_defaults = {field.name: field.default for field in dataclasses.fields(UiSettings)}
    assert (ui.host, ui.port) == (ui_defaults["host"], ui_defaults["port"])


def test_study_flags_are_declared_once_per_command() -> None:
    parser = build_parser()
    for module in COMMANDS:
        flags = [flag for action in _subparser(parser, module.NAME)._actions for flag in action.option_strings]
        assert len(flags) == len(set(flags)), module.NAME


@pytest.mark.parametrize(("attr", "expected"), [
    ({}, "Test accuracy of trial #0: 0.5000"),
    ({"kind": "ensemble", "members": [0, 1], "tta": "flip", "trial": 0},
     "Test accuracy of ensemble of trials #0, #1 with flip TTA: 0.5000"),
    ({"kind": "refit", "tta": "none"}, "Test accuracy of refit of trial #0: 0.5000"),
])
def test_summary_names_what_was_scored(attr: dict, expected: str) -> None:
    from search.cli._summary import study_summary
    from search.study import TEST_SCORE_ATTR

    study = optuna.create_study(direction="maximize")
    for value in (0.6, 0.4):
        trial = study.ask()
        study.tell(trial, value)
    study.set_user_attr(TEST_SCORE_ATTR, {"trial": 0, "accuracy": 0.5, "macro_f1": 0.4, "n_scores": 1,
                                          "scored_at": "2024-01-01T00:00:00", **attr})
    assert expected in study_summary(study)


def _subparser(parser: object, name: str):  # noqa: ANN202 - argparse's private types
    import argparse

    assert isinstance(parser, argparse.ArgumentParser)
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]
