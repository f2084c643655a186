"""The accuracy-latency Pareto front: the completed trials no other trial beats on both at once.

A trial is on the front when no other trial is at least as accurate on validation and at least as fast per
face, and strictly better on one of the two. Trials timed before latency was measured are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna

from search.selection._leaderboard import LeaderboardRow, leaderboard


def pareto_front(rows: Sequence[LeaderboardRow]) -> list[LeaderboardRow]:
    """The rows on the front, fastest first (each one more accurate than every faster one)."""
    timed = sorted((row for row in rows if row.latency_ms is not None),
                   key=lambda row: (row.latency_ms, -row.val_accuracy, row.rank))
    front: list[LeaderboardRow] = []
    for row in timed:
        if not front or row.val_accuracy > front[-1].val_accuracy:
            front.append(row)
    return front


def study_pareto_front(study: optuna.Study) -> list[LeaderboardRow]:
    """``pareto_front`` of every completed trial of ``study``."""
    return pareto_front(leaderboard(study))
