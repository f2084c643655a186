"""``python -m search``: the command line, and the only code that prints for people.

``_main`` (``main``: parse, run, errors to exit statuses), ``_parser`` (built from the command modules),
``_flags`` (flags several commands share), one module per command (``_run``, ``_train``, ``_spaces``,
``_best``, ``_test``, ``_promote``, ``_refit``, ``_report``, ``_predict``, ``_ui``: ``add_arguments`` and
``run``, nothing else), ``_tables`` and ``_summary`` (what they print). Errors of the
``search.errors.SearchError`` family and ``fer_core``'s ``FerError`` become one line on stderr and an exit
status.
"""

from __future__ import annotations

from search.cli._main import main
from search.cli._quiet import quiet_libraries
from search.cli._tables import format_leaderboard, format_refit_summary, format_selection, format_table

__all__ = ["format_leaderboard", "format_refit_summary", "format_selection", "format_table", "main", "quiet_libraries"]
