"""Benchmark: do ``predict``'s face detectors find the faces in real photos, and does alignment help?

**Detection** (always run). The photos are real ones shipped inside pip packages, so nothing is
downloaded: ``skimage.data.astronaut`` (Eileen Collins, frontal), ``skimage.data.camera`` (the
cameraman, three-quarter profile, looking into a camera) and matplotlib's ``grace_hopper.jpg`` (frontal,
glasses and cap), each with one face boxed by hand (hairline to chin, cheek to cheek) in ``PORTRAITS``.
Each portrait also appears in ten augmented copies: flipped; rotated by -30, -15, +15, +30 degrees;
a grey bar over the mouth; a skin-coloured "hand" (palm and four fingers) over mouth and chin; scaled to
1/2 and 1/4 (faces of about 25-55 pixels); plus a group photo of all three side by side, upright and
rotated by 15 degrees, and six photos without a face (a cat, coffee, a rocket, a Chinese temple, a
flower, a rocket flipped) for false detections. A rotated box keeps its size around the rotated centre.

Both detectors run on each photo as ``predict`` runs them: the PNG is read by ``read_photo`` (grey, and
colour for MTCNN) and ``fer_core.predict.detect_faces`` asks the detector. A hand-labelled face counts as found when a
detection overlaps it with IoU >= 0.4 (each detection matches at most one face, best overlap first);
other detections are false. Seconds per photo are detection only, after one warm-up photo; the
machine's speed is printed beside them (best of five float32 1024x1024 numpy matmuls, in GFLOP/s).

**FER2013 geometry** (``--fer-geometry``): MTCNN on random FER2013 training faces (upscaled 4x, edges
repeated 48 pixels around them); prints the median eye positions that ``fer_core.predict.FER2013_GEOMETRY``
uses.

**Alignment** (``--alignment``): the photos above have no emotion labels, so alignment's effect on
agreement with labels is measured on labelled faces instead: FER2013 PrivateTest faces, upscaled 4x
(192 px, bicubic), turned by a random angle (upright: 0; tilted: 10-25 degrees either way) and pasted
onto a real background (scikit-learn's china.jpg, grey, 640x427). MTCNN finds them; the model
classifies (a) the aligned crop, (b) a square crop of the same MTCNN box with margin 0.1 (what
``--no-align`` does), (c) Haar's crop where Haar finds the face, and (d) the original 48x48 face (the
ceiling). The model is ``--model PATH`` (a .keras file, e.g. the promoted champion's), else a small CNN
trained here on FER2013 Training for ``--train-epochs`` epochs (flips and shifts, no rotation).

Usage:
    python bench/detection.py [--write-photos DIR] [--json OUT]
    python bench/detection.py --fer-geometry [--n-faces 400]
    python bench/detection.py --alignment [--model PATH | --train-epochs 12] [--n-faces 600]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from fer_core.predict import (  # noqa: E402
    Box,
    detect_faces,
    make_detector,
    read_photo,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = REPO_ROOT.parent / "shared" / "data" / "fer2013" / "fer2013.csv.gz"
MIN_IOU = 0.4
DETECTORS = ("mtcnn", "haar")


# --- the photos -----------------------------------------------------------------------------------------
def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        image = getattr(skimage.data, name)()
        return np.stack([image] * 3, axis=2) if image.ndim == 2 else image[..., :3]

    return load


def _file(package: str, *parts: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import importlib.util

        from PIL import Image

        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.origin is not None, f"{package} is not installed"
        return np.asarray(Image.open(Path(spec.origin).parent.joinpath(*parts)).convert("RGB"))

    return load


PORTRAITS: dict[str, tuple[Callable[[], np.ndarray], Box]] = {
    "astronaut": (_skimage("astronaut"), Box(176, 60, 96, 116)),
    "cameraman": (_skimage("camera"), Box(194, 112, 62, 86)),
    "grace_hopper": (_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg"), Box(165, 125, 200, 210)),
}
"""Photo loader and the face boxed by hand (looked at, drawn, corrected) in the original picture."""
NO_FACE: dict[str, Callable[[], np.ndarray]] = {
    "cat": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "rocket": _skimage("rocket"),
    "temple": _file("sklearn", "datasets", "images", "china.jpg"),
    "flower": _file("sklearn", "datasets", "images", "flower.jpg"),
}


@dataclass
class Sample:
    name: str
    variant: str
    rgb: np.ndarray
    faces: list[Box] = field(default_factory=list)


def _rotate(rgb: np.ndarray, boxes: Sequence[Box], degrees: float) -> tuple[np.ndarray, list[Box]]:
    """Turned ``degrees`` anticlockwise about the centre (same canvas, edges repeated); boxes keep their size
    around their turned centres."""
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    turned = cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved = []
    for box in boxes:
        cx, cy = matrix @ np.array([box.x + box.width / 2, box.y + box.height / 2, 1.0])
        moved.append(Box(max(0, round(cx - box.width / 2)), max(0, round(cy - box.height / 2)), box.width,
                         box.height))
    return turned, moved


def _scale(rgb: np.ndarray, boxes: Sequence[Box], factor: float) -> tuple[np.ndarray, list[Box]]:
    small = cv2.resize(rgb, (round(rgb.shape[1] * factor), round(rgb.shape[0] * factor)), interpolation=cv2.INTER_AREA)
    return small, [box.scaled(factor) for box in boxes]


def _mouth_bar(rgb: np.ndarray, box: Box) -> np.ndarray:
    """A flat grey bar over the mouth: the lower third of the face, 80 % of its width."""
    covered = rgb.copy()
    cv2.rectangle(covered, (round(box.x + 0.1 * box.width), round(box.y + 0.62 * box.height)),
                  (round(box.x + 0.9 * box.width), round(box.y + 0.95 * box.height)), (128, 128, 128), cv2.FILLED)
    return covered


def _hand(rgb: np.ndarray, box: Box) -> np.ndarray:
    """A skin-coloured hand over mouth and chin: a palm and four fingers, shaded at the edges."""
    covered = rgb.copy()
    cheek = rgb[box.y + box.height // 2 : box.y + 3 * box.height // 4,
                box.x + box.width // 5 : box.x + 2 * box.width // 5]
    skin = tuple(int(v) for v in np.median(cheek.reshape(-1, 3), axis=0))
    edge = tuple(int(v * 0.7) for v in skin)
    w, h = box.width, box.height
    palm_centre = (round(box.x + 0.5 * w), round(box.y + 0.92 * h))
    cv2.ellipse(covered, palm_centre, (round(0.34 * w), round(0.2 * h)), 0, 0, 360, skin, cv2.FILLED)
    cv2.ellipse(covered, palm_centre, (round(0.34 * w), round(0.2 * h)), 0, 0, 360, edge, max(1, w // 60))
    for i in range(4):  # fingers slanting up across the mouth
        centre = (round(box.x + (0.3 + 0.14 * i) * w), round(box.y + 0.74 * h))
        axes = (round(0.065 * w), round(0.17 * h))
        cv2.ellipse(covered, centre, axes, 15, 0, 360, skin, cv2.FILLED)
        cv2.ellipse(covered, centre, axes, 15, 0, 360, edge, max(1, w // 80))
    return covered


def build_photos() -> list[Sample]:
    """The original portraits, their augmented copies, two group photos and the photos without faces."""
    samples: list[Sample] = []
    originals = {name: (load(), box) for name, (load, box) in PORTRAITS.items()}
    for name, (rgb, box) in originals.items():
        samples.append(Sample(name, "original", rgb, [box]))
        samples.append(Sample(name, "flipped", np.ascontiguousarray(rgb[:, ::-1]),
                              [Box(rgb.shape[1] - box.right, box.y, box.width, box.height)]))
        for degrees in (-30, -15, 15, 30):
            turned, boxes = _rotate(rgb, [box], degrees)
            samples.append(Sample(name, f"rotated {degrees:+d}", turned, boxes))
        samples.append(Sample(name, "mouth covered (bar)", _mouth_bar(rgb, box), [box]))
        samples.append(Sample(name, "mouth covered (hand)", _hand(rgb, box), [box]))
        for factor, label in ((0.5, "1/2 size"), (0.25, "1/4 size")):
            small, boxes = _scale(rgb, [box], factor)
            samples.append(Sample(name, label, small, boxes))
    tiles, boxes, left = [], [], 0
    for rgb, box in originals.values():  # side by side at a common height of 320 pixels
        factor = 320 / rgb.shape[0]
        tile, (scaled,) = _scale(rgb, [box], factor)
        tiles.append(tile)
        boxes.append(Box(scaled.x + left, scaled.y, scaled.width, scaled.height))
        left += tile.shape[1]
    group = np.concatenate(tiles, axis=1)
    samples.append(Sample("group of three", "original", group, boxes))
    samples.append(Sample("group of three", "rotated +15", *_rotate(group, boxes, 15)))
    for name, load in NO_FACE.items():
        samples.append(Sample(name, "no face", load()))
    samples.append(Sample("rocket", "no face, flipped", np.ascontiguousarray(NO_FACE["rocket"]()[:, ::-1])))
    return samples


def write_photos(samples: Sequence[Sample], folder: Path) -> list[Path]:
    """One PNG per sample and ``labels.json`` (file -> hand-labelled boxes) in ``folder``."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths, labels = [], {}
    for number, sample in enumerate(samples):
        slug = f"{number:02d}_{sample.name}_{sample.variant}".replace(" ", "_").replace("/", "of")
        for char in "()+,":
            slug = slug.replace(char, "")
        path = folder / f"{slug}.png"
        Image.fromarray(sample.rgb).save(path)
        paths.append(path)
        labels[path.name] = [box.to_dict() for box in sample.faces]
    (folder / "labels.json").write_text(json.dumps(labels, indent=1))
    return paths


