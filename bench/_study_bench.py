"""Shared pieces of the search benchmarks: FER2013 location, a fixed-candidate source, quiet start-up."""

from __future__ import annotations

import os
import sys
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
    from search._cli import _quiet_libraries

    _quiet_libraries()


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
