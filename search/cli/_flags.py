"""Flags several commands share, each declared once, and the study they name."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna

SPLITS = ("official", "random")
TABLE_FORMATS = ("table", "json")


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    """``--data`` and ``--split``: the data set a new study trains on."""
    parser.add_argument("--data", help="FER2013 CSV (.csv/.csv.gz) or image-folder tree "
                        "(default: data/fer2013.csv if present, else the synthetic demo set)")
    parser.add_argument("--split", choices=SPLITS,
                        help="official = FER2013 Usage column; random = stratified 80/10/10 "
                        "(default: official when the data has a Usage column)")


def add_storage_flag(parser: argparse.ArgumentParser) -> None:
    """``--storage``: the Optuna storage URL."""
    parser.add_argument("--storage", help="Optuna storage URL (default: $FER_SEARCH_STORAGE, else "
                        "sqlite:///mlruns/optuna.db; put a URL with a password in $FER_SEARCH_STORAGE to keep it "
                        "off the command line)")


def add_study_flags(parser: argparse.ArgumentParser) -> None:
    """``--study`` and ``--storage`` of a command that reads an existing study (see ``open_study``)."""
    parser.add_argument("--study", help="study name (default: the latest study in the storage)")
    add_storage_flag(parser)


def add_format_flag(parser: argparse.ArgumentParser) -> None:
    """``--format table|json``."""
    parser.add_argument("--format", choices=TABLE_FORMATS, default="table", help="output format")


def open_study(args: argparse.Namespace) -> optuna.Study:
    """The existing study named by ``add_study_flags``' flags (the latest one without ``--study``)."""
    from search.paths import default_study_storage
    from search.study import load_existing_study, open_storage

    return load_existing_study(open_storage(args.storage or default_study_storage()), args.study)


__all__ = ["add_data_flags", "add_format_flag", "add_storage_flag", "add_study_flags", "open_study"]
