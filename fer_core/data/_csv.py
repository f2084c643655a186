"""Load the FER2013 challenge CSV (``emotion,pixels[,Usage]``, plain or gzip) into a FERDataset.

The file is streamed in chunks (decompressed in a background thread); each chunk's lines are split
into fields in Python, and the pixel fields of a block of rows are parsed at once with numpy
(see ``_pixels``). Memory stays at the uint8 result plus a few MB of buffers.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np

from fer_core.data._dataset import FERDataset, LoadReport, Usage
from fer_core.data._files import open_regular_file
from fer_core.data._pixels import ParsedPixels, RowProblem, parse_pixel_spans
from fer_core.data._stream import GZIP_MAGIC, MAX_FILE_BYTES, ByteChunks, read_ahead
from fer_core.emotions import IMAGE_SHAPE, N_CLASSES
from fer_core.errors import DataError

LABEL_COLUMN = "emotion"
PIXELS_COLUMN = "pixels"
USAGE_COLUMN = "Usage"
REQUIRED_COLUMNS: tuple[str, ...] = (LABEL_COLUMN, PIXELS_COLUMN)
KNOWN_COLUMNS: tuple[str, ...] = (LABEL_COLUMN, PIXELS_COLUMN, USAGE_COLUMN)

USAGE_CODES: dict[str, Usage] = {
    "Training": Usage.TRAIN,
    "PublicTest": Usage.VALIDATION,
    "PrivateTest": Usage.TEST,
}
"""FER2013 ``Usage`` values and the split each one means."""

REASON_FIELDS = "wrong field count"
REASON_LABEL = "bad emotion label"
REASON_USAGE = "unknown Usage"
N_EXAMPLES: int = 5
"""Skipped rows quoted in the report (the first ones)."""

MAX_LINE_BYTES: int = 64 * 1024
"""Longest CSV line accepted (a FER2013 row is 8-10 KB): a line without end cannot fill memory."""

ROWS_PER_PARSE: int = 128
"""Rows whose pixels are parsed together: ~1 MB of text keeps numpy's temporaries in cache."""

_LABEL_CODES = {str(code).encode(): code for code in range(N_CLASSES)}
_USAGE_BYTES = {name.encode(): int(code) for name, code in USAGE_CODES.items()}
_USAGE_BYTES_FOLDED = {name.lower(): code for name, code in _USAGE_BYTES.items()}
_STRIP = b' \t\r"'
_STRIP_BYTES = frozenset(_STRIP)
_UTF8_BOM = b"\xef\xbb\xbf"
_PAD = b"   "
"""Spaces before the text of each chunk: the pixel parser looks up to 3 bytes behind a value."""
_SPACES = b" " * 256
_NEWLINE = ord("\n")
_BLANK_LINE = RowProblem("blank line", "")
"""Marker for lines holding only whitespace: ignored, not counted as rows."""


@dataclass(frozen=True)
class _Columns:
    """Position of each column in a row, from the header."""

    n_fields: int
    label: int
    pixels: int
    usage: int | None
    names: tuple[str, ...]


@dataclass
class _Accumulator:
    """Rows parsed so far and the rows skipped (with reasons)."""

    skip_bad_rows: bool
    path: Path
    images: list[np.ndarray] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    usage: list[int] = field(default_factory=list)
    n_rows: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def reject(self, line_number: int, problem: RowProblem) -> None:
        """Skip a bad row, or raise when skipping is off."""
        if not self.skip_bad_rows:
            raise DataError(
                f"{self.path}: line {line_number}: {problem.detail}. Fix the row, or pass "
                "skip_bad_rows=True to skip bad rows (they are counted in the load report)"
            )
        self.reasons[problem.reason] += 1
        if len(self.examples) < N_EXAMPLES:
            self.examples.append(f"line {line_number}: {problem.detail}")


