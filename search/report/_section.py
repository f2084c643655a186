"""One section of a study report: a title, an optional caption, figures and a table, or a note instead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go


class SectionUnavailable(Exception):
    """A section cannot be drawn yet (e.g. too few completed trials); its message is shown as a note."""


@dataclass(frozen=True)
class SectionContent:
    """What a section shows: a caption, plotly figures and/or one table.

    Args:
        caption: Plain text shown under the title (what the reader looks at, where it comes from).
        figures: Plotly figures, drawn in order.
        table: A DataFrame rendered as an HTML table (its index becomes the first column).
    """

    caption: str = ""
    figures: tuple[go.Figure, ...] = ()
    table: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not self.caption and not self.figures and self.table is None:
            raise ValueError("a section needs a caption, a figure or a table; raise SectionUnavailable instead")


@dataclass(frozen=True)
class Section:
    """A titled section of the report: its content, or a note saying why it cannot be shown."""

    title: str
    content: SectionContent | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("a section needs a title")
        if (self.content is None) == (not self.note):
            raise ValueError(f"section {self.title!r} needs exactly one of content or note")
