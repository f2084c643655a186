"""``python -m search spaces``: the shipped search spaces, as a table or JSON."""

from __future__ import annotations

import argparse
import json

from search.cli._exit import EXIT_OK
from search.cli._flags import add_format_flag
from search.cli._tables import format_table

NAME = "spaces"
HELP = "list the shipped search spaces"
DESCRIPTION = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds ``--format``."""
    add_format_flag(parser)


def run(args: argparse.Namespace) -> int:
    """Prints each shipped space's name, parameter count, MACs budget and first sentence."""
    from spaces import list_spaces

    rows = [{"name": s.name, "parameters": s.n_parameters, "max_macs": s.max_macs,
             "description": _first_sentence(s.description)} for s in list_spaces()]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    table = [["name", "parameters", "MACs budget", "description"]] + [
        [str(r["name"]), str(r["parameters"]), f"{r['max_macs']:.3g}" if r["max_macs"] else "-", str(r["description"])]
        for r in rows
    ]
    print(format_table(table))
    return EXIT_OK


def _first_sentence(text: str, limit: int = 100) -> str:
    """The first sentence of a space's description, cut to ``limit`` characters for a table."""
    sentence = text.split(". ")[0].strip() if text else ""
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"
