"""Vectorised parsing of space-separated pixel fields ("12 255 0 ...") into uint8 rows.

Python's ``int()`` per token costs ~80 M calls for FER2013; instead a whole block of rows is joined
into one bytes buffer and parsed with numpy: a digit mask finds the last digit of every token, the
value is combined from the (at most three) digits before it, and token counts per row come from
the row boundaries. Rows that break a rule are reported, not parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from fer_core.emotions import IMAGE_SIZE

N_PIXELS: int = IMAGE_SIZE * IMAGE_SIZE
"""Pixel values per row (48 x 48)."""

MAX_PIXEL_DIGITS: int = 3
_SPACE = ord(" ")
_ZERO = ord("0")
_PAD = b" " * MAX_PIXEL_DIGITS
"""Leading spaces so that looking three bytes behind a token's last digit never leaves the buffer."""

REASON_COUNT = "wrong pixel count"
REASON_NON_NUMERIC = "non-numeric pixel"
REASON_TOO_LARGE = "pixel > 255"


@dataclass(frozen=True)
class RowProblem:
    """Why one row was rejected.

    Args:
        reason: Short category used to count skipped rows (e.g. ``"pixel > 255"``).
        detail: The rule and the offending value, for the error message.
    """

    reason: str
    detail: str


@dataclass(frozen=True)
class ParsedPixels:
    """The outcome of parsing a block of pixel fields.

    Args:
        values: uint8 array (n_good, 2304) holding the rows without problems, in input order.
        problems: Row position in the block -> what is wrong with it (rows absent from ``values``).
    """

    values: np.ndarray
    problems: dict[int, RowProblem] = field(default_factory=dict)


def parse_pixel_rows(fields: Sequence[bytes]) -> ParsedPixels:
    """Parse pixel fields (one per row) into uint8 rows of 2304 values.

    Args:
        fields: The ``pixels`` field of each row, e.g. ``b"70 80 82 ..."`` (runs of spaces are
            tolerated; any other non-digit byte is not).

    Returns:
        The parsed rows and the problems of the rows that could not be parsed.
    """
    lengths = np.fromiter(map(len, fields), dtype=np.int64, count=len(fields))
    row_starts = len(_PAD) + np.concatenate(([0], np.cumsum(lengths + 1)[:-1])).astype(np.int64)
    buffer = np.frombuffer(_PAD + b" ".join(fields) + b" ", dtype=np.uint8)
    return parse_pixel_spans(buffer, row_starts, row_starts + lengths)


def parse_pixel_spans(buffer: np.ndarray, row_starts: np.ndarray, row_ends: np.ndarray) -> ParsedPixels:
    """Parse rows that lie in one text buffer, each at ``buffer[row_starts[i]:row_ends[i]]``.

    Args:
        buffer: uint8 text. Every byte outside the spans must be a space, with at least three of
            them before the first span and one after the last (callers blank other columns).
        row_starts: Start offset of each row's pixel text, increasing.
        row_ends: End offset (exclusive) of each row's pixel text.

    Returns:
        The parsed rows and the problems of the rows that could not be parsed.
    """
    n_rows = len(row_starts)
    if n_rows == 0:
        return ParsedPixels(values=np.empty((0, N_PIXELS), dtype=np.uint8))
    digits = buffer - np.uint8(_ZERO)  # wraps for non-digits, so `digits < 10` is the digit mask
    is_digit = digits < 10

    problems: dict[int, RowProblem] = {}
    _find_bad_bytes(buffer, is_digit, row_ends, problems)
    token_ends = np.flatnonzero(is_digit[:-1] & ~is_digit[1:])
    n_tokens = np.diff(np.searchsorted(token_ends, row_ends), prepend=0)
    _find_bad_counts(n_tokens, problems)
    values, too_large = _token_values(digits, is_digit, token_ends)
    if too_large is not None:
        _find_too_large(too_large, token_ends, row_ends, buffer, problems)
    if not problems:
        return ParsedPixels(values=values.reshape(n_rows, N_PIXELS))
    return ParsedPixels(values=_good_rows(values, n_tokens, problems, n_rows), problems=problems)


