"""``python -m search predict IMAGE|DIR...``: the emotion of every face in photos, with a chosen model.

The domain work (reading, face detection, cropping, batching, drawing) lives in ``fer_core.predict``;
this module parses flags, loads the model (MLflow URIs live here, since fer_core never imports mlflow)
and prints the results.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fer_core.emotions import EMOTIONS
from fer_core.errors import ConfigError
from search.cli._tables import format_table

if TYPE_CHECKING:
    import keras

    from fer_core.predict import InputFile, PhotoPrediction

NAME = "predict"
HELP = "classify the faces in photos with a trained or promoted model"
DESCRIPTION = HELP
DEFAULT_MODEL_URI = "models:/fer-emotion@champion"
DETECTOR_CHOICES = ("mtcnn", "haar")
"""fer_core.predict.DETECTOR_NAMES, spelled out so that building the parser imports no TensorFlow."""
DEFAULT_DETECTOR_NAME = "mtcnn"
"""fer_core.predict.DEFAULT_DETECTOR (a test keeps the two equal)."""
MLFLOW_URI_PREFIXES = ("models:/", "runs:/")
FORMATS = ("table", "json", "csv")
TTA_CHOICES = ("auto", "none", "flip", "ten_crop")
"""``auto``: the mode a registered version was test-scored with (its ``tta`` tag; nothing on top when its
model applies it itself), else none."""
_BYTES_PER_MB = 1024 * 1024

EXAMPLES = """\
examples:
  python -m search predict photo.jpg                       faces in one photo, promoted champion
  python -m search predict photos/ --format csv > out.csv  every photo under photos/, recursively
  python -m search predict photos/ --annotate annotated/   also write copies with boxes and labels
  python -m search predict face.png --model runs/best.keras
  python -m search predict photo.jpg --detector haar       OpenCV's frontal cascade instead of MTCNN
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the command's flags."""
    parser.epilog = EXAMPLES
    parser.add_argument("inputs", nargs="+", metavar="IMAGE|DIR",
                        help="photos (PNG, JPEG, BMP, WebP) or directories searched recursively")
    parser.add_argument("--model", default=DEFAULT_MODEL_URI,
                        help="registry URI (models:/name@alias, models:/name/1), run model URI "
                        "(runs:/<id>/model, models:/m-<id>), a .keras file, or a .onnx/.tflite file made by "
                        "`export` (run by ONNX Runtime / LiteRT)")
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format on stdout")
    parser.add_argument("--annotate", metavar="OUT_DIR", type=Path,
                        help="write copies of the photos with face boxes and labels into OUT_DIR")
    parser.add_argument("--detector", choices=DETECTOR_CHOICES, default=DEFAULT_DETECTOR_NAME,
                        help="face detector: mtcnn (finds turned, tilted and partly covered faces and their eyes; "
                        "faces are aligned like FER2013 crops) or haar (OpenCV's frontal cascade, faster, "
                        "no alignment)")
    parser.add_argument("--no-detect", action="store_true",
                        help="classify every picture whole (for folders of face crops of any size)")
    parser.add_argument("--no-align", action="store_true",
                        help="crop faces square around their box (with --margin) instead of aligning them on "
                        "their eyes")
    parser.add_argument("--margin", type=_fraction, default=0.1,
                        help="border added around each detected face that is not aligned, as a fraction of its "
                        "box")
    parser.add_argument("--batch-size", type=_positive_int, default=64, help="faces per model call")
    parser.add_argument("--tta", choices=TTA_CHOICES, default="auto",
                        help="test-time augmentation of each face; auto: the mode a registered model version "
                        "(models:/name@alias, models:/name/N) was selected and test-scored with (its `tta` "
                        "tag, set by promote), none for other models. A version promoted with TTA applies it "
                        "itself: auto adds nothing on top, and other values are refused")
    parser.add_argument("--max-pixels", type=_positive_int, default=40_000_000,
                        help="larger images (width x height, read from the header) are refused undecoded")
    parser.add_argument("--max-file-mb", type=_positive_float, default=100.0,
                        help="larger files are refused before they are read")
    parser.add_argument("--trust-saved-model", action="store_true",
                        help="allow an MLflow model logged as a TensorFlow SavedModel (save_exported_model): it "
                        "loads through tf.saved_model.load, which has no safe mode; only for models you trust")


