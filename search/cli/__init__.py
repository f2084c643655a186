"""``python -m search``: the command line, and the only code that prints for people.

One module per command (``add_arguments`` + ``run``), the flags they share, and the tables and
summaries they print. Errors of the ``search.errors.SearchError`` family and ``fer_core``'s ``FerError``
become one line on stderr and an exit status.
"""

from __future__ import annotations

from search.cli._main import main

__all__ = ["main"]
