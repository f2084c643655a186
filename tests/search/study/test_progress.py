"""Progress: one line per finished trial when not a terminal, with the count and the best so far."""

from __future__ import annotations

import io

from search.study import StudyProgress


def test_non_terminal_output_is_one_line_per_trial_with_count_and_best() -> None:
    stream = io.StringIO()
    progress = StudyProgress(n_trials=3, n_done=1, stream=stream)
    progress.start_trial(1)
    progress.epoch(1, 5, 0.3)  # quiet: not a terminal
    progress.end_trial(1, "complete", 0.42)
    progress.end_trial(2, "pruned", 0.2, "pruned at epoch 1")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[2/3] best 0.4200 (#1)")
    assert "trial #2 pruned val_acc=0.2000 (pruned at epoch 1)" in lines[1]
    assert "ETA" in lines[1]


def test_terminal_output_redraws_a_status_line_per_epoch() -> None:
    stream = io.StringIO()
    progress = StudyProgress(n_trials=2, stream=stream, live=True)
    progress.start_trial(0)
    progress.epoch(2, 5, 0.31)
    assert "\r" in stream.getvalue() and "trial #0 epoch 2/5 val_acc 0.3100" in stream.getvalue()


def test_interrupted_trials_do_not_count() -> None:
    progress = StudyProgress(n_trials=2, stream=io.StringIO())
    progress.end_trial(0, "interrupted", None, counted=False)
    assert progress.n_done == 0


def test_eta_of_a_time_boxed_study_never_runs_past_its_timeout(monkeypatch) -> None:
    clock = iter([0.0, 10.0, 10.0])
    monkeypatch.setattr("search.study._progress.time.monotonic", lambda: next(clock))
    stream = io.StringIO()
    progress = StudyProgress(n_trials=100_000, stream=stream, timeout_s=60.0)
    progress.end_trial(0, "complete", 0.4)  # one trial in 10 s: 100,000 trials would take 11 days
    assert "ETA ~1m00s (--timeout)" in stream.getvalue()  # 50 s left + about one more trial
