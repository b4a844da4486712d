"""The assumption book in Excel and back: export, edit, import into a new config that keeps the old one's text."""
import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries

import fsp_risk
from fsp_risk.app import cli
from fsp_risk.app.assumptions import BookError, export_book, import_book
from fsp_risk.config import load_config
from fsp_risk.config.book import COLUMNS, SHEET, SHOWN
from fsp_risk.errors import ConfigError

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))


def _edit(book: Path, to: Path, edits: dict[tuple[str, str], object]) -> Path:
    """A copy of ``book`` with cells set by (input, column)."""
    wb = openpyxl.load_workbook(book)
    ws = wb[SHEET]
    header = [c.value for c in ws[1]]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    for (name, column), value in edits.items():
        ws.cell(rows[name], header.index(column) + 1).value = value
    wb.save(to)
    return to


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_round_trip_without_edits_simulates_bitwise_the_same(path, tmp_path):
    config = load_config(path)
    book = export_book(config, tmp_path / "book.xlsx")
    new, changes = import_book(config, book, tmp_path / "new.yaml")
    assert changes == []
    text = new.read_text(encoding="utf-8")
    # Every line of the original kept, byte for byte, with a one-line change list after the line naming the schema.
    lines = text.splitlines()
    assert lines[0] == config.text.splitlines()[0] == "# yaml-language-server: $schema=fsp-risk-config.schema.json"
    assert lines[1].startswith("# Assumptions imported from book.xlsx") and lines[1].endswith("0 changes")
    assert [lines[0], *lines[2:]] == config.text.splitlines()
    again = load_config(new)
    a = fsp_risk.simulate(config, iterations=2_000, seed=4)
    b = fsp_risk.simulate(again, iterations=2_000, seed=4)
    for name in a.data_vars:
        np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)


