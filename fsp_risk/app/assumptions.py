"""``fsp-risk assumptions export|import``: the assumption book in Excel and back.

Export writes one row per input (:func:`fsp_risk.config.book.book_rows`) with drop-down lists for the
distribution, the evidence rating and the per-year flag, and the distribution's central value, P10 and P90 as it
is now beside each row, read only. Import reads the edited rows back, checks them with the config's own
validation and wording (one line per problem, naming the sheet, row and column), and writes a new config that
keeps the original's comments and layout, with the change list at its head.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from fsp_risk.config import Config
from fsp_risk.config.book import COLUMNS, EDITABLE, SHEET, SHOWN, Edited, apply_rows, book_rows, with_change_list
from fsp_risk.config.distributions import KINDS
from fsp_risk.config.limits import EVIDENCE
from fsp_risk.config.shipped import is_shipped
from fsp_risk.errors import ConfigError

#: The sheet that says what the book is and where it came from.
ABOUT_SHEET = "Read me"
#: Column widths [characters] for the columns a reader reads most.
_WIDE = {"input": 28, "title": 40, "units": 16, "source": 60, "owner": 28, "correlation": 40}


class BookError(ConfigError):
    """An assumption book that cannot be imported: every problem found, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the assumption book: "
                         + "; ".join(problems))
        self.problems = problems


