"""The report's sections on the selected model's probabilities and on other data sets.

Calibration: the temperature fitted on validation when the test score was made, and the expected calibration
error before and after it on validation and test (``search.selection._calibration``). Evaluations: every
``python -m search evaluate`` of a model of this study, read from the evaluation runs nested under the
study's run (``fer.role=evaluation``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from search.report._section import SectionContent, SectionUnavailable
from search.selection import recorded_test_score
from search.study import CALIBRATION_ATTR, TEST_SCORE_ATTR
from search.tracking import (
    EVAL_DATA_TAG,
    EVAL_MODEL_NAME_TAG,
    EVAL_MODEL_URI_TAG,
    EVAL_MODEL_VERSION_TAG,
    EVAL_NAME_TAG,
    EVAL_OVERLAP_TAG,
    evaluation_runs,
)

if TYPE_CHECKING:
    from search.report._context import ReportContext

CALIBRATION_TITLE = "Calibration (temperature scaling)"
EVALUATIONS_TITLE = "Evaluations on other data sets"


def calibration_section(context: ReportContext) -> SectionContent:
    """ECE before and after the validation temperature, on validation and on the one test score."""
    attr = context.study.user_attrs.get(CALIBRATION_ATTR)
    if not attr:
        raise SectionUnavailable("No temperature yet: it is fitted on validation when the test score is made "
                                 f"(`python -m search test --study {context.study.study_name}`).")
    score = recorded_test_score(context.study)
    test = (context.study.user_attrs.get(TEST_SCORE_ATTR) or {}).get("calibration") or {} if score else {}
    rows = {"validation": [attr["val_ece"], attr["val_ece_calibrated"]]}
    if test:
        rows["test"] = [test["ece"], test["ece_calibrated"]]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["ECE before", "ECE after"]).map(
        lambda value: f"{value:.4f}")
    table.index.name = "split"
    caption = (f"Temperature T = {attr['temperature']:.4f}, fitted on the {attr['n_validation']} validation faces "
               "by minimising the negative log-likelihood of softmax(log p / T). The promoted model applies it "
               "itself, so predict prints calibrated probabilities; the predicted class, and so every accuracy, "
               "is unchanged. ECE: 15 equal-width confidence bins.")
    return SectionContent(caption=caption, table=table)


def evaluations_section(context: ReportContext) -> SectionContent:
    """One row per evaluation of this study's models on a set from elsewhere."""
    runs = evaluation_runs(context.tracker)
    if not runs:  # not a missing figure: nothing was asked yet, so say how to ask
        return SectionContent(caption="No evaluation on another data set yet: `python -m search evaluate --data "
                                      "PATH` scores the promoted model on a labelled CSV or image folder.")
    table = pd.DataFrame([_row(run) for run in runs]).set_index("name")
    caption = ("The model scored on labelled sets that were never part of this study (newest first). "
               "95 % CI: Wilson interval of the accuracy; macro-F1 over the emotions the set has. "
               "'training overlap' counts faces identical to a training face of this study.")
    return SectionContent(caption=caption, table=table)


def _row(run: Any) -> dict[str, str]:
    tags, metrics = run.data.tags, run.data.metrics
    version = tags.get(EVAL_MODEL_VERSION_TAG)
    model = f"{tags.get(EVAL_MODEL_NAME_TAG)} v{version}" if version else tags.get(EVAL_MODEL_URI_TAG, "-")
    return {
        "name": tags.get(EVAL_NAME_TAG, "-"), "model": model, "data": tags.get(EVAL_DATA_TAG, "-"),
        "faces": f"{metrics.get('n_faces', 0):.0f}", "accuracy": _number(metrics.get("accuracy")),
        "95% CI": f"{_number(metrics.get('accuracy_ci95_low'))}-{_number(metrics.get('accuracy_ci95_high'))}",
        "macro-F1": _number(metrics.get("macro_f1")), "training overlap": tags.get(EVAL_OVERLAP_TAG, "-"),
        "run": run.info.run_id,
    }


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