def run(args: argparse.Namespace) -> int:
    """Runs the command; returns 0 when every photo was classified, 1 when any failed."""
    from fer_core.predict import EmotionPredictor, PhotoFailure, ReadLimits, collect_inputs, make_detector

    listing = collect_inputs(args.inputs)
    if not listing.files:
        raise FileNotFoundError(
            f"No photos found in {', '.join(map(str, args.inputs))}: a directory is searched for files "
            f"ending in .png, .jpg, .jpeg, .bmp or .webp ({listing.n_skipped} other file(s) skipped)"
        )
    detector = None if args.no_detect else make_detector(args.detector)
    limits = ReadLimits(max_pixels=args.max_pixels, max_bytes=int(args.max_file_mb * _BYTES_PER_MB))
    model = load_prediction_model(args.model, trust_saved_model=args.trust_saved_model)
    tta, notice = resolve_tta(args.model, args.tta)
    if notice:
        print(notice, file=sys.stderr)
    predictor = EmotionPredictor(model, detector=detector, margin=args.margin, batch_size=args.batch_size,
                                 limits=limits, keep_colour=args.annotate is not None, tta=tta,
                                 align=not args.no_align)
    printer = _Printer(args.format)
    tally = _Tally(n_skipped=listing.n_skipped)
    for result in predictor.predict_files(listing.files):
        # A photo that could not be read, or whose annotated copy could not be written, fails alone.
        message = result.message if isinstance(result, PhotoFailure) else _annotate_if_asked(result, args.annotate)
        if isinstance(result, PhotoFailure) or message is not None:
            print(f"error: {result.file}: {message}", file=sys.stderr, flush=True)
            tally.n_failed += 1
            continue
        printer.add(face_rows(result))
        tally.count(result)
    printer.finish()
    print(tally.summary(), file=sys.stderr)
    return 1 if tally.n_failed else 0


# --- model -------------------------------------------------------------------------------------------
def load_prediction_model(spec: str, *, trust_saved_model: bool = False) -> keras.Model:
    """The model named by ``--model``, loaded in Keras safe mode (a SavedModel only when trusted).

    Raises:
        UntrustedModelError: The MLflow model is a TensorFlow SavedModel and ``trust_saved_model`` is False.
        ConfigError: ``spec`` is neither an MLflow model URI nor a ``.keras`` path.
        LookupError: The MLflow store has no such model.
        FerError: The ``.keras`` file is missing or not a Keras model.
    """
    if spec.startswith(MLFLOW_URI_PREFIXES):
        return _load_mlflow_model(spec, trust_saved_model)
    if Path(spec).suffix == ".keras":
        from fer_core.model import load_model

        return load_model(spec, compile=False)
    if Path(spec).suffix in (".onnx", ".tflite"):  # an export (`search export`), run by its own runtime
        from fer_core.predict import load_exported_model

        return load_exported_model(spec)
    raise ConfigError(
        f"--model must be an MLflow model URI (models:/name@alias, models:/name/1, runs:/<id>/model, "
        f"models:/m-<id>), a .keras file or an exported .onnx/.tflite file (got {spec!r})"
    )


def resolve_tta(spec: str, requested: str) -> tuple[str, str | None]:
    """The TTA ``predict`` applies, and the stderr line that says so when ``--tta auto`` chose it (else None).

    ``--tta`` as given, or for ``auto`` the registered version's ``tta`` tag; a version whose model applies its
    TTA itself (tag ``tta_in_model``, set by promote) gets none on top. One registry lookup.

    Raises:
        ConfigError: An explicit ``--tta`` for a version that applies its own TTA (it cannot be changed).
    """
    from search.tracking import SCORED_MODEL_TAG, TTA_IN_MODEL_TAG, VERSION_TTA_TAG

    version = _registered_version(spec)
    tags = version.tags if version is not None else {}
    in_model = tags.get(VERSION_TTA_TAG, "none") if tags.get(TTA_IN_MODEL_TAG) == "true" else "none"
    if requested != "auto":
        if in_model != "none":
            raise ConfigError(
                f"{spec} applies {in_model} test-time augmentation itself, so --tta {requested} cannot change "
                f"it; leave --tta at auto, or pass --model {tags.get(SCORED_MODEL_TAG, '<the scored model>')} "
                f"(the same model without TTA inside) with --tta {requested}"
            )
        return requested, None
    if in_model != "none":
        return "none", (f"Test-time augmentation: {in_model}, applied by {spec} itself (the mode it was "
                        "test-scored with)")
    applied = tags.get(VERSION_TTA_TAG, "none")
    if applied == "none":
        return applied, None
    return applied, (f"Test-time augmentation: {applied} (the mode {spec} was test-scored with; --tta none to "
                     "turn it off)")


def _registered_version(spec: str) -> Any:
    """The registry's ModelVersion for ``models:/name@alias`` or ``models:/name/N``; None for other specs."""
    from search.tracking import registered_version

    return registered_version(spec)


def _load_mlflow_model(uri: str, trust_saved_model: bool) -> keras.Model:
    from search.tracking import load_keras_model_from_store

    hint = ("run a study and `python -m search promote` first, set MLFLOW_TRACKING_URI, or pass --model "
            "with another URI or a .keras file")
    return load_keras_model_from_store(uri, hint=hint, trust_saved_model=trust_saved_model)


