"""``python -m search ui``: the MLflow UI on the project's store (``./mlruns``), bound to loopback."""

from __future__ import annotations

import argparse
import sys

from search.defaults import DEFAULT_HOST, DEFAULT_PORT

NAME = "ui"
HELP = "start the MLflow UI on the project's store (127.0.0.1)"
DESCRIPTION = HELP


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds ``--port`` and ``--host``."""
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port to listen on")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="interface to bind; anything but 127.0.0.1/localhost/::1 exposes every study "
                        "to the network (MLflow has no authentication here)")


def run(args: argparse.Namespace) -> int:
    """Serves the UI until Ctrl-C; returns the exit status."""
    from search import paths as _paths
    from search.redaction import redact_url
    from search.tracking import UiSettings, serve_ui, study_run_pages

    settings = UiSettings(tracking_uri=_paths.default_tracking_uri(),
                          artifacts_dir=_paths.mlruns_dir() / _paths.ARTIFACTS_DIRNAME,
                          host=args.host, port=args.port)
    if not settings.is_loopback:
        print(f"warning: binding the MLflow UI to {settings.host}: anyone who can reach this machine on port "
              f"{settings.port} can read and change every study (no authentication). Use --host 127.0.0.1 "
              "unless that is intended.", file=sys.stderr)

    def on_ready() -> None:
        print(f"MLflow UI: {settings.url}  (store {redact_url(settings.tracking_uri)}; Ctrl-C to stop)", flush=True)
        pages, more = study_run_pages(settings.url)
        if pages:
            # MLflow 3.17 opens an experiment on its GenAI view unless the browser's sidebar says "Model training".
            print("Runs of each study (the UI's Model training view):")
            width = max(len(name) for name, _ in pages)
            for name, url in pages:
                print(f"  {name:<{width}}  {url}")
            if more:
                print("  ... and older studies: Experiments in the UI, with the sidebar on Model training")
        sys.stdout.flush()

    return serve_ui(settings, on_ready=on_ready,
                    on_stop=lambda: print("Stopping the MLflow UI.", file=sys.stderr))
