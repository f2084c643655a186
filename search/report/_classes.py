"""Class distribution per split, from the ``data/class_counts.csv`` the study logged when it was created.

Read from the parent run rather than by reloading the data: a report must be cheap and must not need
the dataset to still be where it was.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from fer_core.emotions import EMOTIONS
from search.report._section import SectionContent, SectionUnavailable
from search.tracking import CLASS_COUNTS_ARTIFACT

if TYPE_CHECKING:
    from search.tracking import StudyTracker

SPLIT_NAMES = ("train", "validation", "test")


def class_distribution(tracker: StudyTracker, parent_run_id: str, *, subset: float = 1.0) -> SectionContent:
    """A grouped bar chart of each class's share per split, and the counts table."""
    text = tracker.read_text(parent_run_id, CLASS_COUNTS_ARTIFACT)
    if text is None:
        raise SectionUnavailable(
            f"The study's MLflow run has no {CLASS_COUNTS_ARTIFACT} artifact (it is logged when "
            "`python -m search run` creates a study), so the class distribution cannot be shown."
        )
    table = parse_class_counts(text)
    caption = "Images per emotion in each split; bars show each class's share of its split."
    if subset < 1.0:
        caption += f" Trials trained on a stratified {subset:.0%} subset of the training split."
    return SectionContent(caption=caption, figures=(class_share_figure(table),), table=table)


def parse_class_counts(text: str) -> pd.DataFrame:
    """The logged table (index: emotions + ``total``; columns ``<split>`` and ``<split> %``), checked."""
    table = pd.read_csv(io.StringIO(text), index_col=0)
    expected = [column for name in SPLIT_NAMES for column in (name, f"{name} %")]
    missing = [column for column in expected if column not in table.columns]
    unknown_rows = [row for row in EMOTIONS if row not in table.index]
    if missing or unknown_rows:
        raise SectionUnavailable(
            f"{CLASS_COUNTS_ARTIFACT} does not have the expected layout (missing columns: "
            f"{', '.join(missing) or 'none'}; missing emotions: {', '.join(unknown_rows) or 'none'})."
        )
    return table[expected]


def class_share_figure(table: pd.DataFrame) -> go.Figure:
    """Grouped bars: x = emotion, one bar per split with its share in percent; hover shows the count."""
    rows = table.loc[list(EMOTIONS)]
    figure = go.Figure([
        go.Bar(
            name=split, x=list(EMOTIONS), y=rows[f"{split} %"].tolist(), customdata=rows[split].tolist(),
            hovertemplate=f"{split}<br>%{{x}}: %{{customdata}} images (%{{y:.1f}}%)<extra></extra>",
        )
        for split in SPLIT_NAMES
    ])
    figure.update_layout(
        title={"text": "Class distribution per split"}, barmode="group",
        xaxis={"title": {"text": "emotion"}}, yaxis={"title": {"text": "share of the split (%)"}},
    )
    return figure
