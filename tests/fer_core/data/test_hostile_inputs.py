"""Hostile data inputs, generated here: each is refused within seconds by one error naming the file and
the rule, with peak memory far below 1 GB above the interpreter's baseline (measured in a child
process), and leaves no cache entry or half-written file behind."""

from __future__ import annotations

import gzip
import io
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fer_core.data._cache import MAX_CACHE_FILE_BYTES
from fer_core.data._csv import MAX_LINE_BYTES
from fer_core.data._folder import DEFAULT_MAX_IMAGE_BYTES
from fer_core.data._stream import MAX_COMPRESSION_RATIO
from tests.fixtures.data import write_fer_csv
from tests.fixtures.hostile import (
    MAX_PEAK_MB,
    MAX_SECONDS,
    giant_line_csv,
    gzip_bomb,
    measure_loads,
    png_bomb,
    png_bytes,
    sparse_file,
)

_IMPORTS = "from fer_core.data import load_dataset"
_LOAD = "load_dataset(case['path'], cache_dir=case['cache_dir'])"


def _good_face_png(path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((48, 48), 128, dtype=np.uint8)).save(path)


def _folder_with(root: Path, name: str, write: Callable[[Path], object]) -> Path:
    """An image-folder tree with one good face in happy/ and the hostile file ``sad/<name>``."""
    _good_face_png(root / "happy" / "good.png")
    (root / "sad").mkdir(parents=True)
    write(root / "sad" / name)
    return root


