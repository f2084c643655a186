"""fer_core.predict: reading photos safely (limits before decoding, one-line reasons) and listing inputs."""

from __future__ import annotations

from pathlib import Path, PurePath

import numpy as np
import pytest
from PIL import Image

from fer_core.errors import ConfigError, DataError
from fer_core.predict import Box, PhotoError, ReadLimits, collect_inputs, read_photo


def _png(path: Path, width: int = 64, height: int = 40, value: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((height, width), value, dtype=np.uint8)).save(path)
    return path


def test_reads_grey_and_optionally_colour(tmp_path: Path) -> None:
    rgb = np.zeros((30, 50, 3), dtype=np.uint8)
    rgb[..., 0] = 200
    Image.fromarray(rgb).save(tmp_path / "red.png")

    grey_only = read_photo(tmp_path / "red.png")
    assert grey_only.grey.shape == (30, 50) and grey_only.grey.dtype == np.uint8
    assert grey_only.rgb is None and grey_only.image_format == "PNG"
    assert (grey_only.width, grey_only.height) == (50, 30)

    coloured = read_photo(tmp_path / "red.png", keep_colour=True)
    assert coloured.rgb is not None and coloured.rgb.shape == (30, 50, 3)
    assert coloured.rgb[0, 0].tolist() == [200, 0, 0]


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(np.zeros((20, 60), dtype=np.uint8)).save(tmp_path / "turned.jpg", exif=exif)
    assert read_photo(tmp_path / "turned.jpg").grey.shape == (60, 20)


def test_missing_directory_and_non_image_files_give_one_line_reasons(tmp_path: Path) -> None:
    (tmp_path / "notes.jpg").write_text("not a picture\n")
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(tmp_path / "anim.gif")
    (tmp_path / "folder").mkdir()

    with pytest.raises(PhotoError, match=r"^no such file$"):
        read_photo(tmp_path / "absent.png")
    with pytest.raises(PhotoError, match=r"^not a regular file$"):
        read_photo(tmp_path / "folder")
    with pytest.raises(PhotoError, match=r"^not a PNG, JPEG, BMP or WebP image$"):
        read_photo(tmp_path / "notes.jpg")
    with pytest.raises(PhotoError, match="not a PNG, JPEG, BMP or WebP image"):
        read_photo(tmp_path / "anim.gif")  # a real image, but its decoder is not enabled


def test_truncated_file_is_reported_as_corrupt(tmp_path: Path) -> None:
    noisy = np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)
    Image.fromarray(noisy).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])

    with pytest.raises(PhotoError, match=r"^corrupt or truncated image \(OSError: .*truncated") as caught:
        read_photo(tmp_path / "cut.png")
    assert "\n" not in str(caught.value)


def test_pixel_limit_is_checked_on_the_header_before_decoding(tmp_path: Path) -> None:
    big = _png(tmp_path / "big.png", width=2000, height=1500)
    header_only = tmp_path / "header_only.png"
    header_only.write_bytes(big.read_bytes()[:64])  # undecodable, but its header names the size

    for path in (big, header_only):
        with pytest.raises(PhotoError, match=r"2000x1500 = 3,000,000 pixels is more than the limit of "
                                             r"1,000,000 .*raise --max-pixels"):
            read_photo(path, ReadLimits(max_pixels=1_000_000))
    assert read_photo(big, ReadLimits(max_pixels=3_000_000)).grey.shape == (1500, 2000)


def test_file_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    (tmp_path / "huge.jpg").write_bytes(b"x" * 5000)  # not even an image: the size check comes first
    with pytest.raises(PhotoError, match=r"file is 5,000 bytes, more than the limit of 4,096 bytes"):
        read_photo(tmp_path / "huge.jpg", ReadLimits(max_bytes=4096))


def test_limits_and_boxes_validate_themselves() -> None:
    with pytest.raises(ConfigError, match=r"ReadLimits.max_pixels must be an integer >= 1 \(got 0\)"):
        ReadLimits(max_pixels=0)
    with pytest.raises(ConfigError, match=r"ReadLimits.max_bytes must be an integer >= 1 \(got 1.5\)"):
        ReadLimits(max_bytes=1.5)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"Box.width must be an integer >= 1 \(got 0\)"):
        Box(0, 0, 0, 5)
    with pytest.raises(DataError, match=r"Box.x must be an integer >= 0 \(got -1\)"):
        Box(-1, 0, 5, 5)
    box = Box(np.int32(10), 20, 30, 40)
    assert type(box.x) is int and (box.right, box.bottom) == (40, 60)
    assert box.scaled(2.0) == Box(20, 40, 60, 80) and str(box) == "10,20,30x40"
    assert box.iou(box) == 1.0 and box.iou(Box(100, 100, 5, 5)) == 0.0
    assert Box(0, 0, 10, 10).iou(Box(5, 0, 10, 10)) == pytest.approx(50 / 150)


def test_collect_inputs_walks_directories_in_order_and_names_annotated_copies(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    _png(photos / "b.png")
    _png(photos / "A.JPG")
    _png(photos / "sub" / "c.webp")
    _png(photos / ".hidden.png")
    _png(photos / ".cache" / "d.png")
    (photos / "notes.txt").write_text("skip me")
    other = _png(tmp_path / "other" / "b.png")
    odd = tmp_path / "picture.data"
    odd.write_bytes(b"whatever")

    listing = collect_inputs([photos, other, odd, tmp_path / "absent.png"])

    assert [f.path for f in listing.files] == [photos / "A.JPG", photos / "b.png", photos / "sub" / "c.webp",
                                               other, odd, tmp_path / "absent.png"]
    assert [f.output_name for f in listing.files] == [
        PurePath("photos/A.JPG"), PurePath("photos/b.png"), PurePath("photos/sub/c.webp"),
        PurePath("b.png"), PurePath("picture.data"), PurePath("absent.png"),
    ]
    assert listing.n_skipped == 1
    same_names = collect_inputs([other, other])
    assert [f.output_name for f in same_names.files] == [PurePath("b.png"), PurePath("b-2.png")]
