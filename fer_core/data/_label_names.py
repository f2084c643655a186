"""Emotion names other data sets use, mapped to ours (``fer_core.emotions.EMOTIONS``).

FER2013 says ``angry``; AffectNet, RAF-DB, CK+ and most image-folder releases say ``anger``, ``happiness``,
``sadness``, ``surprised`` or ``fearful``. An evaluation set labelled with any of them scores against the
same classes. A name with no counterpart here (``contempt``) has no label: callers skip it and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from fer_core.emotions import EMOTIONS

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "angry": ("anger", "angered", "mad"),
    "disgust": ("disgusted", "disgusting"),
    "fear": ("fearful", "afraid", "scared"),
    "happy": ("happiness", "happily", "joy", "joyful"),
    "sad": ("sadness", "unhappy"),
    "surprise": ("surprised", "surprising"),
    "neutral": ("neutrality", "calm", "none"),
}

EMOTION_SYNONYMS: Mapping[str, str] = MappingProxyType(
    {alias: emotion for emotion, aliases in _SYNONYMS.items() for alias in (emotion, *aliases)}
)
"""Lower-case name (ours or a synonym) -> our emotion name."""


def emotion_label(name: str) -> int | None:
    """Our class id for an emotion name or synonym (case, spaces, ``-`` and ``_`` ignored); None if unknown."""
    key = name.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    emotion = EMOTION_SYNONYMS.get(key)
    return None if emotion is None else EMOTIONS.index(emotion)