def export_book(config: Config, path: str | Path) -> Path:
    """Write ``config``'s assumption book to a new workbook at ``path`` (refused if the file exists)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from fsp_risk.outputs.workbook import _text_stays_text, correlation_text

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ConfigError("expected a workbook name ending .xlsx", file=str(path))
    if path.exists():
        raise ConfigError("already exists; expected a new file name (nothing is overwritten)", file=str(path))
    rows = book_rows(config, correlation_text(config))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    header = [*COLUMNS, *SHOWN]
    ws.append(header)
    for row in rows:
        ws.append([row[c] for c in header])
    grey = PatternFill("solid", fgColor="E7E6E6")
    for j, col in enumerate(header, start=1):
        letter = get_column_letter(j)
        head = ws.cell(row=1, column=j)
        head.font = Font(bold=True)
        head.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[letter].width = _WIDE.get(col, 12)
        for cell in ws[letter][1:]:
            if col in ("date", "review"):
                cell.number_format = "yyyy-mm-dd"
            if col in SHOWN:
                cell.fill = grey
                if isinstance(cell.value, float):  # as a reader reads it: four significant figures, thousands split
                    cell.number_format = "#,##0" if abs(cell.value) >= 1000 else "0.0###"
            else:
                cell.protection = Protection(locked=False)
        if col in SHOWN:
            head.fill = grey
    last = len(rows) + 1
    for col, options in (("dist", KINDS), ("evidence", EVIDENCE), ("per_year", ("TRUE", "FALSE"))):
        letter = get_column_letter(header.index(col) + 1)
        rule = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=col != "dist",
                              showErrorMessage=True, errorTitle=f"{col}", error=f"Expected one of: {', '.join(options)}")
        rule.add(f"{letter}2:{letter}{max(last, 2)}")
        ws.add_data_validation(rule)
    ws.freeze_panes = "B2"
    # The grey columns are locked (no password: this guards against a slip, not a person) and the rest left
    # open, so an edit of a figure import would not read is refused by Excel, not silently ignored.
    ws.protection.sheet = True
    ws.protection.formatCells = ws.protection.formatColumns = ws.protection.sort = ws.protection.autoFilter = False
    _text_stays_text(ws)

    about = wb.create_sheet(ABOUT_SHEET)
    for line in _about(config):
        about.append(line)
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 110
    _text_stays_text(about)
    _save_new(path, wb.save)
    return path


def _about(config: Config) -> list[tuple[str, str]]:
    return [
        ("fsp-risk assumption book", ""),
        ("config", str(config.path)),
        ("config_name", config.name),
        ("config_sha256", config.sha256),
        ("exported", dt.date.today().isoformat()),
        ("", ""),
        ("How to use", f"Edit the white columns of the '{SHEET}' sheet, one row per input, then run: fsp-risk "
                       f"assumptions import CONFIG THIS.xlsx --out NEW.yaml. The new config keeps every comment and "
                       f"line of the old one that was not edited, and lists the changes at its head."),
        ("Distribution", "dist and the fields that kind takes, as in the config: pert and triangular take low, mode, "
                         "high (or an expert's p10, p50, p90); normal and lognormal mean, sd (normal also min, max); "
                         "uniform low, high; beta alpha, beta (and low, high); bernoulli p; discrete values, probs "
                         "(lists written 'a, b, c'); fixed value. central overrides the value a deterministic run "
                         "uses. An emptied cell removes that field."),
        ("Provenance", "source (paper and paragraph, or public statistic and year), owner, evidence (green, amber or "
                       "red), date of the evidence and review date (yyyy-mm-dd)."),
        ("Read only (grey)", "central_now, p10_now, p90_now: the distribution's central value (the most likely value "
                             "for triangular and PERT), P10 and P90 as the config had it when exported; correlation: "
                             "its rank correlations and common drivers, edited in the YAML. The sheet is protected "
                             "(no password) so that these are not edited by mistake: import does not read them."),
        ("per_year", "TRUE: a value is drawn afresh for each year; FALSE: one value for the whole horizon."),
        ("Not here", "Adding, renaming or removing an input, and correlations: edit the YAML. Inputs a risk register "
                     "CSV defines are edited in that CSV."),
    ]


def read_book(path: str | Path) -> tuple[dict[str, Edited], str | None, list[str]]:
    """The rows of a book by input name, the config digest it was exported from (None if not recorded), and the
    problems with its shape (a missing sheet or column, a repeated input)."""
    from openpyxl import load_workbook

    path = Path(path)
    try:
        # Not data_only: a formula typed into a cell comes back as its text, which the checks then refuse.
        wb = load_workbook(path, read_only=True)
    except FileNotFoundError:
        raise ConfigError("assumption book not found; expected an .xlsx file exported by 'fsp-risk assumptions "
                          "export'", file=str(path)) from None
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise ConfigError(f"cannot be read as an Excel workbook (.xlsx): {exc}", file=str(path)) from None
    try:
        if SHEET not in wb.sheetnames:
            return {}, None, [f"{path.name}: no sheet {SHEET!r}; expected the book exported by 'fsp-risk assumptions "
                              f"export' (sheets: {', '.join(wb.sheetnames)})"]
        values = list(wb[SHEET].iter_rows(values_only=True))
        digest = None
        if ABOUT_SHEET in wb.sheetnames:
            digest = next((r[1] for r in wb[ABOUT_SHEET].iter_rows(values_only=True)
                           if r and r[0] == "config_sha256"), None)
    finally:
        wb.close()
    header = [str(h).strip() if h is not None else "" for h in (values[0] if values else ())]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return {}, digest, [f"{path.name}: sheet {SHEET}, row 1: no column {c!r}; expected the exported columns "
                            f"({', '.join(COLUMNS)})" for c in missing]
    at = {c: header.index(c) for c in COLUMNS}
    rows: dict[str, Edited] = {}
    problems = []
    for r, line in enumerate(values[1:], start=2):
        line = list(line) + [None] * (len(header) - len(line))
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in line):
            continue
        name = line[at["input"]]
        name = str(name).strip() if name is not None else ""
        if not name:
            problems.append(f"{where(path.name, r, 'input')}: expected the input's name, got nothing")
            continue
        if name in rows:
            problems.append(f"{where(path.name, r, 'input')}: input {name!r} is also in row {rows[name].row}; "
                            "expected one row per input")
            continue
        rows[name] = Edited(r, {c: line[at[c]] for c in EDITABLE})
    return rows, digest, problems


def where(book: str, row: int | None, column: str | None) -> str:
    """A cell as a message names it: the book, sheet, row and column (its letter and name)."""
    from openpyxl.utils import get_column_letter

    text = f"{book}: sheet {SHEET}"
    if row is not None:
        text += f", row {row}"
    if column is not None and column in COLUMNS:
        text += f", column {get_column_letter(COLUMNS.index(column) + 1)} ({column})"
    return text


def import_book(config: Config, book: str | Path, out: str | Path | None = None) -> tuple[Path, list]:
    """Apply an edited assumption book to ``config`` and write the new config (refused if it exists, and with
    every problem found if any). Returns the new file and the changes. The new config goes to ``out``, by
    default beside the config as ``NAME-assumptions.yaml`` (in this folder for a config inside fsp-risk)."""
    book = Path(book)
    rows, digest, problems = read_book(book)
    if digest is not None and digest != config.sha256:
        problems.insert(0, f"{book.name}: was exported from a different version of {Path(config.path).name}; "
                           "expected a book exported from the config as it is now (export it again, then re-enter "
                           "the edits), so that no later change to the config is undone")
    if rows or not problems:  # each row checked too, whatever else is wrong with the book
        text, changes, found = apply_rows(config, rows, lambda r, c: where(book.name, r, c))
        problems += found
    if problems:
        raise BookError(problems)
    source = Path(config.path)
    target = Path(out) if out else (Path.cwd() / source.name if is_shipped(source) else source).with_name(
        f"{source.stem}-assumptions.yaml")
    if target.exists():
        raise ConfigError("already exists; expected a new file name (nothing is overwritten)", file=str(target))
    files = {target: with_change_list(text, changes, book.name)}
    if target.parent.resolve() != source.parent.resolve():
        from fsp_risk.app.folders import check_inside

        for written, attached in config.attachments.items():  # the files it reads, beside it as it names them
            dest = check_inside(target.parent, target.parent / written, what="the new config's folder")
            if not dest.exists() or dest.read_text(encoding="utf-8") != attached:
                if dest.exists():
                    raise ConfigError(f"already exists with other content; expected the file {written!r} the config "
                                      "attaches, or no file", file=str(dest))
                files[dest] = attached
    for dest, content in files.items():
        dest.parent.mkdir(parents=True, exist_ok=True)
        _save_new(dest, lambda p, content=content: Path(p).write_text(content, encoding="utf-8"))
    return target, changes


def _save_new(path: Path, write) -> None:
    """``write(temporary path)`` then move it to ``path`` whole, refusing a file made meanwhile."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # same disk: link works
    os.close(fd)
    try:
        write(tmp)
        os.link(tmp, path)  # fails if path exists: never over a file made meanwhile
    finally:
        os.unlink(tmp)