# --- matching and scoring -------------------------------------------------------------------------------
def match(truth: Sequence[Box], found: Sequence[Box], min_iou: float = MIN_IOU) -> tuple[int, int]:
    """(faces found, false detections): pairs of best overlap first, each box used once."""
    pairs = sorted(((t.iou(f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)), reverse=True)
    used_truth: set[int] = set()
    used_found: set[int] = set()
    for overlap, i, j in pairs:
        if overlap < min_iou:
            break
        if i not in used_truth and j not in used_found:
            used_truth.add(i)
            used_found.add(j)
    return len(used_truth), len(found) - len(used_found)


@dataclass
class DetectorScore:
    detector: str
    photos: int
    faces: int
    found: int
    false_detections: int
    seconds_per_photo: float
    load_seconds: float
    by_variant: dict[str, list[int]]  # variant -> [faces, found, false]

    @property
    def recall(self) -> float:
        return self.found / self.faces if self.faces else float("nan")


def score_detector(name: str, samples: Sequence[Sample], paths: Sequence[Path]) -> DetectorScore:
    started = time.perf_counter()
    detector = make_detector(name)
    load_seconds = time.perf_counter() - started
    # predict's reader (EXIF-upright grey, and colour for a detector that uses it) and its detection call
    photos = [read_photo(path, keep_colour=detector.uses_colour) for path in paths]
    detect_faces(detector, photos[0].grey, photos[0].rgb)  # warm-up (TensorFlow traces MTCNN on first use)
    by_variant: dict[str, list[int]] = {}
    n_found = n_false = 0
    elapsed = 0.0
    for sample, photo in zip(samples, photos):
        started = time.perf_counter()
        boxes = [face.box for face in detect_faces(detector, photo.grey, photo.rgb)]
        elapsed += time.perf_counter() - started
        found, false = match(sample.faces, boxes)
        n_found += found
        n_false += false
        row = by_variant.setdefault(_variant_group(sample), [0, 0, 0])
        row[0] += len(sample.faces)
        row[1] += found
        row[2] += false
    return DetectorScore(name, len(samples), sum(len(s.faces) for s in samples), n_found, n_false,
                         elapsed / len(samples), load_seconds, by_variant)


def _variant_group(sample: Sample) -> str:
    if sample.name == "group of three":
        return f"group photo ({sample.variant})"
    return "no face" if sample.variant.startswith("no face") else sample.variant


def reference_gflops(n: int = 1024, repeats: int = 5) -> float:
    """This machine's speed: best of ``repeats`` float32 n x n numpy matmuls, in GFLOP/s."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - started)
    return 2 * n**3 / best / 1e9


def detection_report(scores: Sequence[DetectorScore], gflops: float) -> str:
    lines = [f"Reference speed: {gflops:.1f} GFLOP/s (float32 1024x1024 numpy matmul, best of 5); "
             f"{os.cpu_count()} CPU(s) visible", "",
             "| detector | photos | faces | found | recall | false detections | s/photo | load s |",
             "|---|---|---|---|---|---|---|---|"]
    for s in scores:
        lines.append(f"| {s.detector} | {s.photos} | {s.faces} | {s.found} | {s.recall:.0%} | {s.false_detections} | "
                     f"{s.seconds_per_photo:.3f} | {s.load_seconds:.1f} |")
    lines += ["", "| photos | faces | " + " | ".join(f"{s.detector} found / false" for s in scores) + " |",
              "|---|---|" + "---|" * len(scores)]
    for variant in scores[0].by_variant:
        faces = scores[0].by_variant[variant][0]
        cells = " | ".join(f"{s.by_variant[variant][1]} / {s.by_variant[variant][2]}" for s in scores)
        lines.append(f"| {variant} | {faces} | {cells} |")
    return "\n".join(lines)


# --- FER2013 geometry -----------------------------------------------------------------------------------
def fer_geometry(csv: Path, n_faces: int, seed: int = 0) -> dict[str, float]:
    """Median eye positions (48x48 pixels) MTCNN finds on random FER2013 training faces."""
    from fer_core.data import load_dataset, split_dataset

    train = split_dataset(load_dataset(csv)).train
    pick = np.random.default_rng(seed).choice(len(train.labels), n_faces, replace=False)
    detector = make_detector("mtcnn")
    up, pad = 4, 48
    rows = []
    for index in pick:
        big = cv2.resize(train.images[index, ..., 0], (48 * up, 48 * up), interpolation=cv2.INTER_CUBIC)
        big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        faces = [face for face in detect_faces(detector, big) if face.eyes is not None]
        if not faces:
            continue
        eyes = max(faces, key=lambda face: face.box.width).eyes
        assert eyes is not None
        (lx, ly), (rx, ry) = (((x - pad) / up, (y - pad) / up) for x, y in (eyes.left, eyes.right))
        rows.append([(lx + rx) / 2, (ly + ry) / 2, eyes.distance / up, abs(eyes.angle)])
    values = np.array(rows)
    return {"faces": float(n_faces), "with_eyes": float(len(rows)),
            "eye_mid_x": float(np.median(values[:, 0])), "eye_mid_y": float(np.median(values[:, 1])),
            "eye_distance": float(np.median(values[:, 2])),
            "eye_distance_q25": float(np.percentile(values[:, 2], 25)),
            "eye_distance_q75": float(np.percentile(values[:, 2], 75)),
            "abs_eye_angle_median": float(np.median(values[:, 3]))}


# --- alignment and agreement with labels ----------------------------------------------------------------
SMALL_CNN: dict[str, Any] = {
    "blocks": [
        {"n_convs": 1, "filters": 32, "pooling": "max", "dropout": 0.1},
        {"n_convs": 1, "filters": 64, "pooling": "max", "dropout": 0.2},
        {"n_convs": 1, "filters": 128, "pooling": "max", "dropout": 0.3},
    ],
    "batch_norm": "conv",
    "head": "gap",
    "dense": [{"units": 128, "dropout": 0.3}],
}


def alignment_model(csv: Path, model_path: Path | None, epochs: int, seed: int,
                    save_to: Path | None = None) -> tuple[Any, str]:
    """The model to score with, and a line saying which it is (a trained one is saved to ``save_to``)."""
    from fer_core.evaluate import evaluate
    from fer_core.model import ArchitectureConfig, build_model, load_model, save_model
    from fer_core.train import AugmentationConfig, TrainConfig, build_augmentation, train

    if model_path is not None:
        return load_model(model_path, compile=False), f"model {model_path}"
    from fer_core.data import load_dataset, split_dataset

    splits = split_dataset(load_dataset(csv))
    augmentation = build_augmentation(AugmentationConfig(horizontal_flip=True, shift=0.1), seed=seed)
    model = build_model(ArchitectureConfig.from_dict(SMALL_CNN), augmentation=augmentation, name="small_cnn")
    config = TrainConfig.from_dict({"optimizer": "adam", "learning_rate": 2e-3, "batch_size": 64, "epochs": epochs,
                                    "schedule": "cosine", "seed": seed})
    result = train(model, splits.train.images, splits.train.labels,
                   validation=(splits.validation.images, splits.validation.labels), config=config, verbose=0)
    test = evaluate(result.model, splits.test.images, splits.test.labels).accuracy
    if save_to is not None:
        save_model(result.model, save_to)
    return result.model, (f"small CNN ({result.model.count_params():,} parameters) trained here for "
                          f"{result.n_epochs} epochs in {result.duration_s:.0f} s; PrivateTest accuracy on the "
                          f"original 48x48 faces {test:.4f}")


def alignment_agreement(csv: Path, model: Any, n_faces: int, seed: int) -> dict[str, dict[str, Any]]:
    """Agreement with the labels of pasted, turned FER2013 test faces, per crop method and condition."""
    from PIL import Image

    from fer_core.data import load_dataset, split_dataset
    from fer_core.evaluate import predict_proba
    from fer_core.predict import align_face, crop_face

    test = split_dataset(load_dataset(csv)).test
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(test.labels), n_faces, replace=False)
    background = np.asarray(Image.fromarray(_file("sklearn", "datasets", "images", "china.jpg")()).convert("L"))
    detectors = {name: make_detector(name) for name in DETECTORS}
    results: dict[str, dict[str, Any]] = {}
    for condition, (low, high) in {"upright": (0, 0), "tilted 10-25 degrees": (10, 25)}.items():
        crops: dict[str, list[np.ndarray]] = {method: [] for method in ("aligned", "square", "haar", "original")}
        owners: dict[str, list[int]] = {method: [] for method in crops}  # which of the picked faces each crop is
        for number, index in enumerate(pick):
            face = cv2.resize(test.images[index, ..., 0], (192, 192), interpolation=cv2.INTER_CUBIC)
            degrees = float(rng.uniform(low, high) * rng.choice([-1, 1]))
            face = cv2.warpAffine(face, cv2.getRotationMatrix2D((96, 96), degrees, 1.0), (192, 192),
                                  borderMode=cv2.BORDER_REPLICATE)
            x, y = int(rng.integers(0, background.shape[1] - 192)), int(rng.integers(0, background.shape[0] - 192))
            scene = background.copy()
            scene[y : y + 192, x : x + 192] = face
            truth = Box(x, y, 192, 192)
            crops["original"].append(test.images[index, ..., 0])
            owners["original"].append(number)
            found = [f for f in detect_faces(detectors["mtcnn"], scene) if f.box.iou(truth) >= 0.25]
            best = max(found, key=lambda f: f.box.iou(truth)) if found else None
            if best is not None and best.eyes is not None:
                crops["aligned"].append(align_face(scene, best.eyes))
                crops["square"].append(crop_face(scene, best.box, 0.1))
                owners["aligned"].append(number)
                owners["square"].append(number)
            haar = [f for f in detect_faces(detectors["haar"], scene) if f.box.iou(truth) >= 0.25]
            if haar:
                crops["haar"].append(crop_face(scene, max(haar, key=lambda f: f.box.iou(truth)).box, 0.1))
                owners["haar"].append(number)
        # right[method][n]: whether the model agrees with face n's label on that crop (absent: not found)
        right: dict[str, dict[int, bool]] = {}
        for method, images in crops.items():
            predicted = predict_proba(model, np.stack(images)[..., np.newaxis]).argmax(axis=1) if images else []
            right[method] = {n: bool(p == test.labels[pick[n]]) for n, p in zip(owners[method], predicted)}
        mtcnn_found, haar_found = set(right["aligned"]), set(right["haar"])
        both = mtcnn_found & haar_found

        def agreement(method: str, faces: set[int], right: dict[str, dict[int, bool]] = right) -> float:
            return float(np.mean([right[method][n] for n in faces])) if faces else float("nan")

        results[condition] = {
            "faces": n_faces, "mtcnn_found": len(mtcnn_found), "haar_found": len(haar_found), "both_found": len(both),
            "aligned": agreement("aligned", mtcnn_found), "square": agreement("square", mtcnn_found),
            "original": agreement("original", mtcnn_found), "haar": agreement("haar", haar_found),
            "both_aligned": agreement("aligned", both), "both_haar": agreement("haar", both),
            "both_original": agreement("original", both), "all_original": agreement("original", set(range(n_faces))),
        }
    return results


def alignment_report(results: dict[str, dict[str, Any]], model_line: str) -> str:
    lines = [f"Model: {model_line}", "",
             "Agreement with the labels on the faces MTCNN found (aligned / square crop of its box, as --no-align / "
             "the original 48x48 face), on the faces Haar found, and on the faces both found:", "",
             "| condition | faces | MTCNN found | aligned | square crop | original | Haar found | Haar crop | "
             "both found | aligned | Haar crop | original |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for condition, r in results.items():
        lines.append(
            f"| {condition} | {r['faces']} | {r['mtcnn_found']} | {r['aligned']:.3f} | {r['square']:.3f} | "
            f"{r['original']:.3f} | {r['haar_found']} | {r['haar']:.3f} | {r['both_found']} | "
            f"{r['both_aligned']:.3f} | {r['both_haar']:.3f} | {r['both_original']:.3f} |")
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-photos", type=Path, help="keep the test photos (and labels.json) in this folder")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--fer-geometry", action="store_true", help="measure FER2013's eye geometry instead")
    parser.add_argument("--alignment", action="store_true",
                        help="measure alignment's effect on agreement with labels (pasted FER2013 test faces)")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="FER2013 CSV (for the two options above)")
    parser.add_argument("--n-faces", type=int, default=None, help="faces for --fer-geometry (400) or --alignment (600)")
    parser.add_argument("--model", type=Path, help="--alignment: a .keras model to score (else one is trained)")
    parser.add_argument("--train-epochs", type=int, default=12, help="--alignment: epochs of the model trained here")
    parser.add_argument("--save-model", type=Path, help="--alignment: save the model trained here (.keras)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    output: dict[str, Any] = {"reference_gflops": reference_gflops()}

    if args.fer_geometry:
        output["fer_geometry"] = fer_geometry(args.csv, args.n_faces or 400, args.seed)
        print(json.dumps(output["fer_geometry"], indent=2))
    elif args.alignment:
        model, model_line = alignment_model(args.csv, args.model, args.train_epochs, args.seed, args.save_model)
        print(model_line, flush=True)
        results = alignment_agreement(args.csv, model, args.n_faces or 600, args.seed)
        output.update(alignment=results, model=model_line)
        print(alignment_report(results, model_line))
    else:
        samples = build_photos()
        with tempfile.TemporaryDirectory() as temporary:
            folder = args.write_photos or Path(temporary)
            paths = write_photos(samples, folder)
            scores = [score_detector(name, samples, paths) for name in DETECTORS]
        output["detection"] = [{**asdict(s), "recall": s.recall} for s in scores]
        print(detection_report(scores, output["reference_gflops"]))
    if args.json:
        args.json.write_text(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
