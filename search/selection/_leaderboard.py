"""Choosing the best trial on validation (ties: fewer parameters) and the leaderboard."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.errors import NoCompletedTrialError
from search.study import MACS_ATTR, N_PARAMS_ATTR, REASON_ATTR



def ranking_key(trial: FrozenTrial) -> tuple[float, int, int]:
    """Sort key: highest validation accuracy first, then fewer parameters, then earlier trial."""
    n_params = int(trial.user_attrs.get(N_PARAMS_ATTR, 2**62))
    return (-float(trial.value if trial.value is not None else float("-inf")), n_params, trial.number)


def completed_trials(study: optuna.Study) -> list[FrozenTrial]:
    """Completed trials, best first."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return sorted(done, key=ranking_key)


def select_best(study: optuna.Study) -> FrozenTrial:
    """The selected trial: best validation accuracy, ties broken by fewer parameters."""
    ranked = completed_trials(study)
    if not ranked:
        raise NoCompletedTrialError(
            f"Study {study.study_name!r} has no completed trial yet; run `python -m search run` to add some."
        )
    return ranked[0]


@dataclass(frozen=True)
class LeaderboardRow:
    """One trial on the leaderboard."""

    rank: int
    trial: int
    val_accuracy: float
    n_params: int | None
    macs: int | None
    epochs: int
    duration_s: float | None
    params: dict[str, Any]


def leaderboard(study: optuna.Study, top: int | None = None) -> list[LeaderboardRow]:
    """Completed trials ranked as selection ranks them."""
    rows = []
    for rank, trial in enumerate(completed_trials(study)[:top], start=1):
        duration = trial.duration.total_seconds() if trial.duration else None
        rows.append(LeaderboardRow(
            rank=rank, trial=trial.number, val_accuracy=float(trial.value), n_params=trial.user_attrs.get(N_PARAMS_ATTR),
            macs=trial.user_attrs.get(MACS_ATTR), epochs=len(trial.intermediate_values), duration_s=duration,
            params=dict(trial.params),
        ))
    return rows


def state_counts(study: optuna.Study) -> dict[str, int]:
    """Trials per final state: complete, pruned, failed, interrupted, running, waiting."""
    counts = {"complete": 0, "pruned": 0, "failed": 0, "interrupted": 0, "running": 0, "waiting": 0}
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.FAIL:
            key = "interrupted" if trial.user_attrs.get(REASON_ATTR) == "interrupted" else "failed"
        else:
            key = trial.state.name.lower()
        counts[key] = counts.get(key, 0) + 1
    return counts


def format_leaderboard(rows: list[LeaderboardRow], fmt: str = "table") -> str:
    """The leaderboard as an aligned text table or JSON."""
    if fmt == "json":
        return json.dumps([asdict(row) for row in rows], indent=2)
    if not rows:
        return "(no completed trial yet)"
    header = ["rank", "trial", "val_acc", "params", "MACs", "epochs", "time"]
    table = [header] + [
        [
            str(row.rank), f"#{row.trial}", f"{row.val_accuracy:.4f}", _human(row.n_params), _human(row.macs),
            str(row.epochs), f"{row.duration_s:.0f}s" if row.duration_s is not None else "-",
        ]
        for row in rows
    ]
    return format_table(table)


def format_table(table: list[list[str]]) -> str:
    """Left-aligned columns separated by two spaces, a rule under the header."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _human(number: int | None) -> str:
    if number is None:
        return "-"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if number >= size:
            return f"{number / size:.2f}{unit}"
    return str(number)
