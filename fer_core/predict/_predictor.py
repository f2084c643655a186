"""Classify the faces in many photos: read, locate faces, batch the crops through the model."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from numbers import Integral

import keras
import numpy as np

from fer_core.emotions import EMOTIONS, IMAGE_SHAPE, N_CLASSES
from fer_core.errors import ConfigError, FerError
from fer_core.evaluate import predict_proba
from fer_core.evaluate._tta import check_tta
from fer_core.predict._box import Box
from fer_core.predict._crop import DEFAULT_MARGIN, check_margin
from fer_core.predict._inputs import InputFile
from fer_core.predict._locate import FaceDetector, FaceRegions, FaceSource, locate_faces
from fer_core.predict._photo import Photo, PhotoError, ReadLimits, read_photo

DEFAULT_BATCH_SIZE = 64
PENDING_PIXEL_BUDGET = 64_000_000
"""Colour pixels (kept for annotation) held while a batch fills up; past it the batch is run early."""


@dataclass(frozen=True)
class FacePrediction:
    """The model's answer for one face.

    Args:
        box: Where the face is in the picture.
        source: Why this region was classified (detected face, face crop, whole picture).
        probabilities: One probability per emotion, in ``EMOTIONS`` order.
        detector: Name of the detector that found the face ("mtcnn", "haar"), or None.
        aligned: Whether the face was aligned on its eyes before classifying (else cropped around its box).
    """

    box: Box
    source: FaceSource
    probabilities: tuple[float, ...]
    detector: str | None = None
    aligned: bool = False

    def __post_init__(self) -> None:
        if len(self.probabilities) != N_CLASSES:
            raise FerError(f"probabilities must have {N_CLASSES} values, one per emotion "
                           f"(got {len(self.probabilities)})")

    @property
    def emotion(self) -> str:
        """The most probable emotion."""
        return EMOTIONS[int(np.argmax(self.probabilities))]

    @property
    def probability(self) -> float:
        """The probability of ``emotion``."""
        return max(self.probabilities)

    def probability_by_emotion(self) -> dict[str, float]:
        return dict(zip(EMOTIONS, self.probabilities))


@dataclass(frozen=True, eq=False)
class PhotoPrediction:
    """Every classified face of one photo; ``photo`` is kept only when colour was asked for."""

    file: InputFile
    faces: tuple[FacePrediction, ...]
    photo: Photo | None


@dataclass(frozen=True)
class PhotoFailure:
    """A photo that could not be processed, with a one-line reason."""

    file: InputFile
    message: str


PhotoResult = PhotoPrediction | PhotoFailure


@dataclass(eq=False)
class _Pending:
    file: InputFile
    regions: FaceRegions | None
    photo: Photo | None = None
    failure: str | None = None


class EmotionPredictor:
    """Runs a FER model over the faces of photos, ``batch_size`` faces per model call.

    Args:
        model: A model mapping uint8 (N, 48, 48, 1) to (N, 7) probabilities in ``EMOTIONS`` order.
        detector: Finds faces; None classifies every picture whole.
        margin: Border added around each detected face that is not aligned, as a fraction of its box.
        align: Align faces whose eyes the detector finds like FER2013 faces (eyes level, same size and place).
        batch_size: Faces per model call; crops of several photos share a batch.
        limits: File-size and pixel limits checked before decoding.
        keep_colour: Keep each photo's colour pixels in its result (for drawing annotations).
        tta: Test-time augmentation of every face (``none``, ``flip``, ``ten_crop``): use the mode the
            model was selected and test-scored with.
    """

    def __init__(
        self, model: keras.Model, *, detector: FaceDetector | None, margin: float = DEFAULT_MARGIN,
        batch_size: int = DEFAULT_BATCH_SIZE, limits: ReadLimits = ReadLimits(), keep_colour: bool = False,
        tta: str = "none", align: bool = True,
    ) -> None:
        check_model_io(model)
        check_tta(tta)
        if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
            raise ConfigError(f"batch_size must be an integer >= 1 (got {batch_size!r})")
        self.model: keras.Model = model
        self.detector: FaceDetector | None = detector
        self.margin: float = check_margin(margin)
        self.batch_size: int = int(batch_size)
        self.limits: ReadLimits = limits
        self.keep_colour: bool = keep_colour
        self.tta: str = tta
        self.align: bool = align

    def predict_files(self, files: Iterable[InputFile]) -> Iterator[PhotoResult]:
        """One result per file, in input order; a bad file gives a ``PhotoFailure`` and the rest go on."""
        pending: list[_Pending] = []
        for file in files:
            pending.append(self._prepare(file))
            if self._batch_is_full(pending):
                yield from self._flush(pending)
                pending = []
        yield from self._flush(pending)

    def _prepare(self, file: InputFile) -> _Pending:
        colour = self.keep_colour or bool(getattr(self.detector, "uses_colour", False))
        try:
            photo = read_photo(file.path, self.limits, keep_colour=colour)
        except PhotoError as error:
            return _Pending(file, regions=None, failure=str(error))
        regions = locate_faces(photo, self.detector, margin=self.margin, align=self.align)
        return _Pending(file, regions=regions, photo=photo if self.keep_colour else None)

    def _batch_is_full(self, pending: list[_Pending]) -> bool:
        n_faces = sum(len(item.regions) for item in pending if item.regions is not None)
        n_pixels = sum(item.photo.grey.size for item in pending if item.photo is not None)
        return max(n_faces, len(pending)) >= self.batch_size or n_pixels >= PENDING_PIXEL_BUDGET

    def _flush(self, pending: list[_Pending]) -> Iterator[PhotoResult]:
        located = [item.regions for item in pending if item.regions is not None]
        probabilities = self._classify(located)
        start = 0
        for item in pending:
            if item.regions is None:
                yield PhotoFailure(item.file, item.failure or "unknown failure")
                continue
            rows = probabilities[start : start + len(item.regions)]
            start += len(item.regions)
            faces = tuple(FacePrediction(box, item.regions.source, tuple(float(p) for p in row),
                                         detector=item.regions.detector, aligned=aligned)
                          for box, row, aligned in zip(item.regions.boxes, rows, item.regions.aligned))
            yield PhotoPrediction(item.file, faces, item.photo)

    def _classify(self, located: list[FaceRegions]) -> np.ndarray:
        if not located:
            return np.empty((0, N_CLASSES), dtype=np.float32)
        crops = np.concatenate([regions.crops for regions in located])
        return predict_proba(self.model, crops, batch_size=self.batch_size, tta=self.tta)


def check_model_io(model: keras.Model) -> None:
    """Refuse a model that does not take (N, 48, 48, 1) images and return 7 class probabilities."""
    try:
        input_shape = tuple(model.inputs[0].shape)[1:]
        output_shape = tuple(model.outputs[0].shape)[1:]
    except (AttributeError, IndexError, TypeError, ValueError) as error:
        raise FerError(f"Cannot read the model's input and output shapes ({error}); expected a Keras model "
                       f"built by fer_core.model.build_model") from None
    if input_shape != IMAGE_SHAPE or output_shape != (N_CLASSES,):
        raise FerError(
            f"The model maps {input_shape} to {output_shape}, but predict needs {IMAGE_SHAPE} images to "
            f"({N_CLASSES},) probabilities in the order {', '.join(EMOTIONS)}; use a fer-search model"
        )
