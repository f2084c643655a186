"""Mixup and CutMix: batch-level image and label mixing in the tf.data training pipeline.

Each batch is mixed with a shuffled copy of itself. Labels (one-hot) become soft labels mixed with the
same weight as the pixels, so label smoothing and the accuracy metric (argmax of the label) still apply;
per-sample class weights are mixed with that weight too. Images stay uint8 (mixup rounds the blend).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf


@dataclass(frozen=True)
class Mixing:
    """Beta(alpha, alpha) concentrations of mixup and CutMix; 0 turns one off.

    With both on, every batch gets one of the two with probability 1/2.
    """

    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0

    @property
    def is_off(self) -> bool:
        """True when neither mixup nor CutMix is enabled (the default)."""
        return self.mixup_alpha <= 0 and self.cutmix_alpha <= 0


def mix_batch(mixing: Mixing, seed: tf.Tensor, *batch: tf.Tensor) -> tuple[tf.Tensor, ...]:
    """Mix one (x uint8, y one-hot[, sample weights]) batch per ``mixing``; returns the same structure.

    Every random draw is stateless, derived from the int64 ``seed`` of this batch, so a seeded pipeline
    mixes the same way on every run (parallel map calls cannot reorder the draws).
    """
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(tf.stack([seed, tf.constant(0, tf.int64)]), num=6)
    if mixing.mixup_alpha > 0 and mixing.cutmix_alpha > 0:
        return tuple(
            tf.cond(
                tf.random.stateless_uniform([], seeds[0]) < 0.5,
                lambda: _mixup(mixing.mixup_alpha, seeds, *batch),
                lambda: _cutmix(mixing.cutmix_alpha, seeds, *batch),
            )
        )
    if mixing.mixup_alpha > 0:
        return _mixup(mixing.mixup_alpha, seeds, *batch)
    return _cutmix(mixing.cutmix_alpha, seeds, *batch)


def _beta(alpha: float, seeds: tf.Tensor) -> tf.Tensor:
    """One Beta(alpha, alpha) draw from two Gamma draws (0 when both underflow)."""
    import tensorflow as tf

    first = tf.random.stateless_gamma([], seeds[1], alpha)
    second = tf.random.stateless_gamma([], seeds[2], alpha)
    return tf.math.divide_no_nan(first, first + second)


def _partners(batch_size: tf.Tensor, seeds: tf.Tensor) -> tf.Tensor:
    """A random permutation of the batch: image i is mixed with image partners[i]."""
    import tensorflow as tf

    return tf.argsort(tf.random.stateless_uniform([batch_size], seeds[3]))


def _mixed_rest(weight: tf.Tensor, partners: tf.Tensor, *rest: tf.Tensor) -> list[tf.Tensor]:
    """Labels and sample weights blended as ``weight * own + (1 - weight) * partner's``."""
    import tensorflow as tf

    return [weight * tensor + (1.0 - weight) * tf.gather(tensor, partners) for tensor in rest]


def _mixup(alpha: float, seeds: tf.Tensor, x: tf.Tensor, *rest: tf.Tensor) -> tuple[tf.Tensor, ...]:
    import tensorflow as tf

    weight = _beta(alpha, seeds)
    partners = _partners(tf.shape(x)[0], seeds)
    pixels = tf.cast(x, tf.float32)
    blended = weight * pixels + (1.0 - weight) * tf.gather(pixels, partners)
    mixed_x = tf.cast(tf.clip_by_value(tf.round(blended), 0.0, 255.0), tf.uint8)
    return (mixed_x, *_mixed_rest(weight, partners, *rest))


def _cutmix(alpha: float, seeds: tf.Tensor, x: tf.Tensor, *rest: tf.Tensor) -> tuple[tf.Tensor, ...]:
    """Paste a random box of each partner image; the label weight is the share of own pixels kept."""
    import tensorflow as tf

    height, width = x.shape[1], x.shape[2]
    partners = _partners(tf.shape(x)[0], seeds)
    side = tf.sqrt(1.0 - _beta(alpha, seeds))
    box_h = tf.cast(tf.round(side * height), tf.int32)
    box_w = tf.cast(tf.round(side * width), tf.int32)
    center_y = tf.random.stateless_uniform([], seeds[4], 0, height, dtype=tf.int32)
    center_x = tf.random.stateless_uniform([], seeds[5], 0, width, dtype=tf.int32)
    top, bottom = tf.maximum(center_y - box_h // 2, 0), tf.minimum(center_y + (box_h + 1) // 2, height)
    left, right = tf.maximum(center_x - box_w // 2, 0), tf.minimum(center_x + (box_w + 1) // 2, width)
    rows = tf.range(height)[:, None]
    cols = tf.range(width)[None, :]
    box = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)
    mixed_x = tf.where(box[None, :, :, None], tf.gather(x, partners), x)
    pasted = tf.cast((bottom - top) * (right - left), tf.float32)
    weight = 1.0 - pasted / float(height * width)
    return (mixed_x, *_mixed_rest(weight, partners, *rest))