def load_csv(path: str | PathLike[str], *, skip_bad_rows: bool = False) -> FERDataset:
    """Load a FER2013-style CSV (``emotion,pixels[,Usage]``; plain or gzip) without any cache.

    Columns are found by header name (case-insensitive; any order; ``Usage`` optional). Fields may
    be quoted; CRLF line ends and blank lines are accepted.

    Args:
        path: The ``.csv`` or ``.csv.gz`` file.
        skip_bad_rows: Skip rows that break a rule (and count them in ``report``) instead of raising.

    Returns:
        The dataset; ``usage`` is None when the file has no ``Usage`` column.

    Raises:
        DataError: A missing/unreadable file, a bad header, a bad row (file, line number and rule
            in the message; unless ``skip_bad_rows``), or no valid row at all.
    """
    path = Path(path)
    _check_readable_file(path)
    chunks = ByteChunks(path)
    if path.name.lower().endswith(".gz") and not chunks.gzipped:
        raise DataError(
            f"{path} is named .gz but is not a gzip file (it does not start with {GZIP_MAGIC!r}); "
            "rename it to .csv or compress it with gzip"
        )
    accumulator = _Accumulator(skip_bad_rows=skip_bad_rows, path=path)
    with contextlib.closing(read_ahead(iter(chunks))) as decompressed:
        columns = _read_rows(decompressed, path, accumulator)
    return _dataset(accumulator, columns, path, chunks.hexdigest())


def _check_readable_file(path: Path) -> None:
    """Fail early, with the path, when the file is missing, not a regular file, or too large."""
    if path.is_dir():
        raise DataError(f"{path} is not a file but a folder; pass a .csv/.csv.gz file or use load_dataset()")
    open_regular_file(path, max_bytes=MAX_FILE_BYTES, what="CSV file").close()


def _read_rows(chunks: Iterator[bytes], path: Path, accumulator: _Accumulator) -> _Columns:
    """Parse the header, then every block of complete lines, into ``accumulator``."""
    columns: _Columns | None = None
    line_number = 1
    for text in _complete_lines(chunks, path):
        start = len(_PAD)
        if columns is None:
            start = text.find(b"\n", start) + 1
            columns = _parse_header(bytes(text[len(_PAD) : start - 1]), path)
            _blank(text, len(_PAD), start)
            line_number += 1
        line_number = _parse_lines(text, start, len(text), line_number, columns, accumulator)
    if columns is None:
        raise DataError(
            f"{path} is empty; expected a header line '{','.join(KNOWN_COLUMNS)}' followed by one "
            "row per image"
        )
    return columns


def _complete_lines(chunks: Iterator[bytes], path: Path) -> Iterator[bytearray]:
    """Regroup chunks into writable buffers of whole lines, each buffer led by three spaces.

    Every yielded line ends with a newline (one is added to a last line that lacks it). The pieces of
    a line that spans chunks are kept in a list and joined once, so no byte is copied twice, and a
    line longer than ``MAX_LINE_BYTES`` is refused as soon as that much of it has been read.
    """
    pieces: list[bytes] = []
    n_carried = 0
    n_lines = 0
    for chunk in chunks:
        end = chunk.rfind(b"\n") + 1
        if not end:
            pieces.append(chunk)
            n_carried += len(chunk)
            _check_line_length(n_carried, n_lines + 1, path)
            continue
        _check_line_length(n_carried + chunk.find(b"\n"), n_lines + 1, path)
        text = bytearray(_PAD)
        for piece in pieces:
            text += piece
        text += memoryview(chunk)[:end]
        n_lines = _check_line_lengths(text, n_lines, path)
        pieces = [chunk[end:]] if end < len(chunk) else []
        n_carried = len(chunk) - end
        _check_line_length(n_carried, n_lines + 1, path)
        yield text
    if any(piece.strip() for piece in pieces):
        yield bytearray(_PAD) + b"".join(pieces) + b"\n"


def _check_line_length(n_bytes: int, line_number: int, path: Path) -> None:
    """Refuse a line of more than ``MAX_LINE_BYTES`` (before it is read whole)."""
    if n_bytes > MAX_LINE_BYTES:
        raise DataError(
            f"{path}: line {line_number} is longer than {MAX_LINE_BYTES:,} bytes, the limit for one CSV "
            "row (a FER2013 row is about 10 KB); this is not a FER CSV, or its line ends are missing"
        )


