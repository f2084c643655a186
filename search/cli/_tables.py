"""Tables and one-line summaries for the terminal: the leaderboard, the recorded selection, the refits.

Cheap to import (the library types are only annotations), so the parser can load every command module.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna

    from search.refit import RefitOutcome
    from search.selection import LeaderboardRow


def format_table(table: list[list[str]]) -> str:
    """Left-aligned columns separated by two spaces, a rule under the header."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def format_leaderboard(rows: list[LeaderboardRow], fmt: str = "table") -> str:
    """The leaderboard as an aligned text table or JSON."""
    if fmt == "json":
        return json.dumps([asdict(row) for row in rows], indent=2)
    if not rows:
        return "(no completed trial yet)"
    header = ["rank", "trial", "val_acc", "params", "MACs", "ms/face", "epochs", "time"]
    table = [header] + [
        [
            str(row.rank), f"#{row.trial}", f"{row.val_accuracy:.4f}", _human(row.n_params), _human(row.macs),
            f"{row.latency_ms:.2f}" if row.latency_ms is not None else "-", str(row.epochs),
            f"{row.duration_s:.0f}s" if row.duration_s is not None else "-",
        ]
        for row in rows
    ]
    return format_table(table)


def _human(number: int | None) -> str:
    if number is None:
        return "-"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if number >= size:
            return f"{number / size:.2f}{unit}"
    return str(number)


def format_selection(study: optuna.Study) -> str | None:
    """One line about the recorded selection for ``best``, or None without one."""
    from search.selection import recorded_selection

    selection = recorded_selection(study)
    if selection is None:
        return None
    tta = (f", {selection.tta} TTA {selection.val_accuracy_tta:.4f} (gain {selection.tta_gain:+.4f})"
           if selection.tta != "none" else "")
    return (f"Selected (stage 2): {selection.describe()}: validation accuracy {selection.val_accuracy:.4f}{tta}; "
            f"{selection.model_uri}")


def format_refit_summary(outcome: RefitOutcome) -> str:
    """The refit table (validation accuracy without and with TTA, its gain), ensemble sizes and the choice."""
    tta = outcome.tta
    header = ["rank", "refit of", "state", "epochs", "best", "val_acc", f"val_acc {tta}", "TTA gain"]
    rows: list[list[str]] = [header]
    by_trial = {m.result.trial: m for m in outcome.ranked}
    order = [m.result for m in outcome.ranked] + [r for r in outcome.results if r.trial not in by_trial]
    for rank, result in enumerate(order, start=1):
        model = by_trial.get(result.trial)
        rows.append([
            str(rank) if model else "-", f"#{result.trial}", result.state, str(result.epochs_run),
            str(result.best_epoch or "-"), f"{model.val_accuracy:.4f}" if model else "-",
            f"{model.val_accuracy_tta:.4f}" if model else "-",
            f"{model.val_accuracy_tta - model.val_accuracy:+.4f}" if model else (result.reason or "-")[:60],
        ])
    lines = ["Refits (stage 2, full training split), ranked on validation:", format_table(rows)]
    if outcome.choice is not None:
        sizes = ", ".join(f"M={m}: {a:.4f}" for m, a in enumerate(outcome.choice.accuracies, start=1))
        lines += ["", f"Ensembles of the top M (validation accuracy, {tta} TTA): {sizes}"]
    if outcome.selection is not None:
        selection = outcome.selection
        lines += ["", f"Selected: {selection.describe()}: validation accuracy {selection.val_accuracy:.4f}, "
                      f"with {tta} TTA {selection.val_accuracy_tta:.4f} ({selection.tta_gain:+.4f})",
                  f"  model: {selection.model_uri}"]
    return "\n".join(lines)


__all__ = ["format_leaderboard", "format_refit_summary", "format_selection", "format_table"]