def _gzip_pixel_line(path: Path, n_bytes: int) -> Path:
    """A gzip CSV whose second line is ``n_bytes`` of random pixel values (compresses ~3x, like FER2013)."""
    values = np.random.default_rng(0).integers(0, 256, n_bytes // 3)
    text = b"emotion,pixels\n3," + " ".join(map(str, values.tolist())).encode()
    path.write_bytes(gzip.compress(text, compresslevel=1))
    return path


def _npz_bomb(path: Path) -> Path:
    """A cache-shaped .npz whose deflated images.npy declares (and holds) 1 GiB of zeros in a few MB."""
    n_images = (1 << 30) // 2304
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (n_images, 48, 48, 1)}
    )
    zeros = bytes(16 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("images.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            for _ in range(n_images * 2304 // len(zeros)):
                member.write(zeros)
            member.write(bytes(n_images * 2304 % len(zeros)))
        for name, array in (("labels", np.zeros(n_images, dtype=np.int64)), ("meta", np.array("{}"))):
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    return path


def _corpus(root: Path) -> dict[str, tuple[Path, str]]:
    """Every hostile input: name -> (path to load, pattern the one error must match)."""
    root.mkdir()
    fifo_csv = root / "fifo" / "data.csv"
    fifo_csv.parent.mkdir()
    os.mkfifo(fifo_csv)
    zero_csv = root / "zero" / "data.csv"
    zero_csv.parent.mkdir()
    zero_csv.symlink_to("/dev/zero")
    zero_npz = root / "zero" / "data.npz"
    zero_npz.symlink_to("/dev/zero")
    line = f"is longer than {MAX_LINE_BYTES:,} bytes, the limit for one CSV row"
    return {
        "giant CSV line (64 MB)": (giant_line_csv(root / "giant.csv", 64 << 20), rf"giant.csv: line 2 {line}"),
        "gzip CSV holding one 16 MB line of pixel values": (
            _gzip_pixel_line(root / "line.csv.gz", 16 << 20), rf"line.csv.gz: line 2 {line}"
        ),
        "gzip bomb: one 4 GB line in 4 MB": (
            gzip_bomb(root / "bomb.csv.gz", body=b"0", n_gigabytes=4),
            rf"bomb.csv.gz expands more than {MAX_COMPRESSION_RATIO}x when decompressed",
        ),
        "gzip bomb: 4 GB of blank lines": (
            gzip_bomb(root / "blank.csv.gz", body=b"\n", n_gigabytes=4),
            rf"blank.csv.gz expands more than {MAX_COMPRESSION_RATIO}x when decompressed .* the limit for a gzip CSV",
        ),
        "FIFO named data.csv": (fifo_csv, r"fifo/data.csv is a FIFO \(named pipe\), not a regular file"),
        "symlink to /dev/zero named data.csv": (zero_csv, r"zero/data.csv is a character device, not a regular file"),
        "symlink to /dev/zero named data.npz": (zero_npz, r"zero/data.npz is a character device, not a regular file"),
        "npz bomb: 1 GiB deflated member": (_npz_bomb(root / "bomb.npz"), r"bomb.npz has compressed member\(s\) images.npy"),
        "10 GB CSV file": (
            sparse_file(root / "huge.csv", 10 << 30, b"emotion,pixels\n"),
            r"huge.csv is 10,737,418,240 bytes, more than the limit of 4,294,967,296 bytes for a CSV file",
        ),
        "10 GB .npz file": (
            sparse_file(root / "huge.npz", 10 << 30),
            rf"huge.npz is 10,737,418,240 bytes, more than the limit of {MAX_CACHE_FILE_BYTES:,} bytes",
        ),
        "10 GB video in an emotion folder": (
            _folder_with(root / "video", "clip.mp4", lambda path: sparse_file(path, 10 << 30)),
            r"Unsupported file type '.mp4' for .*sad/clip.mp4",
        ),
        "oversized file named .png": (
            _folder_with(root / "big", "big.png", lambda path: sparse_file(path, 2 * DEFAULT_MAX_IMAGE_BYTES)),
            rf"sad/big.png is 67,108,864 bytes, more than the limit of {DEFAULT_MAX_IMAGE_BYTES:,} bytes for an image",
        ),
        "text file named .png": (
            _folder_with(root / "text", "notes.png", lambda path: path.write_text("not an image\n" * 1000)),
            r"Cannot decode .*sad/notes.png as PNG/JPEG: it does not start with a PNG or JPEG signature",
        ),
        "FIFO named x.png": (
            _folder_with(root / "fifo_png", "x.png", os.mkfifo),
            r"sad/x.png is a FIFO \(named pipe\), not a regular file",
        ),
        "symlink to /dev/zero named x.png": (
            _folder_with(root / "zero_png", "x.png", lambda path: path.symlink_to("/dev/zero")),
            r"sad/x.png is a character device, not a regular file",
        ),
        "decompression-bomb PNG (12000x12000, 144 MB decoded)": (
            _folder_with(root / "bomb_png", "bomb.png", lambda path: png_bomb(path, 12_000)),
            r"sad/bomb.png is too large: 12000x12000 = 144,000,000 pixels is more than max_image_pixels=20,000,000",
        ),
        "PNG header declaring 100000x100000": (
            _folder_with(root / "huge_png", "huge.png", lambda path: path.write_bytes(png_bytes(100_000, 100_000, b""))),
            r"sad/huge.png is too large: Image size \(10000000000 pixels\) exceeds limit .* max_image_pixels=20,000,000",
        ),
    }


def test_every_hostile_data_input_is_refused_fast_with_bounded_memory(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "inputs")
    cache_dir = tmp_path / "cache"
    before = sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*"))
    cases = [{"path": str(path), "cache_dir": str(cache_dir)} for path, _ in corpus.values()]

    outcomes = measure_loads(_IMPORTS, _LOAD, cases, cwd=tmp_path)

    assert len(outcomes) == len(corpus) == 17
    for (name, (path, pattern)), outcome in zip(corpus.items(), outcomes):
        assert outcome.raised("DataError"), f"{name}: {outcome.error}"
        assert str(path) in outcome.message, f"{name}: the error does not name the file: {outcome.message}"
        assert re.search(pattern, outcome.message), (
            f"{name}: {outcome.message!r} does not match {pattern!r}"
        )
        assert "\n" not in outcome.message, name
        assert outcome.seconds < MAX_SECONDS, f"{name}: took {outcome.seconds:.1f} s"
        assert outcome.peak_mb < MAX_PEAK_MB, f"{name}: peak {outcome.peak_mb:.0f} MB above the baseline"
    assert not cache_dir.exists(), "a refused load created the cache folder"
    after = sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*"))
    assert after == before, "a refused load left a file behind"


def test_a_failed_load_leaves_no_cache_entry_and_a_good_one_then_caches(tmp_path: Path) -> None:
    """The cache is written only after a whole file parsed; the same folder then gets exactly one entry."""
    from fer_core.data import load_dataset
    from fer_core.errors import DataError

    cache_dir = tmp_path / "cache"
    bad = giant_line_csv(tmp_path / "bad.csv", 2 << 20)
    with pytest.raises(DataError, match=r"bad.csv: line 2 is longer than 65,536 bytes"):
        load_dataset(bad, cache_dir=cache_dir)
    assert not cache_dir.exists()

    images = np.zeros((14, 48, 48, 1), dtype=np.uint8)
    good = write_fer_csv(tmp_path / "good.csv", images, np.arange(14) % 7, np.zeros(14, dtype=np.int64))
    assert len(load_dataset(good, cache_dir=cache_dir)) == 14
    assert [path.suffix for path in cache_dir.iterdir()] == [".npz"]

