"""Ctrl-C inside a refit, in-process: the refit is interrupted right after its first finished epoch."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from search.refit import RefitProgress


@contextlib.contextmanager
def refit_interrupted_after_first_epoch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Inside, the first refit epoch to be reported (checkpointed and logged) raises KeyboardInterrupt."""
    original_epoch = RefitProgress.epoch

    def interrupt_after_first_epoch(self: RefitProgress, epoch: int, *args: object) -> None:
        original_epoch(self, epoch, *args)
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(RefitProgress, "epoch", interrupt_after_first_epoch)
        yield
