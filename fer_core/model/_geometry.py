"""Feature-map geometry of an architecture, computed analytically before anything is built.

Sizes follow Keras: a conv with ``padding="same"`` gives ``ceil(n / strides)``, with ``"valid"``
``floor((n - kernel) / strides) + 1``; pooling uses stride ``pool_size`` and valid (floor) padding.
"""

from __future__ import annotations

from dataclasses import dataclass

from fer_core.emotions import IMAGE_SIZE
from fer_core.errors import GeometryError
from fer_core.model._checks import check_int
from fer_core.model._config import ArchitectureConfig, ConvBlockConfig

_FIX_HINT = "use padding 'same', fewer blocks or less pooling"


@dataclass(frozen=True)
class LayerShape:
    """Output of one conv or pooling layer: a ``size`` x ``size`` x ``channels`` feature map.

    Args:
        block: 1-based index of the conv block the layer belongs to.
        layer: ``"conv 1"``, ``"conv 2"``, ..., or ``"max pooling"`` / ``"avg pooling"``.
        size: Height (= width) of the output feature map.
        channels: Number of output channels.
    """

    block: int
    layer: str
    size: int
    channels: int

    @property
    def is_conv(self) -> bool:
        """True for a convolution, False for a pooling layer."""
        return self.layer.startswith("conv ")

    @property
    def n_features(self) -> int:
        """Number of values in the feature map (what a Flatten head outputs)."""
        return self.size * self.size * self.channels


def conv_output_size(size: int, *, kernel_size: int, strides: int, padding: str) -> int:
    """Output size of a Keras Conv2D on a ``size`` x ``size`` input (may be <= 0 when impossible)."""
    if padding == "same":
        return -(-size // strides)
    return (size - kernel_size) // strides + 1


def pool_output_size(size: int, *, pool_size: int) -> int:
    """Output size of Keras MaxPooling2D/AveragePooling2D (stride = pool_size, valid padding)."""
    return (size - pool_size) // pool_size + 1


def check_geometry(config: ArchitectureConfig, input_size: int = IMAGE_SIZE) -> list[LayerShape]:
    """Every conv and pooling layer's output shape, in order.

    Raises:
        GeometryError: When a layer would shrink its feature map below 1x1; the message names the
            block (1-based), the layer, the sizes and the fix.
    """
    size = check_int("input_size", input_size, minimum=1)
    shapes: list[LayerShape] = []
    for block_number, block in enumerate(config.blocks, start=1):
        shapes.extend(_block_shapes(block_number, block, size))
        size = shapes[-1].size
    return shapes


def _block_shapes(block_number: int, block: ConvBlockConfig, size: int) -> list[LayerShape]:
    shapes: list[LayerShape] = []
    for conv_number in range(1, block.n_convs + 1):
        strides = block.strides if conv_number == 1 else 1
        new_size = conv_output_size(
            size, kernel_size=block.kernel_size, strides=strides, padding=block.padding
        )
        if new_size < 1:
            stride_text = f", strides {strides}" if strides > 1 else ""
            layer = f"conv {conv_number} (kernel {block.kernel_size}{stride_text}, padding {block.padding})"
            _raise_shrink(block_number, layer, size)
        shapes.append(LayerShape(block_number, f"conv {conv_number}", new_size, block.filters))
        size = new_size
    if block.pooling != "none":
        new_size = pool_output_size(size, pool_size=block.pool_size)
        if new_size < 1:
            _raise_shrink(block_number, f"{block.pooling} pooling (pool_size {block.pool_size})", size)
        shapes.append(LayerShape(block_number, f"{block.pooling} pooling", new_size, block.filters))
    return shapes


def _raise_shrink(block_number: int, layer: str, size: int) -> None:
    raise GeometryError(
        f"block {block_number} {layer} would shrink the {size}x{size} feature map to 0x0; {_FIX_HINT}"
    )