def _check_line_lengths(text: bytearray, n_lines_before: int, path: Path) -> int:
    """Refuse a block of complete lines if any exceeds ``MAX_LINE_BYTES``; return the lines read so far."""
    newlines = np.flatnonzero(np.frombuffer(text, dtype=np.uint8) == _NEWLINE)
    lengths = np.diff(newlines, prepend=len(_PAD) - 1) - 1
    too_long = np.flatnonzero(lengths > MAX_LINE_BYTES)
    if len(too_long):
        _check_line_length(int(lengths[too_long[0]]), n_lines_before + int(too_long[0]) + 1, path)
    return n_lines_before + len(newlines)


def _parse_header(line: bytes, path: Path) -> _Columns:
    """Map the header's column names to positions; unknown, repeated or missing names are an error."""
    if line.startswith(_UTF8_BOM):
        line = line[len(_UTF8_BOM) :]
    found = tuple(name.strip(_STRIP).decode("utf-8", "replace") for name in line.split(b","))
    by_name = {name.lower(): position for position, name in enumerate(found)}
    known = {name.lower() for name in KNOWN_COLUMNS}
    missing = [name for name in REQUIRED_COLUMNS if name.lower() not in by_name]
    unknown = [name for name in found if name.lower() not in known]
    if missing or unknown or len(by_name) != len(found):
        raise DataError(
            f"{path}: line 1: the header must name the columns {', '.join(REQUIRED_COLUMNS)} and "
            f"optionally {USAGE_COLUMN} (any order, each once), found {', '.join(map(repr, found))}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(map(repr, unknown))}" if unknown else "")
        )
    return _Columns(
        n_fields=len(found),
        label=by_name[LABEL_COLUMN],
        pixels=by_name[PIXELS_COLUMN],
        usage=by_name.get(USAGE_COLUMN.lower()),
        names=found,
    )


def _parse_lines(
    text: bytearray, start: int, end: int, line_number: int, columns: _Columns, accumulator: _Accumulator
) -> int:
    """Parse the complete lines in ``text[start:end]``; return the number of the next line.

    Each good row's pixel text is parsed in place: everything around it (other columns, commas,
    quotes, line ends) and every bad or blank line is overwritten with spaces, so a block of rows is
    one numpy buffer with known row spans.
    """
    rows = _RowBlock()
    while start < end:
        newline = text.find(b"\n", start, end)
        problem = _scan_line(text, start, newline, columns, rows)
        if problem is not None:
            _blank(text, start, newline + 1)
            if problem is not _BLANK_LINE:
                accumulator.n_rows += 1
                rows.problems[line_number] = problem
        else:
            accumulator.n_rows += 1
            rows.lines.append(line_number)
        if len(rows.lines) == ROWS_PER_PARSE:
            rows.flush(text, accumulator)
            rows = _RowBlock()
        start = newline + 1
        line_number += 1
    rows.flush(text, accumulator)
    return line_number


def _scan_line(
    text: bytearray, start: int, newline: int, columns: _Columns, rows: _RowBlock
) -> RowProblem | None:
    """Check one line's fields; for a good row record its label, usage and pixel span."""
    bounds = [start - 1]
    comma = text.find(b",", start, newline)
    while comma >= 0 and len(bounds) <= columns.n_fields:
        bounds.append(comma)
        comma = text.find(b",", comma + 1, newline)
    if comma >= 0 or len(bounds) != columns.n_fields:
        if not text[start:newline].strip():
            return _BLANK_LINE
        n_found = len(bounds) + (text.count(b",", comma, newline) if comma >= 0 else 0)
        return RowProblem(
            REASON_FIELDS,
            f"expected {columns.n_fields} comma-separated fields ({', '.join(columns.names)}), "
            f"found {n_found}",
        )
    bounds.append(newline)
    label = bytes(text[bounds[columns.label] + 1 : bounds[columns.label + 1]]).strip(_STRIP)
    code = _LABEL_CODES.get(label)
    if code is None:
        return RowProblem(
            REASON_LABEL, f"emotion must be an integer in 0..{N_CLASSES - 1} (got {_shown(label)})"
        )
    usage = -1
    if columns.usage is not None:
        value = bytes(text[bounds[columns.usage] + 1 : bounds[columns.usage + 1]]).strip(_STRIP)
        usage = _usage_code(value)
        if usage < 0:
            return RowProblem(
                REASON_USAGE, f"Usage must be one of {', '.join(USAGE_CODES)} (got {_shown(value)})"
            )
    pixel_start, pixel_end = bounds[columns.pixels] + 1, bounds[columns.pixels + 1]
    while pixel_start < pixel_end and text[pixel_start] in _STRIP_BYTES:
        pixel_start += 1
    while pixel_end > pixel_start and text[pixel_end - 1] in _STRIP_BYTES:
        pixel_end -= 1
    _blank(text, start, pixel_start)
    _blank(text, pixel_end, newline + 1)
    rows.labels.append(code)
    rows.usage.append(usage)
    rows.starts.append(pixel_start)
    rows.ends.append(pixel_end)
    return None


