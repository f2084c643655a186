"""Emotions of faces in real photos: safe reading, Haar face detection, cropping, batching, drawing."""

from fer_core.predict._box import Box
from fer_core.predict._crop import DEFAULT_MARGIN, crop_face, resize_to_input
from fer_core.predict._detect import CASCADE_FILE, FaceDetectorUnavailable, HaarFaceDetector
from fer_core.predict._draw import draw_predictions, save_image
from fer_core.predict._inputs import InputFile, InputListing, collect_inputs
from fer_core.predict._locate import FaceDetector, FaceRegions, FaceSource, locate_faces
from fer_core.predict._photo import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    PHOTO_FORMATS,
    PHOTO_SUFFIXES,
    Photo,
    PhotoError,
    ReadLimits,
    read_photo,
)
from fer_core.predict._predictor import (
    DEFAULT_BATCH_SIZE,
    EmotionPredictor,
    FacePrediction,
    PhotoFailure,
    PhotoPrediction,
    PhotoResult,
    check_model_io,
)

__all__ = [
    "CASCADE_FILE",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MARGIN",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "PHOTO_FORMATS",
    "PHOTO_SUFFIXES",
    "Box",
    "EmotionPredictor",
    "FaceDetector",
    "FaceDetectorUnavailable",
    "FacePrediction",
    "FaceRegions",
    "FaceSource",
    "HaarFaceDetector",
    "InputFile",
    "InputListing",
    "Photo",
    "PhotoError",
    "PhotoFailure",
    "PhotoPrediction",
    "PhotoResult",
    "ReadLimits",
    "check_model_io",
    "collect_inputs",
    "crop_face",
    "draw_predictions",
    "locate_faces",
    "read_photo",
    "resize_to_input",
    "save_image",
]
