"""The CNN model builder: architecture configs, geometry and size checks, presets, save/load."""

from fer_core.model._activations import ACTIVATIONS
from fer_core.model._builder import DTYPE_POLICIES, build_model
from fer_core.model._complexity import Complexity, count_macs, count_params, model_complexity
from fer_core.model._config import (
    BATCH_NORMS,
    CONV_TYPES,
    HEADS,
    PADDINGS,
    POOLINGS,
    ArchitectureConfig,
    ConvBlockConfig,
    DenseLayerConfig,
)
from fer_core.model._float32 import as_float32
from fer_core.model._geometry import LayerShape, check_geometry
from fer_core.model._io import load_model, save_model
from fer_core.model._presets import PRESETS, get_preset

__all__ = [
    "ACTIVATIONS",
    "BATCH_NORMS",
    "CONV_TYPES",
    "DTYPE_POLICIES",
    "HEADS",
    "PADDINGS",
    "POOLINGS",
    "PRESETS",
    "ArchitectureConfig",
    "Complexity",
    "ConvBlockConfig",
    "DenseLayerConfig",
    "LayerShape",
    "as_float32",
    "build_model",
    "check_geometry",
    "count_macs",
    "count_params",
    "get_preset",
    "load_model",
    "model_complexity",
    "save_model",
]
