"""The report's accuracy-latency section: validation accuracy against single-face latency, front marked.

Every completed trial timed on its machine is a dot; the Pareto front (no trial both more accurate and
faster) is joined by a line and listed in a table, fastest first — the same rows as ``best --pareto``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from search.report._section import SectionContent, SectionUnavailable
from search.selection import LeaderboardRow, leaderboard, pareto_front

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from search.report._context import ReportContext

TITLE = "Accuracy against latency (Pareto front)"


def pareto_section(context: ReportContext) -> SectionContent:
    """The scatter of accuracy against latency with the front, and the front as a table."""
    rows = [row for row in leaderboard(context.study) if row.latency_ms is not None]
    if not rows:
        raise SectionUnavailable(
            "Needs more trials: the accuracy-latency figure needs at least 1 completed trial timed on its machine "
            "(this study has none; trials run before latency was measured have no figure)."
        )
    front = pareto_front(rows)
    table = pd.DataFrame([{
        "trial": f"#{row.trial}", "val accuracy": f"{row.val_accuracy:.4f}", "ms per face": f"{row.latency_ms:.2f}",
        "ms per batch of 64": f"{row.latency_batch_ms:.2f}" if row.latency_batch_ms is not None else "-",
        "leaderboard rank": row.rank,
    } for row in front]).set_index("trial")
    caption = (f"Validation accuracy of {len(rows)} completed trial(s) against the median single-face latency of "
               "their network, timed on the machine that trained it (Keras, CPU unless the study ran on a GPU). "
               f"The {len(front)} trial(s) on the Pareto front (red) are those no other trial beats on both; "
               "`python -m search best --pareto` lists them.")
    return SectionContent(caption=caption, figures=(_figure(rows, front),), table=table)


def _figure(rows: list[LeaderboardRow], front: list[LeaderboardRow]) -> go.Figure:
    import plotly.graph_objects as go

    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=[row.latency_ms for row in rows], y=[row.val_accuracy for row in rows], mode="markers",
        name="trial", text=[f"#{row.trial}" for row in rows], marker={"color": "#8aa1c1", "size": 8},
        hovertemplate="trial %{text}<br>%{x:.2f} ms per face<br>accuracy %{y:.4f}<extra></extra>",
    ))
    figure.add_trace(go.Scatter(
        x=[row.latency_ms for row in front], y=[row.val_accuracy for row in front], mode="lines+markers",
        name="Pareto front", text=[f"#{row.trial}" for row in front], line={"shape": "hv", "color": "#d62728"},
        marker={"color": "#d62728", "size": 10},
        hovertemplate="trial %{text} (front)<br>%{x:.2f} ms per face<br>accuracy %{y:.4f}<extra></extra>",
    ))
    figure.update_layout(xaxis_title="single-face latency (ms, median)", yaxis_title="validation accuracy",
                         legend={"orientation": "h"})
    return figure
