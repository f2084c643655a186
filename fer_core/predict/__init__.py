"""Emotions of faces in real photos: safe reading, face detection (MTCNN or Haar), eye alignment, cropping,
batching, drawing."""

from fer_core.predict._align import FER2013_GEOMETRY, FaceGeometry, align_face, alignment_matrix
from fer_core.predict._box import Box, DetectedFace, Eyes
from fer_core.predict._crop import DEFAULT_MARGIN, crop_face, resize_to_input
from fer_core.predict._detect import CASCADE_FILE, FaceDetectorUnavailable, HaarFaceDetector
from fer_core.predict._detectors import DEFAULT_DETECTOR, DETECTOR_NAMES, make_detector
from fer_core.predict._draw import draw_predictions, save_image
from fer_core.predict._exported import (
    EXPORTED_SUFFIXES,
    ExportedModel,
    ExportRuntimeUnavailable,
    load_exported_model,
)
from fer_core.predict._inputs import InputFile, InputListing, collect_inputs
from fer_core.predict._latency import LATENCY_BATCH_SIZE, Latency, keras_predict_fn, measure_latency
from fer_core.predict._locate import (
    FaceDetector,
    FaceRegions,
    FaceSource,
    LandmarkFaceDetector,
    detect_faces,
    locate_faces,
)
from fer_core.predict._mtcnn import MtcnnFaceDetector
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
    "DEFAULT_DETECTOR",
    "DEFAULT_MARGIN",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "DETECTOR_NAMES",
    "EXPORTED_SUFFIXES",
    "FER2013_GEOMETRY",
    "LATENCY_BATCH_SIZE",
    "PHOTO_FORMATS",
    "PHOTO_SUFFIXES",
    "Box",
    "DetectedFace",
    "EmotionPredictor",
    "ExportRuntimeUnavailable",
    "ExportedModel",
    "Eyes",
    "FaceDetector",
    "FaceDetectorUnavailable",
    "FaceGeometry",
    "FacePrediction",
    "FaceRegions",
    "FaceSource",
    "HaarFaceDetector",
    "InputFile",
    "InputListing",
    "Latency",
    "LandmarkFaceDetector",
    "MtcnnFaceDetector",
    "Photo",
    "PhotoError",
    "PhotoFailure",
    "PhotoPrediction",
    "PhotoResult",
    "ReadLimits",
    "align_face",
    "alignment_matrix",
    "check_model_io",
    "collect_inputs",
    "crop_face",
    "detect_faces",
    "draw_predictions",
    "keras_predict_fn",
    "load_exported_model",
    "locate_faces",
    "make_detector",
    "measure_latency",
    "read_photo",
    "resize_to_input",
    "save_image",
]