# --- output ------------------------------------------------------------------------------------------
def face_rows(result: PhotoPrediction) -> list[dict[str, Any]]:
    """One JSON-ready row per face: file, face number, source, detector, alignment, box, top emotion, all
    probabilities."""
    return [
        {
            "file": str(result.file),
            "face": number,
            "source": face.source.value,
            "detector": face.detector if face.source.value == "detected" else None,
            "aligned": face.aligned,
            "box": face.box.to_dict(),
            "emotion": face.emotion,
            "probability": round(face.probability, 6),
            "probabilities": {name: round(p, 6) for name, p in face.probability_by_emotion().items()},
        }
        for number, face in enumerate(result.faces, start=1)
    ]


class _Printer:
    """Writes rows to stdout: CSV as they come (long runs show progress), table and JSON at the end."""

    def __init__(self, output_format: str) -> None:
        self.output_format = output_format
        self.rows: list[dict[str, Any]] = []
        self._csv: Any = None
        if output_format == "csv":
            self._csv = csv.writer(sys.stdout, lineterminator="\n")
            self._csv.writerow(["file", "face", "source", "x", "y", "width", "height", "emotion",
                                "probability", *EMOTIONS])

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        """Prints CSV rows now; keeps table and JSON rows for ``finish``."""
        if self._csv is None:
            self.rows.extend(rows)
            return
        for row in rows:
            box = row["box"]
            self._csv.writerow([row["file"], row["face"], row["source"], box["x"], box["y"], box["width"],
                                box["height"], row["emotion"], f"{row['probability']:.4f}",
                                *(f"{p:.4f}" for p in row["probabilities"].values())])
        sys.stdout.flush()

    def finish(self) -> None:
        """Prints the collected table or JSON document."""
        if self.output_format == "json":
            print(json.dumps(self.rows, indent=2))
        elif self.output_format == "table" and self.rows:
            print(_table(self.rows))


def _table(rows: list[dict[str, Any]]) -> str:
    header = ["file", "face", "source", "box (x,y,wxh)", "emotion", "prob", *EMOTIONS]
    body = [
        [row["file"], str(row["face"]), row["source"], _box_text(row["box"]), row["emotion"],
         f"{row['probability']:.2f}", *(f"{p:.2f}" for p in row["probabilities"].values())]
        for row in rows
    ]
    return format_table([header, *body])


def _box_text(box: dict[str, int]) -> str:
    return f"{box['x']},{box['y']},{box['width']}x{box['height']}"


class _Tally:
    """Counts for the closing summary line on stderr."""

    def __init__(self, n_skipped: int) -> None:
        self.n_skipped = n_skipped
        self.n_photos = self.n_faces = self.n_no_face = self.n_failed = self.n_aligned = 0
        self.detectors: set[str] = set()

    def count(self, result: PhotoPrediction) -> None:
        """Adds one classified photo."""
        from fer_core.predict import FaceSource

        self.n_photos += 1
        self.n_faces += len(result.faces)
        self.n_no_face += any(face.source is FaceSource.NO_FACE for face in result.faces)
        self.n_aligned += sum(face.aligned for face in result.faces)
        self.detectors.update(face.detector for face in result.faces
                              if face.source is FaceSource.DETECTED and face.detector is not None)

    def summary(self) -> str:
        """One line: faces, photos, and the photos classified whole, failed or skipped."""
        found = f" (found by {', '.join(sorted(self.detectors))}, {self.n_aligned} aligned)" if self.detectors else ""
        parts = [f"Classified {self.n_faces} face(s) in {self.n_photos} photo(s){found}"]
        if self.n_no_face:
            parts.append(f"{self.n_no_face} photo(s) with no face found were classified whole")
        if self.n_failed:
            parts.append(f"{self.n_failed} file(s) failed")
        if self.n_skipped:
            parts.append(f"{self.n_skipped} non-photo file(s) skipped")
        return "; ".join(parts) + "."


# --- annotation --------------------------------------------------------------------------------------
def _annotate_if_asked(result: PhotoPrediction, annotate_dir: Path | None) -> str | None:
    """Writes ``result``'s annotated copy when ``--annotate`` asks for one; returns why that failed, or None."""
    return _annotate(result, annotate_dir) if annotate_dir is not None else None


def _annotate(result: PhotoPrediction, annotate_dir: Path) -> str | None:
    from fer_core.predict import draw_predictions, save_image

    target = annotate_dir / result.file.output_name
    if _same_file(target, result.file):
        return f"its annotated copy would overwrite it ({target}); choose another --annotate folder"
    if result.photo is None or result.photo.rgb is None:
        return "no colour pixels kept for annotation"
    try:
        save_image(draw_predictions(result.photo.rgb, result.faces), target, result.photo.image_format)
    except OSError as error:
        return f"cannot write the annotated copy {target} ({error.strerror or error})"
    return None


def _same_file(target: Path, file: InputFile) -> bool:
    return target.resolve() == file.path.resolve()


# --- flag types --------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1 (got {text!r})")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0 (got {text!r})")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], a fraction of the face box (got {text!r})")
    return value
