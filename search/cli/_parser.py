"""The ``python -m search`` parser, built from the command modules listed in ``COMMANDS``.

Each command module has ``NAME``, ``HELP``, ``DESCRIPTION`` (None: none), ``add_arguments(parser)`` and
``run(args) -> int``. Building the parser imports no optuna, MLflow or TensorFlow (``--help`` is fast):
command modules import those inside ``run``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from types import ModuleType

from search.cli import (
    _audit,
    _best,
    _evaluate,
    _export,
    _predict,
    _promote,
    _refit,
    _report,
    _run,
    _spaces,
    _test,
    _train,
    _ui,
)

COMMANDS: tuple[ModuleType, ...] = (_run, _spaces, _best, _test, _promote, _train, _predict, _evaluate, _report, _ui,
                                    _refit, _export, _audit)
"""The commands, in the order ``--help`` lists them."""

DESCRIPTION = """\
Hyperparameter search and model selection for facial-emotion recognition.

Optuna samples CNN architectures from a YAML search space, Keras trains each candidate, MLflow records
every trial (./mlruns by default), the best model is chosen on the validation split, scored ONCE on the
test split, and can be promoted in the MLflow Model Registry.

  python -m search run --trials 100          search (resumes when run again)
  python -m search best                      leaderboard of the latest study
  python -m search promote                   register the selected model as fer-emotion@champion
"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Appends "(default: ...)" to a flag's help when it has a default worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "(default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        return text + " (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    """The parser; ``args.run`` is the chosen command's ``run`` function."""
    parser = argparse.ArgumentParser(prog="python -m search", description=DESCRIPTION, formatter_class=_HelpFormatter,
                                     allow_abbrev=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        # Subcommands take only full flag names: `--worker 4` must not pass for `--workers 4`.
        sub = commands.add_parser(module.NAME, help=module.HELP, description=module.DESCRIPTION,
                                  formatter_class=_HelpFormatter, allow_abbrev=False)
        module.add_arguments(sub)
        run: Callable[[argparse.Namespace], int] = module.run
        sub.set_defaults(run=run)
    return parser


__all__ = ["COMMANDS", "build_parser"]
