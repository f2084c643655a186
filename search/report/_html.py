"""Renders report sections as ONE self-contained HTML page that opens offline.

plotly.js is inlined once in the page head; each figure is stored as its plotly JSON in a
``<script type="application/json" class="plotly-figure">`` element and drawn by one small loop, so the
page stays valid when sections are added and tests can read every figure back.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from search.report._section import Section, SectionContent

FIGURE_SCRIPT_CLASS = "plotly-figure"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1300px;
       padding: 1rem 2rem 4rem; color: #1f2933; }
h1 { margin-bottom: 0.2rem; } .subtitle { color: #52606d; margin-top: 0; }
nav ol { columns: 2; } section { border-top: 1px solid #d9e2ec; padding-top: 0.5rem; margin-top: 1.5rem; }
.caption { color: #334e68; } .note { background: #fff8e1; border-left: 4px solid #f0b429; padding: 0.6rem 1rem; }
.figure { width: 100%; overflow-x: auto; } .table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.5rem 0; }
th, td { border: 1px solid #d9e2ec; padding: 0.25rem 0.6rem; text-align: right; white-space: nowrap; }
th { background: #f0f4f8; } td:first-child, th:first-child { text-align: left; }
"""

_DRAW_FIGURES = f"""
document.querySelectorAll("script.{FIGURE_SCRIPT_CLASS}").forEach(function (source) {{
  var figure = JSON.parse(source.textContent);
  Plotly.newPlot(source.dataset.target, figure.data, figure.layout || {{}}, {{responsive: true}});
}});
"""


def render_page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole page: head with plotly.js (once), a table of contents, then every section."""
    body = []
    n_figures = 0
    for number, section in enumerate(sections, start=1):
        rendered, n_figures = _render_section(number, section, n_figures)
        body.append(rendered)
    contents = "".join(f'<li><a href="#section-{n}">{html.escape(s.title)}</a></li>'
                       for n, s in enumerate(sections, start=1))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n<p class=\"subtitle\">{html.escape(subtitle)}</p>\n"
        f"<nav><ol>{contents}</ol></nav>\n" + "\n".join(body)
        + f"\n<script type=\"text/javascript\">{_DRAW_FIGURES}</script>\n</body>\n</html>\n"
    )


def figure_json(figure: go.Figure) -> str:
    """The figure's plotly JSON, safe inside a ``<script>`` element (``</`` is escaped as ``<\\/``)."""
    return pio.to_json(figure, validate=True).replace("</", "<\\/")


def _render_section(number: int, section: Section, n_figures: int) -> tuple[str, int]:
    parts = [f'<section id="section-{number}">', f"<h2>{html.escape(section.title)}</h2>"]
    if section.note:
        parts.append(f'<p class="note">{html.escape(section.note)}</p>')
    if section.content is not None:
        content_html, n_figures = _render_content(section.content, n_figures)
        parts.append(content_html)
    parts.append("</section>")
    return "\n".join(parts), n_figures


def _render_content(content: SectionContent, n_figures: int) -> tuple[str, int]:
    parts = []
    if content.caption:
        parts.append(f'<p class="caption">{html.escape(content.caption)}</p>')
    for figure in content.figures:
        n_figures += 1
        target = f"figure-{n_figures}"
        parts.append(f'<div class="figure" id="{target}"></div>')
        parts.append(f'<script type="application/json" class="{FIGURE_SCRIPT_CLASS}" data-target="{target}">'
                     f"{figure_json(figure)}</script>")
    if content.table is not None:
        parts.append(f'<div class="table-wrap">{table_html(content.table)}</div>')
    return "\n".join(parts), n_figures


def table_html(table: pd.DataFrame) -> str:
    """An escaped HTML table; missing values shown as ``-``."""
    return table.to_html(escape=True, na_rep="-", border=0, index_names=False,
                         float_format=lambda value: f"{value:.4g}")
