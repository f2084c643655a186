"""The FER2013 CSV loader: layouts, the vectorised pixel parser, every bad-input rule, skipping."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest

from fer_core.data import FERDataset, Usage, _csv, _stream, load_csv
from fer_core.data._pixels import parse_pixel_rows
from fer_core.errors import DataError

USAGE_NAMES = ("Training", "PublicTest", "PrivateTest")


def make_rows(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random images (n, 48, 48) uint8, labels and usage codes."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 48, 48), dtype=np.uint8)
    images[0, 0, :4] = (0, 9, 10, 255)  # 1-, 2- and 3-digit values at the edges of the ranges
    return images, rng.integers(0, 7, size=n), rng.integers(0, 3, size=n)


def csv_text(
    images, labels, usage=None, *, columns=("emotion", "pixels", "Usage"), quote=False, newline="\n"
) -> str:
    """The CSV text of the rows in the given column order."""
    lines = [",".join(columns)]
    for index, image in enumerate(images):
        fields = {
            "emotion": str(labels[index]),
            "pixels": " ".join(map(str, image.ravel().tolist())),
            "usage": USAGE_NAMES[usage[index]] if usage is not None else "",
        }
        values = [fields[name.lower()] for name in columns]
        lines.append(",".join(f'"{v}"' if quote else v for v in values))
    return newline.join(lines) + newline


def write(path: Path, text: str) -> Path:
    """Write text (gzip-compressed when the name ends with .gz)."""
    data = text.encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def assert_rows(ds: FERDataset, images, labels, usage) -> None:
    np.testing.assert_array_equal(ds.images[..., 0], images)
    np.testing.assert_array_equal(ds.labels, labels)
    assert ds.images.dtype == np.uint8 and ds.labels.dtype == np.int64
    if usage is None:
        assert ds.usage is None
    else:
        np.testing.assert_array_equal(ds.usage, usage)
        assert ds.usage.dtype == np.uint8


@pytest.fixture
def rows():
    return make_rows(12)


@pytest.mark.parametrize("name", ["faces.csv", "faces.csv.gz"])
def test_loads_plain_and_gzip(tmp_path, rows, name):
    path = write(tmp_path / name, csv_text(*rows))
    ds = load_csv(path)
    assert_rows(ds, *rows)
    assert ds.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ds.source == str(path)
    assert (ds.report.n_rows, ds.report.n_skipped, ds.report.from_cache) == (12, 0, False)
    assert Usage(int(ds.usage[0])).name in {"TRAIN", "VALIDATION", "TEST"}


def test_without_usage_column_usage_is_none(tmp_path, rows):
    images, labels, _ = rows
    ds = load_csv(write(tmp_path / "f.csv", csv_text(images, labels, columns=("emotion", "pixels"))))
    assert_rows(ds, images, labels, None)


def test_column_order_comes_from_the_header(tmp_path, rows):
    path = write(tmp_path / "f.csv", csv_text(*rows, columns=("Usage", "pixels", "Emotion")))
    assert_rows(load_csv(path), *rows)


def test_quoted_fields_crlf_bom_blank_lines_and_no_final_newline(tmp_path, rows):
    text = csv_text(*rows, quote=True, newline="\r\n")
    text = "\ufeff" + text.replace("\r\n", "\r\n\r\n", 2).rstrip("\r\n")
    assert_rows(load_csv(write(tmp_path / "f.csv", text)), *rows)


def test_pixels_as_last_column_with_pixels_first_row(tmp_path, rows):
    images, labels, usage = rows
    path = write(tmp_path / "f.csv", csv_text(images, labels, usage, columns=("pixels", "emotion")))
    assert_rows(load_csv(path), images, labels, None)


def test_multi_member_gzip(tmp_path, rows):
    images, labels, usage = rows
    head = csv_text(images[:5], labels[:5], usage[:5])
    tail = csv_text(images[5:], labels[5:], usage[5:]).split("\n", 1)[1]
    path = tmp_path / "f.csv.gz"
    path.write_bytes(gzip.compress(head.encode()) + gzip.compress(tail.encode()))
    assert_rows(load_csv(path), *rows)


def test_chunk_and_block_boundaries_do_not_matter(tmp_path, monkeypatch):
    rows = make_rows(40, seed=3)
    path = write(tmp_path / "f.csv.gz", csv_text(*rows))
    monkeypatch.setattr(_stream, "READ_SIZE", 777)  # lines split across many chunks
    monkeypatch.setattr(_csv, "ROWS_PER_PARSE", 3)
    assert_rows(load_csv(path), *rows)


def test_pixel_parser_tolerates_runs_of_spaces():
    parsed = parse_pixel_rows([b"  7   " + b" ".join([b"255"] * 2303) + b"  "])
    assert parsed.problems == {}
    assert parsed.values.shape == (1, 2304) and parsed.values[0, 0] == 7 and parsed.values[0, 1] == 255


# --- bad input -------------------------------------------------------------------------------


def replace_line(text: str, line_number: int, new_line: str) -> str:
    lines = text.split("\n")
    lines[line_number - 1] = new_line
    return "\n".join(lines)


def row(label="3", pixels=None, usage="Training") -> str:
    pixels = pixels if pixels is not None else " ".join(["1"] * 2304)
    return ",".join(x for x in (label, pixels, usage) if x is not None)


BAD_ROWS = [
    (row(pixels=" ".join(["1"] * 2303)), r"line 3: 2303 pixels, expected 2304"),
    (row(pixels=" ".join(["1"] * 2305)), r"line 3: 2305 pixels, expected 2304"),
    (row(pixels="1 x " + " ".join(["1"] * 2302)), r"line 3: non-numeric pixel value 'x'"),
    (row(pixels="-1 " + " ".join(["1"] * 2303)), r"line 3: non-numeric pixel value '-1'"),
    (row(pixels="1.5 " + " ".join(["1"] * 2303)), r"line 3: non-numeric pixel value '1.5'"),
    (row(pixels="256 " + " ".join(["1"] * 2303)), r"line 3: pixel value '256' > 255"),
    (row(pixels=" ".join(["1"] * 2303) + " 1000"), r"line 3: pixel value '1000' > 255"),
    (row(label="7"), r"line 3: emotion must be an integer in 0..6 \(got '7'\)"),
    (row(label="happy"), r"line 3: emotion must be an integer in 0..6 \(got 'happy'\)"),
    (row(label=""), r"line 3: emotion must be an integer in 0..6 \(got ''\)"),
    (row(usage="Train"), r"line 3: Usage must be one of Training, PublicTest, PrivateTest \(got 'Train'\)"),
    (row(usage=None), r"line 3: expected 3 comma-separated fields \(emotion, pixels, Usage\), found 2"),
    (row() + ",extra", r"line 3: expected 3 comma-separated fields \(emotion, pixels, Usage\), found 4"),
]


@pytest.mark.parametrize(("bad_row", "message"), BAD_ROWS)
def test_bad_row_names_file_line_and_rule(tmp_path, rows, bad_row, message):
    path = write(tmp_path / "f.csv", replace_line(csv_text(*rows), 3, bad_row))
    with pytest.raises(DataError, match=message) as caught:
        load_csv(path)
    assert str(path) in str(caught.value) and "skip_bad_rows=True" in str(caught.value)


def test_first_bad_row_of_a_later_block_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(_csv, "ROWS_PER_PARSE", 4)
    text = csv_text(*make_rows(20))
    text = replace_line(text, 15, row(pixels="300 " + " ".join(["1"] * 2303)))
    text = replace_line(text, 17, row(label="9"))
    with pytest.raises(DataError, match=r"line 15: pixel value '300' > 255"):
        load_csv(write(tmp_path / "f.csv", text))


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("emotion,pixel,Usage", r"missing pixels; unknown 'pixel'"),
        ("label,pixels,Usage", r"missing emotion; unknown 'label'"),
        ("emotion,pixels,Usage,extra", r"unknown 'extra'"),
        ("emotion,pixels,pixels", r"each once"),
    ],
)
def test_bad_header_lists_expected_and_found_columns(tmp_path, rows, header, message):
    path = write(tmp_path / "f.csv", replace_line(csv_text(*rows), 1, header))
    expected = r"line 1: the header must name the columns emotion, pixels .*found"
    with pytest.raises(DataError, match=expected) as caught:
        load_csv(path)
    assert caught.match(message)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("f.csv", b"", r"is empty; expected a header line"),
        ("f.csv", b"emotion,pixels,Usage\n", r"has a header but no data rows"),
        ("f.csv.gz", gzip.compress(b""), r"is empty"),
        ("f.csv.gz", b"emotion,pixels\n", r"is named .gz but is not a gzip file"),
        ("f.csv.gz", b"\x1f\x8b" + b"garbage" * 10, r"is not a readable gzip file"),
        ("f.csv.gz", gzip.compress(b"emotion,pixels\n3," + b"1 " * 2000)[:-20], r"truncated gzip file"),
    ],
)
def test_empty_and_unreadable_files(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_csv(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match=r"does not exist"):
        load_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match=r"is not a file"):
        load_csv(tmp_path)


# --- skipping --------------------------------------------------------------------------------


def test_skip_bad_rows_keeps_good_rows_and_reports_why(tmp_path):
    images, labels, usage = make_rows(10)
    text = csv_text(images, labels, usage)
    text = replace_line(text, 3, row(pixels="1 2 3"))  # row index 1
    text = replace_line(text, 5, row(label="8"))  # row index 3
    text = replace_line(text, 6, row(pixels="1 2"))  # row index 4
    ds = load_csv(write(tmp_path / "f.csv", text), skip_bad_rows=True)
    keep = [0, 2, 5, 6, 7, 8, 9]
    assert_rows(ds, images[keep], labels[keep], usage[keep])
    report = ds.report
    assert (report.n_rows, report.n_skipped) == (10, 3)
    assert report.skipped_reasons == {"wrong pixel count": 2, "bad emotion label": 1}
    assert report.skipped_examples == (
        "line 3: 3 pixels, expected 2304 (48x48)",
        "line 5: emotion must be an integer in 0..6 (got '8')",
        "line 6: 2 pixels, expected 2304 (48x48)",
    )


def test_all_bad_rows_is_still_an_error(tmp_path):
    text = "emotion,pixels\n" + "\n".join(["3,1 2 3"] * 4) + "\n"
    expected = r"all 4 rows are bad \(4 wrong pixel count\), e\.g\. line 2: 3 pixels"
    with pytest.raises(DataError, match=expected):
        load_csv(write(tmp_path / "f.csv", text), skip_bad_rows=True)


def test_an_error_stops_the_read_ahead_thread(tmp_path, monkeypatch):
    import threading

    monkeypatch.setattr(_stream, "READ_SIZE", 1000)  # many chunks still queued when the error comes
    text = replace_line(csv_text(*make_rows(30)), 2, row(label="9"))
    with pytest.raises(DataError, match=r"line 2: emotion must be"):
        load_csv(write(tmp_path / "f.csv.gz", text))
    assert not [thread for thread in threading.enumerate() if thread.name == "fer-read-ahead"]
