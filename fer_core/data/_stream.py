"""Read a plain or gzip-compressed file as decompressed byte chunks, hashing its bytes on the way.

Decompression (zlib releases the GIL) runs in a background thread, so it overlaps with parsing.
Memory is bounded whatever the file holds: only regular files are opened, each decompression step
yields at most ``MAX_CHUNK_BYTES``, and the total text and the compression ratio are capped, so a small
``.csv.gz`` that expands to gigabytes fails after a few megabytes.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path

from fer_core.data._files import open_regular_file
from fer_core.errors import DataError

GZIP_MAGIC: bytes = b"\x1f\x8b"
HASH_ALGORITHM: str = "sha256"
READ_SIZE: int = 1 << 20
"""Raw bytes read per chunk (about 3 MB once FER2013 is decompressed: ~370 rows)."""

MAX_FILE_BYTES: int = 4 << 30
"""Largest CSV file read, compressed or not (FER2013 is 96 MB gzip, 290 MB plain)."""
MAX_TEXT_BYTES: int = 4 << 30
"""Largest total of (decompressed) text read from one CSV: ~1.7 GB of uint8 faces at FER2013's density."""
MAX_COMPRESSION_RATIO: int = 200
"""Largest decompressed/compressed ratio of a gzip CSV (FER2013: 3); higher is a decompression bomb."""
RATIO_CHECK_AFTER_BYTES: int = 1 << 20
"""The ratio is checked once this much text came out, so that tiny well-compressed files pass."""
MAX_CHUNK_BYTES: int = 4 << 20
"""Most decompressed bytes produced by one decompression step (zlib's ``max_length``)."""

_READ_AHEAD_CHUNKS = 4
_POLL_SECONDS = 0.05
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_WHAT = "CSV file"


def file_hash(path: Path) -> str:
    """Hex digest of a file's bytes (read in chunks, never whole); only regular files are read."""
    with open_regular_file(path, max_bytes=MAX_FILE_BYTES, what=_WHAT) as handle:
        return hashlib.file_digest(handle, HASH_ALGORITHM).hexdigest()


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes (refusing FIFOs, devices, huge files)."""
    with open_regular_file(path, max_bytes=MAX_FILE_BYTES, what=_WHAT) as handle:
        return handle.read(len(GZIP_MAGIC)) == GZIP_MAGIC


class ByteChunks:
    """Iterate over a file's (decompressed) bytes in chunks; ``hexdigest`` is ready once exhausted.

    Args:
        path: A plain file, or a gzip file (recognised by its magic bytes, several members allowed).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.gzipped = is_gzip(path)
        self._hasher = hashlib.new(HASH_ALGORITHM)
        self._done = False
        self._n_raw = 0
        self._n_text = 0

    def hexdigest(self) -> str:
        """Digest of the file's raw (compressed) bytes; only valid after the whole file was read."""
        if not self._done:
            raise RuntimeError("hexdigest() is only known once every chunk was read")
        return self._hasher.hexdigest()

    def __iter__(self) -> Iterator[bytes]:
        with open_regular_file(self.path, max_bytes=MAX_FILE_BYTES, what=_WHAT) as handle:
            raw_chunks = iter(lambda: handle.read(READ_SIZE), b"")
            chunks = self._gunzip(raw_chunks) if self.gzipped else self._hashed(raw_chunks)
            for chunk in chunks:
                self._count_text(len(chunk))
                yield chunk
        self._done = True

    def _hashed(self, raw_chunks: Iterator[bytes]) -> Iterator[bytes]:
        for raw in raw_chunks:
            if not self.gzipped:
                self._n_raw += len(raw)
            self._hasher.update(raw)
            yield raw

    def _gunzip(self, raw_chunks: Iterator[bytes]) -> Iterator[bytes]:
        decompressor = zlib.decompressobj(_GZIP_WBITS)
        for raw in self._hashed(raw_chunks):
            try:
                while True:
                    text = decompressor.decompress(raw, MAX_CHUNK_BYTES)
                    left = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
                    self._n_raw += len(raw) - len(left)
                    if text:
                        yield text
                    if decompressor.eof and left:  # a further gzip member starts here
                        raw = left
                        decompressor = zlib.decompressobj(_GZIP_WBITS)
                        continue
                    raw = decompressor.unconsumed_tail
                    if not raw and len(text) < MAX_CHUNK_BYTES:
                        break  # this raw chunk is used up and zlib holds no pending output
            except zlib.error as exc:
                raise DataError(
                    f"{self.path} is not a readable gzip file ({exc}); re-download or re-compress it"
                ) from None
        if not decompressor.eof:
            raise DataError(f"{self.path} is a truncated gzip file; re-download or re-compress it")

    def _count_text(self, n_bytes: int) -> None:
        """Refuse a file whose text exceeds ``MAX_TEXT_BYTES`` or, gzip, ``MAX_COMPRESSION_RATIO``."""
        self._n_text += n_bytes
        if self._n_text > MAX_TEXT_BYTES:
            raise DataError(
                f"{self.path} holds more than {MAX_TEXT_BYTES:,} bytes of text, the limit for a CSV file; "
                "split the file or check that it is the FER CSV you meant"
            )
        ratio = self._n_text / max(self._n_raw, 1)
        if self.gzipped and self._n_text > RATIO_CHECK_AFTER_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise DataError(
                f"{self.path} expands more than {MAX_COMPRESSION_RATIO}x when decompressed "
                f"({self._n_raw:,} bytes gave over {self._n_text:,}), the limit for a gzip CSV: a "
                "decompression bomb or not a FER CSV; FER2013 expands about 3x"
            )


def read_ahead(chunks: Iterator[bytes], depth: int = _READ_AHEAD_CHUNKS) -> Generator[bytes, None, None]:
    """Produce ``chunks`` in a background thread, up to ``depth`` ahead of the consumer.

    Errors raised while producing are re-raised in the consumer; closing the returned generator
    (or abandoning it) stops the thread.
    """
    slots: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                slots.put((kind, value), timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not offer("chunk", chunk):
                    return
            offer("end", None)
        except BaseException as exc:  # noqa: BLE001 - handed over to the consumer, which re-raises
            offer("error", exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # releases the open file when the consumer stopped early

    worker = threading.Thread(target=produce, name="fer-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "chunk":
                yield value  # type: ignore[misc]
            elif kind == "error":
                raise value  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
        worker.join()
