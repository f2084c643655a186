"""A synthetic demo set: procedurally drawn 48x48 grey faces showing the seven expressions.

Faces are drawn for a whole batch at once with anti-aliased signed-distance shapes on numpy
grids. Expressions differ by eyebrow height/tilt/arch, eye openness, mouth curve/width/opening,
teeth, nose wrinkles, cheek folds and a one-sided lip raise; each face shows its expression at a
random intensity (weak ones look almost neutral) on top of person-to-person variation. Pose
(shift, scale, rotation), face and hair shape, lighting, contrast, blur, noise, glasses and random
occluders vary freely, so pixels alone separate the classes poorly: model choice matters.

Calibration (``bench/demo_difficulty.py``, 400 per class, test accuracy, seeds 0 / 1): logistic
regression on pixels 0.33 / 0.36, a one-conv tiny net 0.45 / 0.58, a small compact-space CNN
0.77 / 0.85 (chance 0.14). Re-run it after changing any drawing parameter: stronger expressions
(intensity 1.0-1.3 instead of 0.6-1.0, bolder brows) made it too easy (tiny 0.67, CNN 0.96).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

import numpy as np

from fer_core.data._dataset import FERDataset, LoadReport, Usage
from fer_core.emotions import EMOTIONS, IMAGE_SIZE, N_CLASSES

GENERATOR_VERSION = 1
"""Bump when drawing changes, so the content hash of every demo set changes too."""

MIN_PER_CLASS = 3
"""Smallest class size that still gives every split (80/10/10) at least one image per class."""

_VALIDATION_FRACTION = 0.1
_TEST_FRACTION = 0.1
_CHUNK = 32
"""Images drawn per batch: each float32 work array (300 KB) stays in the CPU cache (2x faster than 256)."""

_CENTRE = (IMAGE_SIZE - 1) / 2

_Param = np.ndarray | float
"""A drawing parameter: one value, or one per image shaped (n, 1, 1) to broadcast over the grid."""


@dataclass(frozen=True)
class _Expression:
    """How far an expression at full intensity moves each facial feature from a neutral face.

    Distances are in pixels of a face at scale 1 (brows/corners: positive = up), ``eye_open`` is
    added to the neutral openness 1, the rest are strengths in [0, 1].
    """

    brow_raise: float = 0.0
    brow_tilt: float = 0.0
    brow_squeeze: float = 0.0
    brow_arch: float = 0.0
    eye_open: float = 0.0
    mouth_curve: float = 0.0
    mouth_open: float = 0.0
    mouth_width: float = 0.0
    teeth: float = 0.0
    nose_wrinkle: float = 0.0
    lip_raise: float = 0.0
    cheek_fold: float = 0.0


EXPRESSIONS: dict[str, _Expression] = {
    "angry": _Expression(brow_raise=-1.6, brow_tilt=-2.2, brow_squeeze=1.2, eye_open=-0.3,
                         mouth_curve=-0.8, mouth_open=0.8, mouth_width=-0.8, teeth=0.4, nose_wrinkle=0.4),
    "disgust": _Expression(brow_raise=-1.0, brow_tilt=-0.8, brow_squeeze=0.6, eye_open=-0.4,
                           mouth_curve=-1.2, mouth_open=0.4, nose_wrinkle=1.0, lip_raise=1.8, cheek_fold=0.5),
    "fear": _Expression(brow_raise=1.6, brow_tilt=1.2, brow_squeeze=1.0, brow_arch=0.3, eye_open=0.5,
                        mouth_curve=-0.6, mouth_open=2.2, mouth_width=1.6, teeth=0.3),
    "happy": _Expression(brow_raise=0.3, eye_open=-0.3, mouth_curve=2.6, mouth_open=1.2, mouth_width=2.0,
                         teeth=0.8, cheek_fold=0.8),
    "sad": _Expression(brow_raise=0.5, brow_tilt=2.2, brow_squeeze=0.5, eye_open=-0.25, mouth_curve=-2.2,
                       mouth_width=-0.4),
    "surprise": _Expression(brow_raise=2.6, brow_arch=1.4, eye_open=0.6, mouth_open=4.2, mouth_width=-1.8),
    "neutral": _Expression(),
}
"""One row per emotion; neutral is the origin every other expression moves away from."""


@dataclass(frozen=True)
class _Faces:
    """Per-image drawing parameters, each a float32 array of shape (N,)."""

    centre_x: np.ndarray
    centre_y: np.ndarray
    scale: np.ndarray
    angle: np.ndarray
    face_width: np.ndarray
    face_height: np.ndarray
    jaw: np.ndarray
    background: np.ndarray
    skin: np.ndarray
    hair: np.ndarray
    hairline: np.ndarray
    hair_length: np.ndarray
    feature_contrast: np.ndarray
    side: np.ndarray
    brow_raise: np.ndarray
    brow_raise_other: np.ndarray
    brow_tilt: np.ndarray
    brow_squeeze: np.ndarray
    brow_arch: np.ndarray
    brow_thickness: np.ndarray
    eye_open: np.ndarray
    eye_open_other: np.ndarray
    eye_spacing: np.ndarray
    mouth_y: np.ndarray
    mouth_curve: np.ndarray
    mouth_open: np.ndarray
    mouth_width: np.ndarray
    teeth: np.ndarray
    nose_wrinkle: np.ndarray
    lip_raise: np.ndarray
    cheek_fold: np.ndarray
    glasses: np.ndarray
    sunglasses: np.ndarray
    moustache: np.ndarray
    blob: np.ndarray
    blob_x: np.ndarray
    blob_y: np.ndarray
    blob_rx: np.ndarray
    blob_ry: np.ndarray
    blob_tone: np.ndarray
    edge: np.ndarray
    edge_angle: np.ndarray
    edge_offset: np.ndarray
    edge_tone: np.ndarray
    light_angle: np.ndarray
    light_strength: np.ndarray
    contrast: np.ndarray
    brightness: np.ndarray
    gamma: np.ndarray
    blur: np.ndarray
    noise: np.ndarray

    def __len__(self) -> int:
        return len(self.scale)

    def chunk(self, start: int, stop: int) -> _Faces:
        """The parameters of images ``start:stop``, as (n, 1, 1) arrays that broadcast over a grid."""
        return _Faces(**{f.name: getattr(self, f.name)[start:stop, None, None] for f in fields(self)})


def make_demo_dataset(n_per_class: int = 400, *, seed: int = 0) -> FERDataset:
    """Draw a balanced synthetic face set with usage codes (stratified 80/10/10).

    Deterministic per (``n_per_class``, ``seed``); 2,800 images take about a second.

    Args:
        n_per_class: Images per emotion (>= 3, so each split gets every class).
        seed: Non-negative seed of every random choice.

    Returns:
        A ``FERDataset`` whose ``content_hash`` identifies generator version and parameters.
    """
    _check_arguments(n_per_class, seed)
    param_seed, split_seed, pixel_seed = np.random.SeedSequence([GENERATOR_VERSION, seed]).spawn(3)
    param_rng = np.random.default_rng(param_seed)
    labels = param_rng.permutation(np.repeat(np.arange(N_CLASSES, dtype=np.int64), n_per_class))
    faces = _sample_faces(labels, param_rng)
    images = _draw_all(faces, pixel_seed)
    usage = _stratified_usage(labels, np.random.default_rng(split_seed))
    description = f"n_per_class={n_per_class}, seed={seed}"
    return FERDataset(
        images=images[..., None],
        labels=labels,
        usage=usage,
        source=f"synthetic demo ({description})",
        content_hash=_content_hash(description),
        report=LoadReport(n_rows=len(labels)),
    )


def _content_hash(description: str) -> str:
    """Hex digest naming the generator version and its parameters (the data follow from them)."""
    text = f"fer-search synthetic demo v{GENERATOR_VERSION}: {description}"
    return hashlib.sha256(text.encode()).hexdigest()


def _check_arguments(n_per_class: int, seed: int) -> None:
    """Reject non-integer or out-of-range sizes and seeds with the rule and the value."""
    for name, value, minimum in (("n_per_class", n_per_class, MIN_PER_CLASS), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an int (got {value!r})")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum} (got {value})")


def _stratified_usage(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Usage codes giving each class 10 % validation, 10 % test (at least one each), rest train."""
    usage = np.full(len(labels), Usage.TRAIN, dtype=np.uint8)
    for label in range(N_CLASSES):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_validation = max(1, round(len(members) * _VALIDATION_FRACTION))
        n_test = max(1, round(len(members) * _TEST_FRACTION))
        usage[members[:n_validation]] = Usage.VALIDATION
        usage[members[n_validation : n_validation + n_test]] = Usage.TEST
    return usage


