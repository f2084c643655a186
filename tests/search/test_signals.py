"""A Ctrl-C or SIGTERM that lands inside a store call acts only once the call has finished."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest
from mlflow.entities import Metric

from search.signals import sigterm_as_keyboard_interrupt, stops_deferred
from search.tracking import StudyTracker


def test_a_stop_inside_the_block_acts_when_it_ends() -> None:
    finished = []
    with pytest.raises(KeyboardInterrupt), stops_deferred():
        signal.raise_signal(signal.SIGINT)
        finished.append("the rest of the block ran")
    assert finished == ["the rest of the block ran"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigterm_is_held_too_and_then_takes_the_ctrl_c_path() -> None:
    finished = []
    with sigterm_as_keyboard_interrupt(), pytest.raises(KeyboardInterrupt, match="signal 15"), stops_deferred():
        signal.raise_signal(signal.SIGTERM)
        finished.append("done")
    assert finished == ["done"]


def test_a_second_stop_acts_at_once() -> None:
    finished = []
    with pytest.raises(KeyboardInterrupt), stops_deferred():
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        finished.append("not reached")
    assert finished == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_block_without_a_stop_changes_nothing() -> None:
    with stops_deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_handler_installed_outside_python_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """getsignal gives None for a handler set in C before Python started (an embedding application).

    Such a handler cannot be made from Python after start-up, so getsignal is patched to report one for
    SIGTERM; the block must neither replace SIGTERM's handler nor fail putting it back, and still hold SIGINT.
    """
    real_getsignal = signal.getsignal
    monkeypatch.setattr(signal, "getsignal",
                        lambda signum: None if signum == signal.SIGTERM else real_getsignal(signum))
    before = real_getsignal(signal.SIGTERM)
    finished = []
    with pytest.raises(KeyboardInterrupt), stops_deferred():
        assert real_getsignal(signal.SIGTERM) is before
        signal.raise_signal(signal.SIGINT)
        finished.append("held")
    assert finished == ["held"]
    assert real_getsignal(signal.SIGTERM) is before


def test_outside_the_main_thread_the_block_is_a_no_op() -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with stops_deferred():  # signal.signal would raise ValueError here
                pass
        except BaseException as error:  # noqa: BLE001 - reported to the main thread
            errors.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == []


class _StopWhileIterated(list):
    """A metric batch that delivers Ctrl-C while MLflow reads it, i.e. in the middle of the store call."""

    def __iter__(self):
        signal.raise_signal(signal.SIGINT)
        return super().__iter__()


def test_a_tracker_call_hit_by_a_stop_completes_and_the_store_stays_writable(tmp_path: Path) -> None:
    tracker = StudyTracker("stops", tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    run_id, _ = tracker.open_parent_run()
    batch = _StopWhileIterated([Metric("val_accuracy", 0.5, 0, 1)])
    with pytest.raises(KeyboardInterrupt):
        tracker.client.log_batch(run_id, metrics=batch)
    assert [m.value for m in tracker.client.get_metric_history(run_id, "val_accuracy")] == [0.5]
    tracker.close_run(run_id, status="KILLED")  # the stop's own bookkeeping still goes through
    assert tracker.client.get_run(run_id).info.status == "KILLED"
