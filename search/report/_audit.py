"""The data audit in the report (and as a page of its own for ``python -m search audit --html``).

Read back from the ``audit/audit.json`` the study logged when it started: a report never reloads the data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from search.report._section import Section, SectionContent, SectionUnavailable
from search.tracking import AUDIT_ARTIFACT

if TYPE_CHECKING:
    from search.report._context import ReportContext

TITLE = "Data audit: duplicates, label conflicts, blank images"


def read_audit(context: ReportContext) -> dict[str, Any] | None:
    """The audit the study logged on its parent run, or None (a study made before audits existed)."""
    text = context.tracker.read_text(context.parent_run_id, AUDIT_ARTIFACT)
    return json.loads(text) if text else None


def overlap_headline(record: Mapping[str, Any]) -> str:
    """``280 of 3589 validation faces and 288 of 3589 test faces also appear in training (byte-identical).``"""
    exact, n_images = record["exact_duplicates"], record["n_images"]
    parts = [f"{exact[name]['train']} of {n_images[name]} {name} faces" for name in ("validation", "test")
             if name in exact]
    text = " and ".join(parts) + " also appear in training (byte-identical pixels)"
    dropped = record.get("dropped_by_dedupe") or {}
    if record.get("dedupe"):
        text += (f"; --dedupe dropped {dropped.get('validation', 0)} validation and {dropped.get('test', 0)} test "
                 "faces before the study")
    return text + "."


def audit_section(context: ReportContext) -> SectionContent:
    """The report's audit section (a note for a study made before audits were logged)."""
    record = read_audit(context)
    if record is None:
        raise SectionUnavailable(f"The study's MLflow run has no {AUDIT_ARTIFACT} (studies started before the "
                                 "audit existed); run `python -m search audit --data <its data>` to see it.")
    return audit_content(record)


def audit_content(record: Mapping[str, Any]) -> SectionContent:
    """Caption (headline and rules) and one table: exact and near duplicates per pair of splits, blanks, classes."""
    rules = record["rules"]
    caption = (f"{overlap_headline(record)} {record['conflicting_label_groups']} groups of identical faces "
               f"({record['conflicting_label_images']} faces) carry more than one label. "
               f"Rules: exact = {rules['exact']}; "
               f"near = {rules['near']}; blank = {rules['blank']}. Audit took {record['seconds']:.1f} s.")
    return SectionContent(caption=caption, table=audit_table(record))


def audit_table(record: Mapping[str, Any]) -> pd.DataFrame:
    """One row per split: size, exact and near duplicates in each split, blanks, then the class counts."""
    splits = list(record["splits"])
    rows: dict[str, dict[str, Any]] = {}
    for name in splits:
        row: dict[str, Any] = {"faces": record["n_images"][name]}
        for other in splits:
            label = "repeated within" if other == name else f"also in {other}"
            row[f"exact: {label}"] = record["exact_duplicates"][name][other]
        for other in splits:
            label = "within" if other == name else f"near {other}"
            row[f"near-dup ({'<=' + str(record['threshold'])} bits): {label}"] = record["near_duplicates"][name][other]
        row[f"blank ({record['rules']['blank']})"] = record["blank"][name]
        row.update(record["class_counts"][name])
        rows[name] = row
    return pd.DataFrame(rows).T.rename_axis("split")


def audit_page(record: Mapping[str, Any], source: str) -> str:
    """A self-contained HTML page of the audit (``audit --html``)."""
    from search.report._html import render_page

    section = Section(title=TITLE, content=audit_content(record))
    return render_page(f"Data audit: {source}", overlap_headline(record), [section])
