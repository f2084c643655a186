"""Stops by signal: SIGTERM handled like Ctrl-C, and stops held back while a store write is under way.

SIGTERM takes Ctrl-C's recorded path, so a stop from a job scheduler or `kill` is handled the same. A
KeyboardInterrupt raised halfway through a SQLite read or write can leave that connection holding its lock,
and the stop's own bookkeeping (the trial's "interrupted" state) then fails with "database is locked";
``stops_deferred`` lets such a call finish first.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def sigterm_as_keyboard_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises KeyboardInterrupt; the previous handler is restored on leaving it."""
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _raise_keyboard_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def stops_deferred() -> Iterator[None]:
    """Inside the block, SIGINT and SIGTERM wait until the block ends, then act as usual (a KeyboardInterrupt).

    A second stop inside the block acts at once, so a call that hangs can still be interrupted. Signals only
    reach the main thread; in any other thread the block changes nothing. A signal whose handler was installed
    outside Python (``signal.getsignal`` gives None, as in an embedding application) is left alone: Python
    could not put that handler back afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        if held:
            _raise_keyboard_interrupt(signum, frame)
        held.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in _STOP_SIGNALS
                if signal.getsignal(signum) is not None}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if held:
            signal.raise_signal(held[0])


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