def _blank(text: bytearray, start: int, end: int) -> None:
    """Overwrite ``text[start:end]`` with spaces."""
    if end > start:
        text[start:end] = _SPACES[: end - start] if end - start <= len(_SPACES) else b" " * (end - start)


@dataclass
class _RowBlock:
    """Up to ROWS_PER_PARSE good rows (spans in the text) and the problems met since the last flush."""

    lines: list[int] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    usage: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    problems: dict[int, RowProblem] = field(default_factory=dict)

    def flush(self, text: bytearray, accumulator: _Accumulator) -> None:
        """Parse the rows' pixels and hand good rows and problems (in line order) to the accumulator."""
        parsed = self._parse(text)
        for position, problem in parsed.problems.items():
            self.problems[self.lines[position]] = problem
        for line_number in sorted(self.problems):
            accumulator.reject(line_number, self.problems[line_number])
        keep = [position not in parsed.problems for position in range(len(self.lines))]
        accumulator.images.append(parsed.values)
        accumulator.labels.extend(label for label, kept in zip(self.labels, keep) if kept)
        accumulator.usage.extend(code for code, kept in zip(self.usage, keep) if kept)

    def _parse(self, text: bytearray) -> ParsedPixels:
        if not self.lines:
            no_rows = np.empty(0, dtype=np.int64)
            return parse_pixel_spans(np.empty(0, dtype=np.uint8), no_rows, no_rows)
        offset = self.starts[0] - len(_PAD)
        buffer = np.frombuffer(text, dtype=np.uint8)[offset : self.ends[-1] + 1]
        starts = np.asarray(self.starts, dtype=np.int64) - offset
        ends = np.asarray(self.ends, dtype=np.int64) - offset
        return parse_pixel_spans(buffer, starts, ends)


def _usage_code(value: bytes) -> int:
    """Split code of a Usage field (case-insensitive), or -1 when unknown."""
    value = value.strip(_STRIP)
    code = _USAGE_BYTES.get(value)
    return code if code is not None else _USAGE_BYTES_FOLDED.get(value.lower(), -1)


def _shown(value: bytes) -> str:
    """A field as quoted text for messages, shortened when long."""
    text = value.decode("utf-8", "replace")
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _dataset(accumulator: _Accumulator, columns: _Columns, path: Path, content_hash: str) -> FERDataset:
    """Assemble the parsed blocks into a FERDataset (one uint8 copy)."""
    n_kept = len(accumulator.labels)
    n_skipped = sum(accumulator.reasons.values())
    if accumulator.n_rows == 0:
        raise DataError(f"{path} has a header but no data rows; expected one row per image")
    if n_kept == 0:
        raise DataError(
            f"{path}: all {accumulator.n_rows} rows are bad ({_reasons_text(accumulator.reasons)}), "
            f"e.g. {accumulator.examples[0]}; nothing to load"
        )
    images = np.concatenate(accumulator.images) if len(accumulator.images) > 1 else accumulator.images[0]
    report = LoadReport(
        n_rows=accumulator.n_rows,
        n_skipped=n_skipped,
        skipped_reasons=dict(accumulator.reasons),
        skipped_examples=tuple(accumulator.examples),
    )
    return FERDataset(
        images=images.reshape((n_kept, *IMAGE_SHAPE)),
        labels=np.asarray(accumulator.labels, dtype=np.int64),
        usage=np.asarray(accumulator.usage, dtype=np.uint8) if columns.usage is not None else None,
        source=str(path),
        content_hash=content_hash,
        report=report,
    )


def _reasons_text(reasons: Counter[str]) -> str:
    """'12 wrong pixel count, 1 bad emotion label' (most frequent first)."""
    return ", ".join(f"{count} {reason}" for reason, count in reasons.most_common())

