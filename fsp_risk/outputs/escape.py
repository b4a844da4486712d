"""Text from a config or register made inert in each output format.

Titles, owners and sources are typed by people and travel to other people's machines: a cell that
starts with ``=`` runs as a formula in Excel (OWASP, "CSV Injection"), and ``<script>`` in markdown
runs in whatever renders it. Each function here keeps the text readable and takes away its power, for
one format (charts draw text as typed: :func:`fsp_risk.outputs.plots.save_figure`).
"""
from __future__ import annotations

import re

import pandas as pd

#: A cell starting with one of these is read as a formula by Excel, LibreOffice or Google Sheets
#: (OWASP CSV-injection guidance; tab and carriage return hide a formula after them).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


#: A formula character after a semicolon or tab: where Excel splits a CSV on them (a semicolon locale,
#: a tab-separated paste), the piece after the separator starts a new cell.
_AFTER_SEPARATOR = re.compile(r"([;\t] *)([=+\-@])")


def spreadsheet_text(value):
    """A text cell that no spreadsheet evaluates: one starting with a formula character gets a leading
    apostrophe, as OWASP advises (shown as text, the apostrophe hidden in Excel), and so does a formula
    character after a semicolon or tab inside it. Other values as they are."""
    if not isinstance(value, str):
        return value
    value = _AFTER_SEPARATOR.sub(r"\1'\2", value)
    if value.lstrip(" ").startswith(FORMULA_START):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell (and column name) passed through :func:`spreadsheet_text`."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(spreadsheet_text)
    out.columns = [spreadsheet_text(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path) -> None:
    """Write a table as CSV with its text neutralised (:func:`csv_safe`): every CSV fsp-risk writes."""
    csv_safe(frame).to_csv(path, index=False)


# '_' is left alone: inside a word (input ids such as sw_turnover) it never starts emphasis, and emphasis
# elsewhere is cosmetic; what matters is that no tag, link, image or code span can form.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>|~&])")
#: At the start of a line these make a heading, quote, list or rule.
_MARKDOWN_LEADING = re.compile(r"^(\d*)([#>+=.)-])")


def markdown(text: str) -> str:
    """Text safe inside a markdown paragraph or list item: on one line (a newline could start a heading
    or a raw HTML block), with markdown and HTML punctuation backslash-escaped (CommonMark renders
    ``\\<`` as ``<``), so ``<script>`` or ``[x](javascript:...)`` shows as typed and does nothing."""
    flat = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    return _MARKDOWN_LEADING.sub(r"\1\\\2", flat)
