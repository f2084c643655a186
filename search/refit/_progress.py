"""Progress of ``search refit`` for people: epoch within refit k of K and the best epoch so far.

On a terminal one status line is redrawn per epoch; elsewhere (logs, CI) only one line per started and
finished refit is printed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from search.study import StatusLine

if TYPE_CHECKING:
    from search.refit._checkpoint import RefitState


class RefitProgress:
    """Prints the progress of the refits of one study.

    Args:
        n_refits: How many refits this command runs (K).
        stream: Where to print (default stderr).
        live: Redraw a status line per epoch; default: whether ``stream`` is a terminal.
        title: What each line is about (``refit``; ``distilled`` for the student of ``--distill``).
    """

    def __init__(self, n_refits: int, stream: TextIO | None = None, live: bool | None = None,
                 title: str = "refit") -> None:
        self.n_refits = n_refits
        self.title = title
        self._line = StatusLine(stream, live)
        self._index = 0
        self._trial: int | None = None

    def start(self, trial: int, resumed_from: int) -> None:
        """Refit of ``trial`` begins (``resumed_from`` > 0: continued after that many epochs)."""
        self._index += 1
        self._trial = trial
        if resumed_from:
            self._line.write(f"{self._head()} continues from its checkpoint after epoch {resumed_from}", final=True)
        elif not self._line.live:
            self._line.write(f"{self._head()} started", final=True)

    def skip(self, trial: int, state: str) -> None:
        """Refit of ``trial`` had already ended (``state``): it is not redone."""
        self._index += 1
        self._trial = trial
        self._line.write(f"{self._head()} already {state}: not redone", final=True)

    def epoch(self, epoch: int, n_epochs: int, val_accuracy: float | None, best: float | None) -> None:
        if not self._line.live:
            return
        accuracy = f" val_acc {val_accuracy:.4f}" if val_accuracy is not None else ""
        best_text = f" | best {best:.4f}" if best is not None else ""
        self._line.write(f"{self._head()} epoch {epoch}/{n_epochs}{accuracy}{best_text}")

    def end(self, trial: int, state: RefitState) -> None:
        if state.status == "complete":
            accuracy = state.val_accuracy.get("none")
            text = (f"complete: val_acc {accuracy:.4f} (best epoch {state.best_epoch} of {state.epochs_done}"
                    f"{', early stopped' if state.outcome == 'early_stopped' else ''})")
        else:
            text = f"failed ({state.reason})"
        self._line.write(f"{self._head()} {text}", final=True)

    def message(self, text: str) -> None:
        self._line.write(text, final=True)

    def _head(self) -> str:
        return f"[{self.title} {self._index}/{self.n_refits}] trial #{self._trial}"
