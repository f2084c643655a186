"""The data audit: exact and near duplicates, label conflicts, blank images, class balance; clean-subset
scores and Wilson confidence intervals. Pure numpy (no Keras).

For another data set's overlap with a study's training faces: ``overlap_with(exact_hashes(train_images), images)``.
"""

from fer_core.audit._clean import CI_METHOD, HonestScore, honest_score, wilson_interval
from fer_core.audit._exact import exact_hashes, overlap_with
from fer_core.audit._near import near_pairs
from fer_core.audit._perceptual import N_BITS, NEAR_THRESHOLD, hamming, perceptual_hashes
from fer_core.audit._probe import MAX_SHIFT, PROBE_THRESHOLD, probe_pairs, shifted_hashes
from fer_core.audit._report import BLANK_STD, HASH_NAME, AuditReport, audit_splits

__all__ = [
    "BLANK_STD",
    "CI_METHOD",
    "HASH_NAME",
    "MAX_SHIFT",
    "NEAR_THRESHOLD",
    "N_BITS",
    "PROBE_THRESHOLD",
    "AuditReport",
    "HonestScore",
    "audit_splits",
    "exact_hashes",
    "hamming",
    "honest_score",
    "near_pairs",
    "overlap_with",
    "perceptual_hashes",
    "probe_pairs",
    "shifted_hashes",
    "wilson_interval",
]
