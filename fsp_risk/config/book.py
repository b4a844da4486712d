"""The assumption book as rows, and a config's text with edited rows applied.

A row holds one input of the config's ``inputs:`` section as the config writes it: its words, its distribution's
fields (an expert's p10/p50/p90 stay p10/p50/p90), and its provenance. :func:`apply_rows` checks every edited row
with the config's own validation and wording, and writes only what changed into the config's text through a
ruamel.yaml round trip, so every comment, source and line that was not edited stays as it was.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import yaml

from fsp_risk.config.scenarios import _plain
from fsp_risk.config.schema import Config
from fsp_risk.config.shape import DIST_KEYS
from fsp_risk.errors import ConfigError

#: The sheet the book is on.
SHEET = "Assumptions"
#: The distribution's fields, in the order the columns show them.
PARAMS = ("low", "mode", "high", "p10", "p50", "p90", "mean", "sd", "min", "max", "alpha", "beta", "p", "value",
          "values", "probs", "central")
assert set(PARAMS) == set(DIST_KEYS) - {"dist"}
#: The columns a user edits, after the input's name: the book's words, the distribution, the provenance.
EDITABLE = ("title", "units", "dist", *PARAMS, "per_year", "source", "owner", "evidence", "date", "review")
COLUMNS = ("input", *EDITABLE)
#: Columns shown beside, for reading only: the distribution as the config has it now.
SHOWN = ("central_now", "p10_now", "p90_now", "correlation")
_LISTS = ("values", "probs")
_DATES = ("date", "review")
_TEXTS = ("title", "units", "dist", "source", "owner", "evidence")
_EMPTY = object()


def book_rows(config: Config, links: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per input of the config's ``inputs:`` section, its fields as written (lists as "a, b"), and the
    central value, P10 and P90 of its distribution as it is now (year labels for a year-valued input), with
    ``links`` (input name -> its correlations in words) in the ``correlation`` column."""
    raw = (yaml.safe_load(config.text) or {}).get("inputs") or {}
    links = links or {}
    rows = []
    for name, spec in raw.items():
        item = config.inputs[str(name)]
        row: dict[str, Any] = {"input": str(name)}
        for col in EDITABLE:
            value = spec.get(col)
            row[col] = ", ".join(map(str, value)) if isinstance(value, list) else value
        row["per_year"] = bool(spec.get("per_year", False))
        p10, p90 = item.dist.ppf(np.array([0.1, 0.9]))
        shown = [item.dist.central, p10, p90]
        row.update(zip(SHOWN, [config.years[int(v)] if item.year_valued else float(v) for v in shown]))
        row["correlation"] = links.get(str(name), "")
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Edited:
    """A row as read back: where it is (for messages) and its cells by column."""

    row: int
    cells: dict[str, Any]


@dataclass(frozen=True)
class Change:
    """One field changed by an import."""

    input: str
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        show = (lambda v: "(none)" if v is _EMPTY or v is None else (", ".join(map(str, v)) if isinstance(v, list)
                                                                      else str(v)))
        return f"inputs.{self.input}.{self.field}: {show(self.old)} → {show(self.new)}"