def _token_values(
    digits: np.ndarray, is_digit: np.ndarray, token_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """uint8 value of every token and a mask of the tokens above 255 (None when there are none).

    The arithmetic runs on the whole (cache-sized) buffer in uint8, which is far cheaper than
    per-token gathers: at every byte, ``ones_tens`` = digit + 10 * previous digit and ``hundreds`` =
    the digit two bytes back when the byte before is a digit too; both are then read at the token
    ends only. A 4th digit (anything >= 1000, or leading zeros) counts as too large.
    """
    zeroed = np.multiply(digits, is_digit, out=digits)  # 0 at spaces (``digits`` is not needed after)
    ones_tens = np.empty_like(zeroed)
    np.multiply(zeroed[:-1], np.uint8(10), out=ones_tens[1:])
    ones_tens[1:] += zeroed[1:]
    hundreds = np.empty_like(zeroed)
    np.multiply(zeroed[:-2], is_digit[1:-1], out=hundreds[2:])
    low = ones_tens[token_ends]
    high = hundreds[token_ends]
    too_large = (high > 2) | ((high == 2) & (low > 55))
    four_digits = is_digit[:-3] & is_digit[1:-2]
    four_digits &= is_digit[2:-1]
    four_digits &= is_digit[3:]
    if four_digits.any():
        too_large |= four_digits[token_ends - 3]
    values = low + high * np.uint8(100)  # wraps only where `too_large` is set
    return values, (too_large if too_large.any() else None)


def _find_bad_bytes(
    buffer: np.ndarray, is_digit: np.ndarray, row_ends: np.ndarray, problems: dict[int, RowProblem]
) -> None:
    """Record rows holding a byte that is neither a digit nor a space."""
    is_space = buffer == _SPACE
    if np.count_nonzero(is_digit) + np.count_nonzero(is_space) == len(buffer):
        return  # counting is cheaper than combining the masks
    positions = np.flatnonzero(~(is_digit | is_space))
    rows = np.searchsorted(row_ends, positions, side="right")
    first_rows, first_index = np.unique(rows, return_index=True)
    for row, position in zip(first_rows.tolist(), positions[first_index].tolist()):
        token = _token_around(buffer, position)
        problems.setdefault(
            row,
            RowProblem(REASON_NON_NUMERIC, f"non-numeric pixel value {token!r} (only digits and spaces)"),
        )


def _find_bad_counts(n_tokens: np.ndarray, problems: dict[int, RowProblem]) -> None:
    """Record rows whose number of pixel values is not 2304."""
    for row in np.flatnonzero(n_tokens != N_PIXELS).tolist():
        problems.setdefault(
            row, RowProblem(REASON_COUNT, f"{int(n_tokens[row])} pixels, expected {N_PIXELS} (48x48)")
        )


def _find_too_large(
    too_large: np.ndarray,
    token_ends: np.ndarray,
    row_ends: np.ndarray,
    buffer: np.ndarray,
    problems: dict[int, RowProblem],
) -> None:
    """Record rows holding a value above 255 (or with more than three digits)."""
    tokens = np.flatnonzero(too_large)
    rows = np.searchsorted(row_ends, token_ends[tokens], side="right")
    first_rows, first_index = np.unique(rows, return_index=True)
    for row, token in zip(first_rows.tolist(), tokens[first_index].tolist()):
        text = _token_around(buffer, int(token_ends[token]))
        problems.setdefault(row, RowProblem(REASON_TOO_LARGE, f"pixel value {text!r} > 255"))


def _good_rows(
    values: np.ndarray, n_tokens: np.ndarray, problems: dict[int, RowProblem], n_rows: int
) -> np.ndarray:
    """The values of the rows without problems, as uint8 (n_good, 2304)."""
    good = np.ones(n_rows, dtype=bool)
    good[list(problems)] = False
    token_row = np.repeat(np.arange(n_rows), n_tokens)
    return values[good[token_row]].reshape(-1, N_PIXELS)


def _token_around(buffer: np.ndarray, position: int) -> str:
    """The space-delimited text around ``position`` (for error messages)."""
    start = position
    while start > 0 and buffer[start - 1] != _SPACE:
        start -= 1
    end = position + 1
    while end < len(buffer) and buffer[end] != _SPACE and end - start < 20:
        end += 1
    return bytes(buffer[start:end]).decode("latin-1")
