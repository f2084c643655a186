"""``main``: parse, quiet the libraries, run the command; a user's error becomes one line and an exit status."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from search.cli._exit import EXIT_INTERRUPTED, exit_status
from search.cli._parser import build_parser
from search.cli._quiet import quiet_libraries


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # An unreachable tracking server should fail in seconds, not after MLflow's minutes of retries.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    quiet_libraries()
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - user-facing errors become one line
        status = exit_status(error)
        if status is None:
            raise
        print(f"error: {error}", file=sys.stderr)
        return status


__all__ = ["main"]
