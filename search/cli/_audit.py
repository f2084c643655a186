"""``python -m search audit``: duplicates within and across splits, label conflicts, blank images, class balance.

The work is ``fer_core.audit`` (pure numpy); this module loads the data, prints a table or JSON, and writes the
HTML page.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from search.cli._exit import EXIT_OK
from search.cli._flags import add_data_flags, add_format_flag
from search.cli._tables import format_table
from search.errors import UsageError

NAME = "audit"
HELP = "audit a data set: duplicates across splits, label conflicts, blank images, class balance"
DESCRIPTION = (
    "Hash every face of the data (the same splits `run` would make) and report: exact duplicates (byte-identical "
    "pixels) within and across splits, near-duplicates (a DCT perceptual hash within a Hamming threshold, shown), "
    "groups of identical faces with conflicting labels, blank or near-constant images (pixel std < 3) and the class "
    "balance per split. `run` logs the same audit on each new study's MLflow run."
)
HTML_SUFFIXES = (".html", ".htm")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    add_data_flags(parser)
    add_format_flag(parser)
    parser.add_argument("--html", type=Path, metavar="FILE.html", help="also write the audit as an HTML page")


def run(args: argparse.Namespace) -> int:
    """Audits ``--data`` and prints the result (``--html``: also writes a page)."""
    from search.study import audit_record, audit_study_data, default_data, load_study_data

    _check_html(args.html)
    data = load_study_data(args.data or default_data(), split=args.split, subset=1.0, seed=0)
    record = audit_record(audit_study_data(data), data)
    source = data.dataset.source
    print(json.dumps({"source": source, **record}, indent=2) if args.format == "json" else format_audit(record, source))
    if args.html is not None:
        from search.paths import atomic_write_text
        from search.report import audit_page

        args.html.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.html, audit_page(record, source))
        if args.format == "table":
            print(f"\nHTML page: {args.html.resolve()}")
    return EXIT_OK


def format_audit(record: dict[str, Any], source: str) -> str:
    """The audit as text tables: sizes, exact and near duplicates per pair of splits, conflicts, blanks, classes."""
    splits = list(record["splits"])
    sizes = ", ".join(f"{name} {record['n_images'][name]:,}" for name in splits)
    lines = [f"Data audit of {source}: {sum(record['n_images'].values()):,} faces ({sizes}), "
             f"{record['seconds']:.1f} s", ""]
    lines += [f"Exact duplicates ({record['rules']['exact']}):", _pair_table(record["exact_duplicates"], splits), ""]
    lines += [f"Near-duplicates ({record['rules']['near']}):", _pair_table(record["near_duplicates"], splits), ""]
    lines.append(f"Conflicting labels: {record['conflicting_label_groups']} groups of byte-identical faces "
                 f"({record['conflicting_label_images']} faces) carry more than one label.")
    blanks = ", ".join(f"{name} {record['blank'][name]}" for name in splits)
    lines.append(f"Blank or near-constant images ({record['rules']['blank']}): {blanks}.")
    if record.get("dedupe"):
        lines.append(f"--dedupe dropped: {record['dropped_by_dedupe']}")
    emotions = list(record["class_counts"][splits[0]])
    table = [["split", *emotions]] + [[name, *(str(record["class_counts"][name][e]) for e in emotions)]
                                      for name in splits]
    lines += ["", "Class balance:", format_table(table)]
    return "\n".join(lines)


def _pair_table(counts: dict[str, dict[str, int]], splits: list[str]) -> str:
    """Rows: the split counted; columns: the split it is found in (diagonal: repeats within the split)."""
    table = [["rows of \\ found in", *splits]] + [[name, *(str(counts[name][other]) for other in splits)]
                                                   for name in splits]
    return format_table(table)


def _check_html(path: Path | None) -> None:
    if path is not None and path.suffix.lower() not in HTML_SUFFIXES:
        raise UsageError(f"--html must name an .html file (got {str(path)!r}); e.g. --html audit.html")
