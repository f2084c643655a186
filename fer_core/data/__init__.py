"""The data layer: load FER data (CSV, image folders, cache, synthetic demo) and split it."""

from fer_core.data._cache import CACHE_FORMAT_VERSION
from fer_core.data._csv import load_csv
from fer_core.data._dataset import FERDataset, LoadReport, Usage
from fer_core.data._folder import load_image_folder
from fer_core.data._label_names import EMOTION_SYNONYMS, emotion_label
from fer_core.data._labelled_folder import LabelledFolder, load_labelled_folder
from fer_core.data._load import default_cache_dir, load_dataset
from fer_core.data._split import DataSplits, Split, balanced_class_weights, split_dataset
from fer_core.data._synthetic import make_demo_dataset

__all__ = [
    "CACHE_FORMAT_VERSION",
    "DataSplits",
    "EMOTION_SYNONYMS",
    "FERDataset",
    "LabelledFolder",
    "LoadReport",
    "Split",
    "Usage",
    "balanced_class_weights",
    "default_cache_dir",
    "emotion_label",
    "load_csv",
    "load_dataset",
    "load_image_folder",
    "load_labelled_folder",
    "make_demo_dataset",
    "split_dataset",
]
