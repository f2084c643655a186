"""Progress of a study for people: trials done, best so far, ETA, epochs within a trial.

On a terminal one status line is redrawn in place; elsewhere (logs, CI) only one line per finished
trial is printed.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from search.study._workers import worker_label


class StatusLine:
    """One line of progress: redrawn in place on a terminal; elsewhere only final lines are printed.

    Args:
        stream: Where to print (default stderr).
        live: Redraw in place; default: whether ``stream`` is a terminal.
    """

    def __init__(self, stream: TextIO | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live

    def write(self, line: str, final: bool = False) -> None:
        """Shows ``line``; a ``final`` one stays (ends with a newline), others are replaced by the next."""
        if self.live:
            self.stream.write("\r\033[K" + line + ("\n" if final else ""))
        elif final:
            self.stream.write(line + "\n")
        self.stream.flush()


class StudyProgress:
    """Prints a study's progress.

    Args:
        n_trials: Trials the study must finish.
        n_done: Trials already finished when this run started (resume).
        stream: Where to print (default stderr).
        live: Redraw a status line per epoch; default: whether ``stream`` is a terminal.
        timeout_s: ``--timeout``: the ETA never runs past it (no trial starts after it).
    """

    def __init__(self, n_trials: int, n_done: int = 0, stream: TextIO | None = None, live: bool | None = None,
                 timeout_s: float | None = None):
        self.n_trials = n_trials
        self.n_done = n_done
        self._n_done_at_start = n_done
        self._line = StatusLine(stream, live)
        self.best: tuple[int, float] | None = None
        self._started = time.monotonic()
        self._timeout_s = timeout_s
        self._trial: int | None = None

    def start_trial(self, number: int) -> None:
        self._trial = number

    def epoch(self, epoch: int, n_epochs: int, val_accuracy: float | None) -> None:
        if not self._line.live:
            return
        acc = f" val_acc {val_accuracy:.4f}" if val_accuracy is not None else ""
        self._line.write(f"{self._head()} | trial #{self._trial} epoch {epoch}/{n_epochs}{acc}")

    def end_trial(self, number: int, state: str, value: float | None, detail: str = "", counted: bool = True) -> None:
        if counted:
            self.n_done += 1
        if state == "complete" and value is not None and (self.best is None or value > self.best[1]):
            self.best = (number, value)
        result = (f"{state}" + (f" val_acc={value:.4f}" if value is not None else "")
                  + (f" ({detail})" if detail else ""))
        self._line.write(f"{self._head()} | trial #{number} {result}", final=True)

    def message(self, text: str) -> None:
        self._line.write(text, final=True)

    def _head(self) -> str:
        best = f"best {self.best[1]:.4f} (#{self.best[0]})" if self.best else "best -"
        return f"{worker_label()}[{self.n_done}/{self.n_trials}] {best} | ETA {self._eta()}"

    def _eta(self) -> str:
        finished_here = self.n_done - self._n_done_at_start
        remaining = self.n_trials - self.n_done
        if finished_here <= 0 or remaining <= 0:
            return "-" if remaining > 0 else "0s"
        elapsed = time.monotonic() - self._started
        seconds = elapsed / finished_here * remaining
        if self._timeout_s is not None and seconds > self._timeout_s - elapsed:
            # The last trial started before the timeout still runs: about one trial's time more.
            return "~" + _duration(max(self._timeout_s - elapsed, 0.0) + elapsed / finished_here) + " (--timeout)"
        return _duration(seconds)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"