def test_the_book_has_a_row_per_input_with_lists_and_the_distribution_beside(config_2024, tmp_path):
    book = export_book(config_2024, tmp_path / "book.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb[SHEET]
    header = [c.value for c in ws[1]]
    assert header == [*COLUMNS, *SHOWN]
    names = [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]
    assert names == list(config_2024.inputs)
    lists = {ws.cell(1, range_boundaries(str(rule.sqref))[0]).value: rule.formula1
             for rule in ws.data_validations.dataValidation}
    assert lists == {"dist": '"fixed,uniform,triangular,pert,normal,lognormal,beta,bernoulli,discrete"',
                     "evidence": '"green,amber,red"', "per_year": '"TRUE,FALSE"'}
    row = names.index("sw_turnover") + 2
    cell = {h: ws.cell(row, j + 1).value for j, h in enumerate(header)}
    assert (cell["dist"], cell["low"], cell["mode"], cell["high"]) == ("pert", 0.12, 0.17, 0.3)
    assert cell["p10_now"] < cell["central_now"] == 0.17 < cell["p90_now"]
    assert cell["date"] == dt.datetime(2024, 2, 29)
    # A year-valued input shows year labels; its list stays a list.
    row = names.index("public_health_end_year") + 2
    cell = {h: ws.cell(row, j + 1).value for j, h in enumerate(header)}
    assert cell["values"] == "2025/26" and cell["central_now"] == "2025/26"


def test_an_edit_is_applied_listed_and_nothing_else_moves(config_2024, tmp_path):
    book = export_book(config_2024, tmp_path / "book.xlsx")
    edited = _edit(book, tmp_path / "edited.xlsx", {
        ("sw_turnover", "mode"): 0.2,
        ("sw_turnover", "review"): dt.datetime(2026, 3, 31),
        # An expert's P10/P50/P90 in place of low/mode/high: the old fields go, the new ones come.
        ("demand_growth_multiplier", "low"): None, ("demand_growth_multiplier", "mode"): None,
        ("demand_growth_multiplier", "high"): None, ("demand_growth_multiplier", "p10"): 0.9,
        ("demand_growth_multiplier", "p50"): 1.0, ("demand_growth_multiplier", "p90"): "1.2",
    })
    new, changes = import_book(config_2024, edited, tmp_path / "new.yaml")
    listed = [str(c) for c in changes]
    assert "inputs.sw_turnover.mode: 0.17 → 0.2" in listed
    assert "inputs.sw_turnover.review: 2025-02-28 → 2026-03-31" in listed or any("sw_turnover.review" in c for c in listed)
    assert "inputs.demand_growth_multiplier.p90: (none) → 1.2" in listed
    assert len(changes) == 8
    text = new.read_text(encoding="utf-8")
    head = text.splitlines()[1: 2 + len(changes)]
    assert head[0].endswith("8 changes") and all(f"#   {c}" in head for c in listed)
    loaded = load_config(new)
    assert loaded.inputs["sw_turnover"].dist.params["mode"] == 0.2
    assert loaded.inputs["sw_turnover"].review == dt.date(2026, 3, 31)
    growth = loaded.inputs["demand_growth_multiplier"].dist
    assert np.allclose(growth.ppf(np.array([0.1, 0.5, 0.9])), [0.9, 1.0, 1.2], atol=1e-6)
    # Only the edited lines differ; every comment and source line is kept.
    old = config_2024.text.splitlines()
    body = text.splitlines()[:1] + text.splitlines()[2 + len(changes):]
    assert [line for line in old if line.lstrip().startswith("#")] == [line for line in body if line.lstrip().startswith("#")]
    assert len(set(old) ^ set(body)) <= 2 * 8


def test_bad_rows_are_refused_one_line_each_naming_sheet_row_and_column(config_2024, tmp_path, capsys):
    book = export_book(config_2024, tmp_path / "book.xlsx")
    bad = _edit(book, tmp_path / "bad.xlsx", {
        ("sw_turnover", "mode"): "abc",
        ("demand_growth_multiplier", "evidence"): "purple",
        ("entry_reduction", "high"): -1,
        ("sw_turnover", "date"): "last spring",
    })
    with pytest.raises(BookError) as info:
        import_book(config_2024, bad, tmp_path / "new.yaml")
    problems = info.value.problems
    assert len(problems) == 4, problems
    names = list(config_2024.inputs)
    row = names.index("sw_turnover") + 2
    assert f"bad.xlsx: sheet Assumptions, row {row}, column F (mode): mode: expected a number, got 'abc'" in problems
    assert any("column Y (evidence): expected one of green, amber, red, got 'purple'" in p for p in problems)
    assert any("column G (high): low, mode, high: expected low <= mode <= high" in p for p in problems)
    assert any(f"row {row}, column Z (date):" in p for p in problems)
    assert not (tmp_path / "new.yaml").exists()
    # The command line prints each, and writes nothing.
    assert cli.main(["assumptions", "import", str(config_2024.path), str(bad), "--out", str(tmp_path / "n.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("fsp-risk: error: bad.xlsx: sheet Assumptions, row") == 4 and "nothing was written" in err
    assert not (tmp_path / "n.yaml").exists()


def test_a_range_the_model_cannot_take_is_refused_at_its_cell(config_2024, tmp_path):
    book = export_book(config_2024, tmp_path / "book.xlsx")
    # A turnover above 1 a year passes the distribution's own checks, not the workforce model's bounds.
    bad = _edit(book, tmp_path / "bad.xlsx", {("sw_turnover", "high"): 1.5})
    with pytest.raises(BookError) as info:
        import_book(config_2024, bad, tmp_path / "new.yaml")
    row = list(config_2024.inputs).index("sw_turnover") + 2
    assert len(info.value.problems) == 1 and f"row {row}" in info.value.problems[0], info.value.problems


def test_import_refuses_overwriting_a_stale_book_and_stray_rows(config_2024, tmp_path):
    book = export_book(config_2024, tmp_path / "book.xlsx")
    with pytest.raises(ConfigError, match="already exists"):
        export_book(config_2024, book)
    (tmp_path / "taken.yaml").write_text("x")
    with pytest.raises(ConfigError, match="already exists"):
        import_book(config_2024, book, tmp_path / "taken.yaml")
    assert (tmp_path / "taken.yaml").read_text() == "x"
    # A book exported from another version of the config would undo that version's changes.
    changed = fsp_risk.config.parse_config(config_2024.text + "\n# a later edit\n", config_2024.path)
    with pytest.raises(BookError, match="different version"):
        import_book(changed, book, tmp_path / "new.yaml")
    # Rows cannot add, repeat or drop inputs.
    wb = openpyxl.load_workbook(book)
    ws = wb[SHEET]
    ws.cell(2, 1).value = "no_such_input"
    ws.cell(3, 1).value = ws.cell(4, 1).value
    wb.save(tmp_path / "rows.xlsx")
    with pytest.raises(BookError) as info:
        import_book(config_2024, tmp_path / "rows.xlsx", tmp_path / "new.yaml")
    text = "\n".join(info.value.problems)
    assert "unknown input 'no_such_input'" in text and "also in row 3" in text and "no row for input" in text


def test_config_text_never_becomes_a_formula_in_the_book(config_2024, tmp_path):
    text = config_2024.text.replace("title: Social worker turnover", "title: '=HYPERLINK(\"http://x\",\"y\")'")
    config = fsp_risk.config.parse_config(text, str(tmp_path / "c.yaml"))
    book = export_book(config, tmp_path / "book.xlsx")
    ws = openpyxl.load_workbook(book)[SHEET]
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert cells and all(c.data_type == "s" for c in cells)


def test_a_new_config_elsewhere_takes_the_register_csv_it_reads(tmp_path):
    from test_risk_register import import_config

    path = import_config(tmp_path, "id,title,owner,likelihood,impact\nC1,Grant ends,FBP,4,3\n")
    config = load_config(path)
    book = export_book(config, tmp_path / "book.xlsx")
    # The register's own scores are edited in its CSV, not here: only the YAML's inputs have rows.
    names = [r[0] for r in openpyxl.load_workbook(book)[SHEET].iter_rows(min_row=2, values_only=True)]
    assert "imported_C1_likelihood" in config.inputs and "imported_C1_likelihood" not in names
    (tmp_path / "elsewhere").mkdir()
    new, _ = import_book(config, book, tmp_path / "elsewhere" / "new.yaml")
    assert (tmp_path / "elsewhere" / "register.csv").read_text() == (tmp_path / "register.csv").read_text()
    assert [r.id for r in load_config(new).risk_register.risks] == ["C1"]