def cell_value(column: str, value: Any) -> Any:
    """A cell as the config would write it: empty, a number (whole floats as ints), a date, a list, a boolean or
    a text. What does not convert is passed on as it is, for the config's validation to name."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return _EMPTY
    if isinstance(value, str):
        value = value.strip()
    if column in _TEXTS:
        return value if isinstance(value, str) else (f"{value:g}" if isinstance(value, float) else str(value))
    if column in _DATES:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                return value
        return value
    if column == "per_year":
        if isinstance(value, str) and value.lower() in ("true", "yes", "false", "no"):
            return value.lower() in ("true", "yes")
        return value
    if column in _LISTS:
        items = value.split(",") if isinstance(value, str) else [value]
        return [_number(v.strip() if isinstance(v, str) else v) for v in items]
    return _number(value)


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            value = float(value.replace(",", "")) if value.lower() not in ("nan", "inf", "-inf", "infinity") else value
        except ValueError:
            return value
    if isinstance(value, float) and np.isfinite(value):
        return _plain(value)  # a whole float as an int, as a scenario writes it
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


def apply_rows(config: Config, rows: dict[str, Edited],
               where: Callable[[int | None, str | None], str]) -> tuple[str, list[Change], list[str]]:
    """The config's text with the edited rows applied, the changes made, and the problems found.

    ``rows`` maps input names to their rows as read; ``where(row, column)`` is how a message names a cell (the
    sheet, row and column). Each problem is one line: the cell, then the config's own message for that field.
    With any problem the text is the config's unchanged.
    """
    raw = (yaml.safe_load(config.text) or {}).get("inputs") or {}
    problems: list[str] = []
    for name in raw:
        if str(name) not in rows:
            problems.append(f"{where(None, 'input')}: no row for input {name!r}; expected one row per input (a row "
                            "cannot remove an input: edit the YAML for that)")
    for name, edited in rows.items():
        if name not in raw:
            problems.append(f"{where(edited.row, 'input')}: unknown input {name!r}; expected one of the config's inputs "
                            "(a row cannot add or rename an input: edit the YAML for that)")
    changes: list[Change] = []
    for name, edited in rows.items():
        if name not in raw:
            continue
        was = raw[name]
        spec = dict(was)
        for col in EDITABLE:
            new = cell_value(col, edited.cells.get(col))
            old = was.get(col, _EMPTY)
            if col == "per_year" and new is not _EMPTY and old is _EMPTY and new is False:
                continue  # absent means False
            if new is _EMPTY and old is _EMPTY or (new is not _EMPTY and old is not _EMPTY and _same(old, new)):
                continue
            changes.append(Change(name, col, old, new))
            if new is _EMPTY:
                spec.pop(col, None)
            else:
                spec[col] = new
        problems += _row_problems(config, name, spec, was, {c.field for c in changes if c.input == name},
                                  lambda col, row=edited.row: where(row, col))
    if problems:
        return config.text, changes, problems
    text = _write(config.text, changes)
    try:
        from fsp_risk.config.parse import parse_config

        parse_config(text, config.path, attachments=dict(config.attachments))
    except ConfigError as exc:
        # About an input: in its path, or (a model field's bounds) named in the message.
        named = re.search(r"input '([^']+)'", exc.reason)
        name = (exc.path.split(".")[1] if (exc.path or "").startswith("inputs.")
                else named.group(1) if named else None)
        changed = {c.field for c in changes if c.input == name}
        at = where(rows[name].row, _column(exc, changed)) if name in rows else where(None, None)
        return config.text, changes, [f"{at}: {exc.reason}" + (f" ({exc.path})" if name not in rows and exc.path else "")]
    return text, changes, []


def _row_problems(config: Config, name: str, spec: dict, was: dict, changed: set[str], where) -> list[str]:
    """Every problem with one edited input, by the config's own check of an input and in its wording: after
    each, that field goes back to what the config had and the row is checked again, so a row with several
    bad cells gets a line for each."""
    from fsp_risk.config.fields import _Node
    from fsp_risk.config.inputs import _inputs

    spec, out = dict(spec), []
    for _ in range(len(EDITABLE)):
        try:
            _inputs(_Node({name: spec}, "inputs", config.path), config.years, config.common_drivers)
            return out
        except ConfigError as exc:
            column = _column(exc, changed)
            out.append(f"{where(column)}: {exc.reason}")
            if column not in changed:
                return out  # not an edit of this row's: nothing to put back
            changed = changed - {column}
            if column in was:
                spec[column] = was[column]
            else:
                spec.pop(column, None)
    return out


def _column(exc: ConfigError, changed: set[str]) -> str:
    """The column a config error is about: the field in its path, or of the fields its message starts with
    ("low, mode, high: ...") the first edited one."""
    parts = (exc.path or "").split(".")
    if len(parts) > 2 and parts[2].split("[")[0] in COLUMNS:
        return parts[2].split("[")[0]
    named = [k.strip() for k in exc.reason.split(":")[0].split(",") if k.strip() in COLUMNS]
    return next((k for k in named if k in changed), named[0] if named else "dist")


def _write(text: str, changes: list[Change]) -> str:
    """``text`` with ``changes`` made by a ruamel.yaml round trip: untouched lines stay byte for byte."""
    from ruamel.yaml import YAML

    y = _round_trip(YAML)
    doc = y.load(text)
    for c in changes:
        spec = doc["inputs"][c.input]
        if c.new is _EMPTY:
            del spec[c.field]
        elif c.field in spec:
            spec[c.field] = c.new
        else:
            # A new field goes after the distribution's others (or after dist), where a reader looks for it.
            keys = list(spec)
            after = max([keys.index(k) for k in keys if k in DIST_KEYS] or [len(keys) - 1])
            spec.insert(after + 1, c.field, c.new)
    out = io.StringIO()
    y.dump(doc, out)
    return out.getvalue()


def _round_trip(YAML):
    y = YAML()
    y.preserve_quotes = True
    y.width = 100_000  # never re-wrap a long source line
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def with_change_list(text: str, changes: list[Change], book: str) -> str:
    """``text`` with the change list as comments at its head (after a first line naming the JSON Schema)."""
    lines = text.splitlines(keepends=True)
    keep = 1 if lines and lines[0].startswith("# yaml-language-server:") else 0
    head = [f"# Assumptions imported from {book} (sheet {SHEET}) by 'fsp-risk assumptions import' on "
            f"{dt.date.today().isoformat()}: {len(changes)} change{'s' if len(changes) != 1 else ''}\n"]
    head += [f"#   {str(c)}\n".replace("\n", " ").rstrip() + "\n" for c in changes]
    return "".join(lines[:keep] + head + lines[keep:])