# --------------------------------------------------------------------------- sampling faces


def _expression_table() -> np.ndarray:
    """(7, n_features) matrix of ``EXPRESSIONS`` in label order."""
    names = [f.name for f in fields(_Expression)]
    return np.array([[getattr(EXPRESSIONS[emotion], name) for name in names] for emotion in EMOTIONS])


def _sample_faces(labels: np.ndarray, rng: np.random.Generator) -> _Faces:
    """Random person, pose, expression intensity, accessories and photo conditions per label."""
    n = len(labels)

    def uniform(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, n)

    def normal(sd: float) -> np.ndarray:
        return rng.normal(0.0, sd, n)

    def chance(p: float) -> np.ndarray:
        return (rng.random(n) < p).astype(np.float64)

    table = _expression_table()[labels] * uniform(0.6, 1.0)[:, None]  # expression intensity per face
    expression = {f.name: table[:, i] for i, f in enumerate(fields(_Expression))}
    skin = uniform(0.3, 0.85)
    values = {
        "centre_x": _CENTRE + uniform(-3.0, 3.0),
        "centre_y": _CENTRE + 1.0 + uniform(-3.0, 3.0),
        "scale": uniform(1.05, 1.35),
        "angle": np.clip(normal(0.1), -0.3, 0.3),
        "face_width": uniform(14.0, 18.0),
        "face_height": uniform(18.5, 22.0),
        "jaw": uniform(0.0, 0.35),
        "background": uniform(0.0, 1.0),
        "skin": skin,
        "hair": uniform(0.0, 0.7),
        "hairline": uniform(-19.0, -11.0),
        "hair_length": uniform(-12.0, 16.0),
        "feature_contrast": uniform(0.6, 1.0),
        "side": np.where(rng.random(n) < 0.5, -1.0, 1.0),
        "brow_raise": expression["brow_raise"] + normal(0.7),
        "brow_raise_other": normal(0.5),
        "brow_tilt": expression["brow_tilt"] + normal(0.5),
        "brow_squeeze": expression["brow_squeeze"] + normal(0.5),
        "brow_arch": expression["brow_arch"] + normal(0.4),
        "brow_thickness": uniform(0.9, 1.5),
        "eye_open": np.clip(1.0 + expression["eye_open"] + normal(0.2), 0.15, 2.0),
        "eye_open_other": normal(0.08),
        "eye_spacing": uniform(6.0, 8.0),
        "mouth_y": uniform(8.0, 11.0),
        "mouth_curve": expression["mouth_curve"] + normal(0.5),
        "mouth_open": np.clip(expression["mouth_open"] + normal(0.4), 0.0, None),
        "mouth_width": 7.0 + expression["mouth_width"] + normal(0.6),
        "teeth": np.clip(expression["teeth"] + normal(0.2), 0.0, 1.0),
        "nose_wrinkle": np.clip(expression["nose_wrinkle"] + normal(0.15), 0.0, 1.0),
        "lip_raise": np.clip(expression["lip_raise"] + normal(0.4), 0.0, None),
        "cheek_fold": np.clip(expression["cheek_fold"] + normal(0.2), 0.0, 1.0),
        "glasses": chance(0.12),
        "sunglasses": chance(0.05),
        "moustache": chance(0.1) * uniform(0.3, 0.9),
        "blob": chance(0.15),
        "blob_x": uniform(4.0, IMAGE_SIZE - 4.0),
        "blob_y": uniform(4.0, IMAGE_SIZE - 4.0),
        "blob_rx": uniform(3.0, 10.0),
        "blob_ry": uniform(3.0, 10.0),
        "blob_tone": uniform(0.0, 1.0),
        "edge": chance(0.1),
        "edge_angle": uniform(0.0, 2 * np.pi),
        "edge_offset": uniform(14.0, 26.0),
        "edge_tone": uniform(0.0, 1.0),
        "light_angle": uniform(0.0, 2 * np.pi),
        "light_strength": uniform(0.0, 0.6),
        "contrast": uniform(0.7, 1.3),
        "brightness": uniform(-0.15, 0.15),
        "gamma": np.exp(normal(0.25)),
        "blur": uniform(0.0, 1.0),
        "noise": uniform(0.0, 0.03),
    }
    return _Faces(**{name: value.astype(np.float32) for name, value in values.items()})


