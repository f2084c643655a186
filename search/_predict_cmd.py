"""``python -m search predict`` (being written)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""


def run(args: argparse.Namespace) -> int:
    """Runs the command; returns the exit status."""
    raise NotImplementedError("`predict` is not implemented yet")
