"""Named architectures: the original study's ``seed`` network and a ``tiny`` one for smoke runs."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from fer_core.errors import ConfigError
from fer_core.model._config import ArchitectureConfig


def _seed_block(n_convs: int, filters: int) -> dict[str, object]:
    return {
        "n_convs": n_convs,
        "filters": filters,
        "kernel_size": 3,
        "padding": "valid",
        "pooling": "max",
        "dropout": 0.5,
    }


PRESETS: Mapping[str, ArchitectureConfig] = MappingProxyType(
    {
        # The original study's VGG-style network: 2,239,751 parameters once built.
        "seed": ArchitectureConfig.from_dict(
            {
                "blocks": [_seed_block(3, 64), _seed_block(2, 128), _seed_block(2, 256)],
                "activation": "relu",
                "batch_norm": "block",
                "head": "flatten",
                "dense": [{"units": 1024, "dropout": 0.4}],
            },
            path="PRESETS['seed']",
        ),
        # A few thousand parameters: for tests and quick end-to-end checks, not for accuracy.
        "tiny": ArchitectureConfig.from_dict(
            {
                "blocks": [{"n_convs": 1, "filters": 8}, {"n_convs": 1, "filters": 16}],
                "batch_norm": "conv",
                "head": "gap",
            },
            path="PRESETS['tiny']",
        ),
    }
)
"""Preset name -> architecture."""


def get_preset(name: str) -> ArchitectureConfig:
    """The architecture registered under ``name``; the error lists every preset."""
    if not isinstance(name, str) or name not in PRESETS:
        raise ConfigError(f"Unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]
