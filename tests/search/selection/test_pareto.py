"""The accuracy-latency Pareto front of leaderboard rows."""

from __future__ import annotations

from search.selection import LeaderboardRow, pareto_front


def _row(trial: int, accuracy: float, latency: float | None) -> LeaderboardRow:
    return LeaderboardRow(rank=trial + 1, trial=trial, val_accuracy=accuracy, n_params=None, macs=None, epochs=1,
                          duration_s=None, params={}, latency_ms=latency)


def test_front_keeps_the_trials_no_other_beats_on_both() -> None:
    rows = [_row(0, 0.60, 9.0), _row(1, 0.55, 2.0), _row(2, 0.50, 3.0), _row(3, 0.60, 12.0), _row(4, 0.40, 1.0),
            _row(5, 0.58, 2.0), _row(6, 0.70, None)]
    front = pareto_front(rows)
    # 2 is slower and less accurate than 1; 3 as accurate as 0 but slower; 1 ties 5 on time, less accurate;
    # 6 was never timed.
    assert [row.trial for row in front] == [4, 5, 0]


def test_front_of_nothing_timed_is_empty() -> None:
    assert pareto_front([_row(0, 0.5, None)]) == [] and pareto_front([]) == []
