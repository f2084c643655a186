"""``run --workers N``: N worker processes on one study on this machine, the way Optuna scales.

Each worker is the same ``run`` command without ``--workers``: they share the study through its storage
and coordinate only through it (queued trials, heartbeats, the study lock). No scheduler of our own.
With K GPUs each worker sees one GPU (``CUDA_VISIBLE_DEVICES``, round-robin); without GPUs the CPU
threads are divided between the workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from types import FrameType

from search.paths import STUDY_STORAGE_ENV
from search.redaction import secret_flags_to_env

WORKER_ENV = "FER_SEARCH_WORKER"
WORKER_HOST_ENV = "FER_SEARCH_WORKER_HOST"
"""Overrides the host name a worker records (tests use it to play a worker on another machine)."""


def plan_worker_envs(n_workers: int, gpu_ids: Sequence[str], n_cpus: int) -> list[dict[str, str]]:
    """Environment additions for each worker: a GPU each, or an equal share of the CPU threads."""
    plans = []
    threads = str(max(1, n_cpus // n_workers))
    for index in range(n_workers):
        env = {WORKER_ENV: str(index + 1)}
        if gpu_ids:
            env["CUDA_VISIBLE_DEVICES"] = gpu_ids[index % len(gpu_ids)]
            # Workers sharing a GPU (more workers than GPUs) must not each reserve all of its memory.
            env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
        else:
            env.update(CUDA_VISIBLE_DEVICES="", TF_NUM_INTRAOP_THREADS=threads, TF_NUM_INTEROP_THREADS="1",
                       OMP_NUM_THREADS=threads)
        plans.append(env)
    return plans


def visible_gpu_ids() -> list[str]:
    """GPU ids the workers may use: ``$CUDA_VISIBLE_DEVICES`` if set, else those TensorFlow sees."""
    from_env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if from_env is not None:
        return [gpu for gpu in from_env.split(",") if gpu.strip() and gpu.strip() != "-1"]
    try:
        import tensorflow as tf
    except ImportError:
        return []
    return [str(index) for index, _ in enumerate(tf.config.list_physical_devices("GPU"))]


def without_workers_flag(argv: Sequence[str]) -> list[str]:
    """``argv`` minus ``--workers N`` / ``--workers=N``."""
    result, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token == "--workers":
            skip = True
        elif not token.startswith("--workers="):
            result.append(token)
    return result


def run_workers(argv: Sequence[str], n_workers: int, *, on_start: Callable[[list[int]], None] | None = None) -> int:
    """Starts ``n_workers`` workers running ``python -m search <argv>``; returns an exit status.

    ``on_start`` is given the workers' process ids once they are all started (the CLI tells the user).
    0 when every worker ended normally, 130 when one was interrupted, the workers' own status when all
    that failed share it (75: a service stayed unreachable), 1 otherwise.
    """
    plans = plan_worker_envs(n_workers, visible_gpu_ids(), os.cpu_count() or 1)
    # The storage URL may hold a password: workers get it in their environment (readable by this user only),
    # not on their command line (readable by every local user through ps).
    worker_argv, secrets = secret_flags_to_env(without_workers_flag(argv), {"--storage": STUDY_STORAGE_ENV})
    command = [sys.executable, "-m", "search", *worker_argv, "--workers", "1"]
    processes = [subprocess.Popen(command, env={**os.environ, **secrets, **plan}) for plan in plans]

    def forward(signum: int, frame: FrameType | None) -> None:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    if on_start is not None:
        on_start([process.pid for process in processes])
    try:
        codes = [process.wait() for process in processes]
    except KeyboardInterrupt:
        signal.signal(signal.SIGTERM, previous)
        # The terminal sent SIGINT to the workers too; make sure of it and wait for them to record it.
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        codes = [process.wait() for process in processes]
        return 130
    signal.signal(signal.SIGTERM, previous)
    return combined_status(codes)


def combined_status(codes: Sequence[int]) -> int:
    """One exit status for workers' statuses: 130 if any was interrupted, 0 if all ended normally, the
    failures' status when they share one, else 1."""
    if any(code == 130 for code in codes):
        return 130
    failures = {code for code in codes if code != 0}
    if not failures:
        return 0
    return failures.pop() if len(failures) == 1 and all(0 < code < 256 for code in failures) else 1


def worker_label() -> str:
    """``"w2 "`` inside worker 2 of a ``--workers`` run, else empty."""
    index = os.environ.get(WORKER_ENV)
    return f"w{index} " if index else ""
