"""Plotly rendering of a confusion matrix, for MLflow artifacts and notebooks."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from fer_core.emotions import EMOTIONS


def confusion_heatmap(confusion: np.ndarray, counts: np.ndarray, *, title: str) -> go.Figure:
    """Heatmap of row-normalised ``confusion``; each cell shows the fraction and the count.

    Rows are true classes (first emotion at the top), columns predicted classes.
    """
    text = [
        [f"{fraction:.2f}<br>({count})" for fraction, count in zip(row_fractions, row_counts)]
        for row_fractions, row_counts in zip(confusion.tolist(), counts.tolist())
    ]
    heatmap = go.Heatmap(
        z=confusion,
        x=list(EMOTIONS),
        y=list(EMOTIONS),
        text=text,
        texttemplate="%{text}",
        zmin=0.0,
        zmax=1.0,
        colorscale="Blues",
        colorbar={"title": {"text": "fraction of row"}},
        hovertemplate="true %{y}<br>predicted %{x}<br>%{text}<extra></extra>",
    )
    figure = go.Figure(heatmap)
    figure.update_layout(
        title={"text": title},
        xaxis={"title": {"text": "predicted"}, "side": "bottom"},
        yaxis={"title": {"text": "true"}, "autorange": "reversed"},
        width=640,
        height=560,
    )
    return figure
