"""Shared pieces of the search benchmarks: FER2013 location, a fixed-candidate source, quiet start-up."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = REPO_ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"


def fer2013_or_exit(path: str | None) -> Path:
    """The FER2013 CSV to benchmark on ($FER2013_CSV or ../shared), or exit 2 with a clear reason."""
    csv = Path(path or os.environ.get("FER2013_CSV", DEFAULT_CSV))
    if not csv.is_file():
        print(f"FER2013 not found at {csv}: pass --csv PATH or set FER2013_CSV.", file=sys.stderr)
        raise SystemExit(2)
    return csv


def quiet_start() -> None:
    """Silences TensorFlow's start-up noise and library warnings, as the CLI does."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from search.cli import quiet_libraries

    quiet_libraries()


def study_bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's parser with the flags every search benchmark takes: --csv, --space, --json."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", help="FER2013 CSV (default: $FER2013_CSV or ../shared/data/fer2013)")
    parser.add_argument("--space", default="compact")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser


def parse_and_start(parser: argparse.ArgumentParser, *, data_free: Callable[[argparse.Namespace], bool] | None = None,
                    check: Callable[[argparse.Namespace], str | None] | None = None,
                    ) -> tuple[argparse.Namespace, Path | None]:
    """Parses the flags, finds FER2013 (or exits 2) and quiets start-up; returns the flags and the CSV.

    ``--json`` is made absolute first: the benchmarks run each study in a working directory of its own.
    ``data_free``: says from the flags whether this run trains nothing (then no CSV is needed, and None is
    returned for it). ``check``: a rule between flags, returning what is wrong (exit 2 with it) or None;
    it runs before FER2013 is looked for, so a wrong command fails on its flags first.
    """
    args = parser.parse_args()
    problem = check(args) if check is not None else None
    if problem:
        parser.error(problem)
    if args.json:
        args.json = args.json.resolve()
    csv = None if data_free is not None and data_free(args) else fer2013_or_exit(args.csv)
    quiet_start()
    return args, csv


class CandidateList:
    """A candidate source that hands trial ``i`` the ``i``-th of a fixed list (same trials in A and B)."""

    max_macs = None
    source_text = ""

    def __init__(self, name: str, candidates: list[dict[str, Any]]) -> None:
        self.name = name
        self.candidates = candidates

    def sample(self, suggester: Any) -> dict[str, Any]:
        import copy

        return copy.deepcopy(self.candidates[suggester.number % len(self.candidates)])