# --------------------------------------------------------------------------- drawing


def _draw_all(faces: _Faces, pixel_seed: np.random.SeedSequence) -> np.ndarray:
    """uint8 images (N, 48, 48), drawn in chunks with one noise generator per chunk."""
    images = np.empty((len(faces), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    starts = range(0, len(faces), _CHUNK)
    for start, chunk_seed in zip(starts, pixel_seed.spawn(len(starts)), strict=True):
        stop = min(start + _CHUNK, len(faces))
        images[start:stop] = _draw_chunk(faces.chunk(start, stop), np.random.default_rng(chunk_seed))
    return images


def _draw_chunk(f: _Faces, rng: np.random.Generator) -> np.ndarray:
    """Draw one batch of faces: scene, face features, occluders, then photo effects."""
    y, x = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32)
    cos, sin = np.cos(f.angle), np.sin(f.angle)
    u = (cos * (x - f.centre_x) + sin * (y - f.centre_y)) / f.scale  # face frame, pixels at scale 1
    v = (-sin * (x - f.centre_x) + cos * (y - f.centre_y)) / f.scale
    pixel = 1.0 / f.scale  # one image pixel in face-frame units
    image = np.broadcast_to(f.background, u.shape).copy()
    _draw_head(image, f, u, v, pixel)
    _draw_eyes_and_brows(image, f, u, v, pixel)
    _draw_nose_and_cheeks(image, f, u, v, pixel)
    _draw_mouth(image, f, u, v, pixel)
    _draw_occluders(image, f, u, v, x, y, pixel)
    return _photograph(image, f, x, y, rng)


def _coverage(distance: np.ndarray, pixel: _Param) -> np.ndarray:
    """Anti-aliased area covered by a shape, from its signed distance (negative inside)."""
    return np.clip(0.5 - distance / pixel, 0.0, 1.0)


def _paint(image: np.ndarray, alpha: np.ndarray, tone: _Param) -> None:
    """Blend ``tone`` over ``image`` in place with per-pixel opacity ``alpha``."""
    image += alpha * (tone - image)


def _ellipse(u: np.ndarray, v: np.ndarray, cu: _Param, cv: _Param, ru: _Param, rv: _Param) -> np.ndarray:
    """Approximate signed distance to an axis-aligned ellipse (exact for circles)."""
    radius = np.sqrt(((u - cu) / ru) ** 2 + ((v - cv) / rv) ** 2)
    return (radius - 1.0) * np.minimum(ru, rv)


def _curve(w: np.ndarray, v: np.ndarray, w0: _Param, w1: _Param, v0: _Param, v1: _Param, bend: _Param,
           half_width: _Param) -> np.ndarray:
    """Signed distance to a stroke from (w0, v0) to (w1, v1), w0 < w1, bowed up by ``bend`` at its middle.

    The ends are cut square (a box-like distance), which is invisible at 48x48 and keeps it cheap.
    """
    span = w1 - w0
    t = (w - w0) / span
    rise = v1 - v0
    centre = v0 + t * (rise - 4.0 * bend * (1.0 - t))
    slope = (rise - 4.0 * bend * (1.0 - 2.0 * t)) / span
    across = np.abs(v - centre) / np.sqrt(1.0 + slope * slope) - half_width
    along = np.abs(w - (w0 + w1) * 0.5) - span * 0.5
    return np.maximum(across, along)


def _draw_head(image: np.ndarray, f: _Faces, u: np.ndarray, v: np.ndarray, pixel: _Param) -> None:
    """Hair behind the head, ears, the face oval with a tapering jaw, and the fringe."""
    head_outline = _ellipse(u, v, 0.0, 0.0, f.face_width + 3.0, f.face_height + 2.5)
    back_hair = np.maximum(head_outline, v - f.hair_length)
    _paint(image, _coverage(back_hair, pixel), f.hair)
    ears = _ellipse(np.abs(u), v, f.face_width - 0.5, -1.0, 2.5, 4.0)
    _paint(image, _coverage(ears, pixel), f.skin * 0.9)
    width = f.face_width * (1.0 - f.jaw * np.clip(v / f.face_height, 0.0, 1.0))
    face = _ellipse(u, v, 0.0, 0.0, width, f.face_height)
    _paint(image, _coverage(face, pixel), f.skin)
    fringe = np.maximum(face, v - (f.hairline + 1.5 * np.sin(0.5 * u + 7.0 * f.hair)))
    _paint(image, _coverage(fringe, pixel), f.hair)


def _draw_eyes_and_brows(image: np.ndarray, f: _Faces, u: np.ndarray, v: np.ndarray, pixel: _Param) -> None:
    """Eyes (openness per side) and eyebrows (height, tilt, squeeze, arch; one side may differ)."""
    w = np.abs(u)
    own_side = np.sign(u) == f.side
    dark = f.skin * (1.0 - 0.8 * f.feature_contrast)
    openness = np.maximum(f.eye_open + np.where(own_side, f.eye_open_other, 0.0), 0.15)
    eye = _ellipse(w, v, f.eye_spacing, -4.0, 3.0, 1.5 * openness)
    _paint(image, _coverage(eye, pixel), dark)
    lid = _curve(w, v, f.eye_spacing - 3.0, f.eye_spacing + 3.0, -4.0 - 1.5 * openness, -4.0 - 1.5 * openness,
                 0.6, 0.35)
    _paint(image, 0.6 * _coverage(lid, pixel), dark)
    raise_ = f.brow_raise + np.where(own_side, f.brow_raise_other, 0.0)
    inner_w = f.eye_spacing - 4.0 - f.brow_squeeze
    inner_v = -8.5 - raise_ - f.brow_tilt
    outer_v = -8.0 - raise_ + 0.3 * f.brow_tilt
    outer_w = f.eye_spacing + 3.8
    brow = _curve(w, v, inner_w, outer_w, inner_v, outer_v, 0.8 + f.brow_arch, 0.55 * f.brow_thickness)
    _paint(image, _coverage(brow, pixel), f.skin * (1.0 - 0.7 * f.feature_contrast))


def _draw_nose_and_cheeks(image: np.ndarray, f: _Faces, u: np.ndarray, v: np.ndarray, pixel: _Param) -> None:
    """Nose side, nostrils, wrinkles across the bridge and folds from the nose to the mouth corners."""
    w = np.abs(u)
    shade = f.skin * (1.0 - 0.45 * f.feature_contrast)
    nose_side = _curve(w, v, 1.2, 2.3, -1.5, 3.5, 0.0, 0.3)
    _paint(image, 0.5 * _coverage(nose_side, pixel), shade)
    nostrils = _ellipse(w, v, 1.6, 4.2, 0.9, 0.55)
    _paint(image, _coverage(nostrils, pixel), f.skin * (1.0 - 0.7 * f.feature_contrast))
    bridge = np.clip(v, -2.6, -0.2)  # three wrinkles 1.2 apart across the bridge, at -2.6, -1.4, -0.2
    offset = np.abs(bridge + 1.4) % 1.2
    to_nearest = np.abs(v - bridge) + np.minimum(offset, 1.2 - offset)
    wrinkle = np.maximum(to_nearest - 0.3, np.abs(u) - 2.4)
    _paint(image, f.nose_wrinkle * 0.8 * _coverage(wrinkle, pixel), shade)
    corner_w = np.maximum(f.mouth_width * 0.5 + 1.0, 3.2)
    fold = _curve(w, v, 2.8, corner_w + 0.8, 3.0, f.mouth_y + 1.0 - 0.3 * f.mouth_curve, -0.6, 0.35)
    _paint(image, f.cheek_fold * 0.8 * _coverage(fold, pixel), shade)


def _draw_mouth(image: np.ndarray, f: _Faces, u: np.ndarray, v: np.ndarray, pixel: _Param) -> None:
    """Lip line and open mouth (curve, width, opening, teeth); one upper-lip side may be raised."""
    w = np.abs(u)
    own_side = np.sign(u) == f.side
    half_width = np.maximum(f.mouth_width * 0.5, 1.0)
    along = np.clip(w / half_width, 0.0, 1.0) ** 2
    lip_raise = np.where(own_side, f.lip_raise, 0.0) * np.sqrt(along)
    line = f.mouth_y - f.mouth_curve * along - lip_raise
    top = line - (0.3 * f.mouth_open + 0.6 * lip_raise) * (1.0 - along)
    bottom = line + 0.7 * f.mouth_open * (1.0 - along)
    inside = np.maximum(np.maximum(w - half_width, top - v), v - bottom)
    dark = f.skin * (1.0 - 0.85 * f.feature_contrast)
    _paint(image, _coverage(inside, pixel), dark)
    teeth = np.maximum(inside, v - (top + np.minimum(0.35 * f.mouth_open, 1.6)))
    _paint(image, f.teeth * _coverage(teeth, pixel), np.minimum(f.skin * 1.3 + 0.15, 1.0))
    lip_line = np.abs(v - line) - 0.45
    lip_line = np.maximum(lip_line, w - half_width)
    _paint(image, 0.8 * _coverage(lip_line, pixel), dark)
    moustache = _curve(w, v, 0.0, half_width + 1.0, f.mouth_y - 2.6, f.mouth_y - 1.6, 0.0, 0.9)
    _paint(image, f.moustache * _coverage(moustache, pixel), f.hair)


def _draw_occluders(
    image: np.ndarray, f: _Faces, u: np.ndarray, v: np.ndarray, x: np.ndarray, y: np.ndarray, pixel: _Param
) -> None:
    """Glasses, sunglasses, a random blob (a hand, a microphone) and an object entering from an edge."""
    w = np.abs(u)
    lens = _ellipse(w, v, f.eye_spacing, -4.5, 4.0, 3.2)
    frame = np.abs(lens) - 0.5
    _paint(image, f.glasses * _coverage(frame, pixel), 0.1 * f.hair)
    _paint(image, f.sunglasses * _coverage(lens, pixel), 0.08)
    blob = _ellipse(x, y, f.blob_x, f.blob_y, f.blob_rx, f.blob_ry)
    _paint(image, f.blob * _coverage(blob, 1.0), f.blob_tone)
    edge = f.edge_offset - ((x - _CENTRE) * np.cos(f.edge_angle) + (y - _CENTRE) * np.sin(f.edge_angle))
    _paint(image, f.edge * _coverage(edge, 1.0), f.edge_tone)


def _photograph(
    image: np.ndarray, f: _Faces, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Uneven light, gamma, contrast, blur and sensor noise, then quantisation to uint8."""
    direction = (x - _CENTRE) * np.cos(f.light_angle) + (y - _CENTRE) * np.sin(f.light_angle)
    image *= 1.0 + f.light_strength * direction / IMAGE_SIZE * 2.0
    image = np.clip(image, 0.0, 1.0) ** f.gamma
    image = (image - 0.5) * f.contrast + 0.5 + f.brightness
    image = _blurred(image, f.blur)
    image += f.noise * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)


def _blurred(image: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Blend between the image and one or two passes of a [1, 2, 1] blur (``amount`` in [0, 2])."""
    once = _binomial_blur(image)
    twice = _binomial_blur(once)
    first = np.clip(amount, 0.0, 1.0)
    second = np.clip(amount - 1.0, 0.0, 1.0)
    return image + first * (once - image) + second * (twice - once)


def _binomial_blur(image: np.ndarray) -> np.ndarray:
    """Separable [1, 2, 1] / 4 blur of a batch (N, H, W) with edge replication."""
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)), mode="edge")
    rows = 0.25 * padded[:, :-2, :] + 0.5 * padded[:, 1:-1, :] + 0.25 * padded[:, 2:, :]
    return 0.25 * rows[:, :, :-2] + 0.5 * rows[:, :, 1:-1] + 0.25 * rows[:, :, 2:]
