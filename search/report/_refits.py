"""The report's stage-2 section: every refit's run (state, epochs, validation accuracy) and the selection.

Read from the MLflow runs nested under the study's run (``fer.role=refit``), so it works wherever the
tracking store is, and from the study's recorded selection (``fer.selected``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from search.report._section import SectionContent, SectionUnavailable
from search.selection import recorded_selection
from search.tracking import N_RESUMES_TAG, OUTCOME_TAG, REFIT_EPOCHS_PARAM, REFIT_OF_TAG, REFIT_ROLE, STATE_TAG

if TYPE_CHECKING:
    from search.report._context import ReportContext


def refit_section(context: ReportContext) -> SectionContent:
    """A table of the refits in stage-1 rank order and a caption naming what selection chose."""
    runs = context.tracker.nested_runs(context.parent_run_id, REFIT_ROLE)
    if not runs:
        raise SectionUnavailable(
            "No refit yet: stage 2 (`python -m search refit --study "
            f"{context.study.study_name}`, or `run --refit-top K`) trains the best trials on the full "
            "training split; until then the best stage-1 trial is selected."
        )
    records = [_record(run) for run in sorted(runs, key=lambda run: int(run.data.tags.get(REFIT_OF_TAG, -1)))]
    table = pd.DataFrame(records).set_index("refit of")
    selection = recorded_selection(context.study)
    caption = "Each stage-1 trial refit on the full training split (its own MLflow run under the study's run)."
    if selection is not None and selection.kind != "trial":
        caption += (f" Selected on validation: {selection.describe()} — validation accuracy "
                    f"{selection.val_accuracy:.4f} without TTA, {selection.val_accuracy_tta:.4f} with "
                    f"{selection.tta}.")
    return SectionContent(caption=caption, table=table)


def _record(run: object) -> dict[str, str]:
    tags, metrics, params = run.data.tags, run.data.metrics, run.data.params  # type: ignore[attr-defined]
    accuracy = metrics.get("final_val_accuracy")
    return {
        "refit of": f"#{tags.get(REFIT_OF_TAG, '?')}",
        "state": tags.get(STATE_TAG, "-"),
        "outcome": tags.get(OUTCOME_TAG, "-"),
        "epochs planned": params.get(REFIT_EPOCHS_PARAM, "-"),
        "epochs run": _integer(metrics.get("epochs_run")),
        "best epoch": _integer(metrics.get("best_epoch")),
        "val accuracy": f"{accuracy:.4f}" if accuracy is not None else "-",
        "params": f"{int(metrics['n_params']):,}" if "n_params" in metrics else "-",
        "resumed": tags.get(N_RESUMES_TAG, "0"),
    }


def _integer(value: float | None) -> str:
    return "-" if value is None else str(int(value))
