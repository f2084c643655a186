"""The image-folder loader: layouts, conversion of any size/mode, content hash, every bad input."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_core.data._dataset import Usage
from fer_core.data._folder import load_image_folder
from fer_core.emotions import EMOTIONS
from fer_core.errors import DataError


def _face(value: int = 0, size: tuple[int, int] = (48, 48)) -> np.ndarray:
    """A grey test pattern (rows of increasing brightness) offset by ``value``."""
    height, width = size
    rows = np.linspace(0, 200, height, dtype=np.float32)[:, None] + np.zeros((1, width), dtype=np.float32)
    return (rows + value).clip(0, 255).astype(np.uint8)


def _save(path: Path, image: Image.Image | np.ndarray, **options: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image.save(path, **options)
    return path


def _flat_tree(root: Path) -> dict[str, np.ndarray]:
    """root/<emotion>/*.png, one or two 48x48 L images per emotion; returns relative path -> pixels."""
    written = {}
    for label, emotion in enumerate(EMOTIONS):
        for index in range(1 + label % 2):
            relative = f"{emotion}/img{index}.png"
            pixels = _face(label * 7 + index)
            _save(root / relative, pixels)
            written[relative] = pixels
    return written


def test_flat_tree_gives_labels_pixels_and_no_usage(tmp_path: Path) -> None:
    written = _flat_tree(tmp_path)

    dataset = load_image_folder(tmp_path)

    assert len(dataset) == len(written) == 10
    assert dataset.usage is None
    assert dataset.images.dtype == np.uint8 and dataset.images.shape == (10, 48, 48, 1)
    assert dataset.labels.dtype == np.int64
    assert dataset.class_counts().tolist() == [1, 2, 1, 2, 1, 2, 1]
    for index, relative in enumerate(sorted(written)):  # rows follow the sorted relative paths
        assert EMOTIONS[dataset.labels[index]] == relative.split("/")[0]
        np.testing.assert_array_equal(dataset.images[index, :, :, 0], written[relative])
    assert dataset.report.n_rows == 10
    assert dataset.report.n_converted == 0
    assert dataset.report.n_skipped == 0
    assert dataset.source == str(tmp_path)


def test_split_tree_sets_usage_codes_with_case_insensitive_names(tmp_path: Path) -> None:
    _save(tmp_path / "Train" / "HAPPY" / "a.png", _face(1))
    _save(tmp_path / "Train" / "sad" / "b.PNG", _face(2))
    _save(tmp_path / "Validation" / "happy" / "c.JPG", _face(3), quality=95)
    _save(tmp_path / "test" / "Neutral" / "d.jpeg", _face(4), quality=95)

    dataset = load_image_folder(tmp_path)

    by_usage = {Usage(code).name: EMOTIONS[label] for code, label in zip(dataset.usage, dataset.labels)}
    assert dataset.usage.dtype == np.uint8
    assert sorted(dataset.usage.tolist()) == [Usage.TRAIN, Usage.TRAIN, Usage.VALIDATION, Usage.TEST]
    assert by_usage["VALIDATION"] == "happy" and by_usage["TEST"] == "neutral"


def test_split_tree_may_lack_a_split_and_accepts_val(tmp_path: Path) -> None:
    _save(tmp_path / "train" / "fear" / "a.png", _face())
    _save(tmp_path / "val" / "fear" / "b.png", _face())

    dataset = load_image_folder(tmp_path)

    assert sorted(dataset.usage.tolist()) == [Usage.TRAIN, Usage.VALIDATION]


def test_any_size_and_mode_is_converted_to_48x48_grey_and_counted(tmp_path: Path) -> None:
    colour = np.zeros((80, 100, 3), dtype=np.uint8)
    colour[..., 0] = 200  # pure red: luminance 0.299 * 200 ~ 60
    _save(tmp_path / "happy" / "rgb.jpg", colour, quality=95)
    _save(tmp_path / "happy" / "rgba.png", Image.new("RGBA", (48, 48), (10, 20, 30, 128)))
    _save(tmp_path / "happy" / "palette.png", Image.fromarray(_face()).convert("P"))
    _save(tmp_path / "happy" / "small.png", _face(size=(20, 30)))
    _save(tmp_path / "happy" / "wide16.png", np.full((48, 48), 128 * 257, dtype=np.uint16))
    _save(tmp_path / "happy" / "ready.png", _face())

    dataset = load_image_folder(tmp_path)

    assert dataset.images.shape == (6, 48, 48, 1)
    assert dataset.report.n_converted == 5  # all but the 48x48 "L" file
    pixels = {name: dataset.images[i, :, :, 0] for i, name in enumerate(
        ["palette", "ready", "rgb", "rgba", "small", "wide16"])}
    assert abs(int(pixels["rgb"].mean()) - 60) <= 3
    assert np.all(pixels["wide16"] == 128)  # 16-bit grey is scaled, not clipped to 255
    np.testing.assert_array_equal(pixels["palette"], pixels["ready"])
    assert pixels["small"][0].mean() < pixels["small"][-1].mean()  # the gradient survives resizing


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    stored = np.zeros((30, 60), dtype=np.uint8)
    stored[:, 30:] = 255  # left half black, right half white as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": the left half ends up on top
    _save(tmp_path / "sad" / "rotated.jpg", stored, exif=exif, quality=95)

    face = load_image_folder(tmp_path).images[0, :, :, 0]

    assert face[:20].mean() < 40 and face[-20:].mean() > 215


def test_content_hash_follows_paths_and_bytes_not_location(tmp_path: Path) -> None:
    _flat_tree(tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    first = load_image_folder(tmp_path / "a").content_hash

    assert load_image_folder(tmp_path / "b").content_hash == first
    _save(tmp_path / "b" / "angry" / "img0.png", _face(99))
    changed_bytes = load_image_folder(tmp_path / "b").content_hash
    (tmp_path / "a" / "angry" / "img0.png").rename(tmp_path / "a" / "angry" / "renamed.png")
    renamed = load_image_folder(tmp_path / "a").content_hash

    assert len({first, changed_bytes, renamed}) == 3


def test_hidden_files_and_os_litter_are_ignored(tmp_path: Path) -> None:
    _save(tmp_path / "happy" / "a.png", _face())
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "happy" / ".hidden.png").write_bytes(b"not an image")
    (tmp_path / "happy" / "Thumbs.db").write_bytes(b"\0")
    (tmp_path / "__MACOSX" / "happy").mkdir(parents=True)
    (tmp_path / "README.txt").write_text("notes about the data")

    assert len(load_image_folder(tmp_path)) == 1


# --------------------------------------------------------------------------- structure errors


def test_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nowhere does not exist"):
        load_image_folder(tmp_path / "nowhere")


def test_root_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "data.png").write_bytes(b"")
    with pytest.raises(DataError, match=r"data.png is not a folder"):
        load_image_folder(tmp_path / "data.png")


def test_root_without_folders_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"has no sub-folders; expected <root>/<emotion>/\*.png"):
        load_image_folder(tmp_path)


def test_unknown_root_folder_names_are_listed(tmp_path: Path) -> None:
    _save(tmp_path / "happpy" / "a.png", _face())
    _save(tmp_path / "happy" / "a.png", _face())
    message = r"Unknown folder name\(s\) happpy in .*emotion folders \(angry, disgust"
    with pytest.raises(DataError, match=message):
        load_image_folder(tmp_path)


def test_split_and_emotion_folders_cannot_be_mixed(tmp_path: Path) -> None:
    _save(tmp_path / "train" / "happy" / "a.png", _face())
    _save(tmp_path / "sad" / "b.png", _face())
    with pytest.raises(DataError, match=r"mixes split folders \(train\) with emotion folders \(sad\)"):
        load_image_folder(tmp_path)


def test_unknown_emotion_folder_in_a_split_is_listed(tmp_path: Path) -> None:
    _save(tmp_path / "train" / "contempt" / "a.png", _face())
    message = r"Unknown emotion folder name\(s\) contempt in .*train; choose from angry"
    with pytest.raises(DataError, match=message):
        load_image_folder(tmp_path)


def test_two_folders_for_one_split_are_an_error(tmp_path: Path) -> None:
    _save(tmp_path / "val" / "happy" / "a.png", _face())
    _save(tmp_path / "validation" / "happy" / "b.png", _face())
    with pytest.raises(DataError, match=r"Folders val and validation in .* name the same split"):
        load_image_folder(tmp_path)


def test_two_folders_for_one_emotion_are_an_error(tmp_path: Path) -> None:
    _save(tmp_path / "Happy" / "a.png", _face())
    _save(tmp_path / "happy" / "b.png", _face())
    with pytest.raises(DataError, match=r"Folders Happy and happy in .* name the same emotion"):
        load_image_folder(tmp_path)


def test_empty_split_folder_is_an_error(tmp_path: Path) -> None:
    _save(tmp_path / "train" / "happy" / "a.png", _face())
    (tmp_path / "test").mkdir()
    with pytest.raises(DataError, match=r"Split folder .*test has no emotion folders"):
        load_image_folder(tmp_path)


def test_empty_emotion_folder_is_an_error(tmp_path: Path) -> None:
    _save(tmp_path / "happy" / "a.png", _face())
    (tmp_path / "disgust").mkdir()
    with pytest.raises(DataError, match=r"Emotion folder .*disgust is empty"):
        load_image_folder(tmp_path)


def test_folder_inside_an_emotion_folder_is_an_error(tmp_path: Path) -> None:
    _save(tmp_path / "happy" / "more" / "a.png", _face())
    with pytest.raises(DataError, match=r"happy contains folder\(s\) more; images must lie directly"):
        load_image_folder(tmp_path)


def test_image_outside_an_emotion_folder_is_an_error(tmp_path: Path) -> None:
    _save(tmp_path / "happy" / "a.png", _face())
    _save(tmp_path / "stray.jpg", _face())
    with pytest.raises(DataError, match=r"Image\(s\) stray.jpg in .* lie outside an emotion folder"):
        load_image_folder(tmp_path)


@pytest.mark.parametrize(("value", "error", "message"), [
    (0, ValueError, r"max_image_pixels must be >= 1 \(got 0\)"),
    (1.5, TypeError, r"max_image_pixels must be an int \(got 1.5\)"),
])
def test_bad_pixel_limit_is_rejected(tmp_path: Path, value: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        load_image_folder(tmp_path, max_image_pixels=value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- bad files


def _write_broken(folder: Path) -> None:
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")


def _write_truncated(folder: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 255, (48, 48), dtype=np.uint8)
    path = _save(folder / "truncated.png", noise)
    path.write_bytes(path.read_bytes()[:200])


def _write_gif(folder: Path) -> None:
    _save(folder / "anim.gif", _face())


def _write_dangling_link(folder: Path) -> None:
    (folder / "missing.png").symlink_to(folder / "nowhere.png")


@pytest.mark.parametrize(("write_bad_file", "message"), [
    (_write_broken, r"Cannot decode .*fear/broken.png as PNG/JPEG: .*skip_bad_rows=True"),
    (_write_truncated, r"Cannot decode .*fear/truncated.png as PNG/JPEG"),
    (_write_gif, r"Unsupported file type '.gif' for .*fear/anim.gif \(allowed: .jpeg, .jpg, .png\)"),
    (_write_dangling_link, r"Cannot read .*fear/missing.png: No such file"),
])
def test_each_bad_file_is_an_error_naming_it(
    tmp_path: Path, write_bad_file: Callable[[Path], None], message: str
) -> None:
    _save(tmp_path / "happy" / "good.png", _face())
    (tmp_path / "fear").mkdir()
    write_bad_file(tmp_path / "fear")

    with pytest.raises(DataError, match=message):
        load_image_folder(tmp_path)


def _tree_with_bad_files(root: Path) -> None:
    """Two good images and one bad file of every kind."""
    _save(root / "happy" / "good1.png", _face(1))
    _save(root / "sad" / "good2.png", _face(2))
    _write_broken(root / "happy")
    _write_truncated(root / "sad")
    (root / "fear").mkdir()
    _write_gif(root / "fear")
    _write_dangling_link(root / "fear")


def test_skip_bad_rows_skips_and_reports_bad_files(tmp_path: Path) -> None:
    _tree_with_bad_files(tmp_path)

    dataset = load_image_folder(tmp_path, skip_bad_rows=True)

    assert len(dataset) == 2
    assert [EMOTIONS[label] for label in dataset.labels] == ["happy", "sad"]
    np.testing.assert_array_equal(dataset.images[1, :, :, 0], _face(2))
    report = dataset.report
    assert report.n_rows == 6 and report.n_skipped == 4
    expected = {"corrupt image": 2, "unsupported file type": 1, "unreadable file": 1}
    assert dict(report.skipped_reasons) == expected
    assert report.skipped_examples[0].startswith("fear/anim.gif: Unsupported file type")
    assert len(report.skipped_examples) == 4


def test_only_bad_files_is_an_error_even_when_skipping(tmp_path: Path) -> None:
    (tmp_path / "happy").mkdir()
    (tmp_path / "happy" / "broken.png").write_bytes(b"garbage")
    message = r"No usable image in .*: all 1 file\(s\) were skipped \(corrupt image: 1\)"
    with pytest.raises(DataError, match=message):
        load_image_folder(tmp_path, skip_bad_rows=True)


def test_pixel_limit_refuses_large_images_before_decoding(tmp_path: Path) -> None:
    _save(tmp_path / "happy" / "a.png", _face())
    message = r"a.png is too large: 48x48 = 2,304 pixels is more than max_image_pixels=2,000"
    with pytest.raises(DataError, match=message):
        load_image_folder(tmp_path, max_image_pixels=2_000)


def test_decompression_bomb_is_refused_with_the_default_limit(tmp_path: Path) -> None:
    _save(tmp_path / "happy" / "ok.png", _face())
    _save(tmp_path / "happy" / "bomb.png", Image.new("L", (5_000, 5_000)))  # 25 M pixels, a few KB on disk
    assert (tmp_path / "happy" / "bomb.png").stat().st_size < 100_000

    with pytest.raises(DataError, match=r"bomb.png is too large: 5000x5000 = 25,000,000 pixels"):
        load_image_folder(tmp_path)
    dataset = load_image_folder(tmp_path, skip_bad_rows=True)
    assert len(dataset) == 1 and dict(dataset.report.skipped_reasons) == {"image too large": 1}
