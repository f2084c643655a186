"""Open an input file only when it is a regular file within a size limit, before a byte is read.

A FIFO named ``data.csv`` would block a plain ``open`` forever and a symlink to ``/dev/zero`` named
``x.png`` would be read forever; both are refused here at once. The file is opened non-blocking and
checked with ``fstat`` on the open descriptor, so nothing can be swapped in between check and read.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

from fer_core.errors import DataError

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
"""Non-blocking, so that opening a FIFO without a writer returns at once instead of hanging."""

_KINDS: tuple[tuple[int, str], ...] = (
    (stat.S_IFDIR, "a folder"),
    (stat.S_IFIFO, "a FIFO (named pipe)"),
    (stat.S_IFCHR, "a character device"),
    (stat.S_IFBLK, "a block device"),
    (stat.S_IFSOCK, "a socket"),
)


class FileRefusedError(DataError):
    """A file refused before it was read; ``reason`` is a short key ("not a regular file", ...)."""

    def __init__(self, reason: str, message: str, *, strerror: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.strerror = strerror or message


REASON_MISSING = "missing file"
REASON_UNREADABLE = "unreadable file"
REASON_NOT_REGULAR = "not a regular file"
REASON_TOO_LARGE = "file too large"


def describe_kind(mode: int) -> str:
    """'a FIFO (named pipe)', 'a character device', ... for a ``st_mode`` that is not a regular file."""
    file_type = stat.S_IFMT(mode)
    return next((name for kind, name in _KINDS if kind == file_type), "of an unknown kind")


def open_regular_file(path: Path, *, max_bytes: int, what: str) -> io.BufferedReader:
    """Open ``path`` for binary reading, refusing anything but a regular file of at most ``max_bytes``.

    Symlinks are followed, so a link to ``/dev/zero`` is refused as a character device.

    Args:
        path: The file to open.
        max_bytes: Largest size accepted (checked on the open descriptor, before reading).
        what: What the file is meant to be, for messages ("CSV file", "image file").

    Returns:
        An open binary file; the caller closes it.

    Raises:
        FileRefusedError: The file is missing, unreadable, not a regular file or too large; the
            message names the file, the rule and the limit.
    """
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError as error:
        raise FileRefusedError(
            REASON_MISSING, f"{path} does not exist; check the path of the {what}", strerror=error.strerror or ""
        ) from None
    except OSError as error:
        reason = str(error.strerror or error)
        raise FileRefusedError(
            REASON_UNREADABLE, f"Cannot open {path} as {_a(what)}: {reason}", strerror=reason
        ) from None
    try:
        status = os.fstat(descriptor)
        check_regular(path, status, max_bytes=max_bytes, what=what)
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def check_regular(path: Path, status: os.stat_result, *, max_bytes: int, what: str) -> None:
    """Refuse a ``stat`` result that is not a regular file or is larger than ``max_bytes``."""
    if not stat.S_ISREG(status.st_mode):
        raise FileRefusedError(
            REASON_NOT_REGULAR,
            f"{path} is {describe_kind(status.st_mode)}, not a regular file; {_a(what)} must be a regular "
            "file (FIFOs, devices and links to them are refused so that loading cannot hang)"
        )
    if status.st_size > max_bytes:
        raise FileRefusedError(
            REASON_TOO_LARGE,
            f"{path} is {status.st_size:,} bytes, more than the limit of {max_bytes:,} bytes for {_a(what)}; "
            "this guards memory against hostile or mistaken files"
        )


def _a(what: str) -> str:
    """'a CSV file', 'an image file'."""
    return f"{'an' if what[:1].lower() in 'aeiou' else 'a'} {what}"
