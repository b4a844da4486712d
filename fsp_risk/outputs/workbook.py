"""The Excel workbook a finance business partner takes away: ``summary.xlsx``.

Money cells carry a £ number format (negative in red, as in council tables), probabilities a %
format; every sheet has a bold, frozen header row and column widths set to its contents.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from fsp_risk.config import Config
from fsp_risk.outputs.escape import FORMULA_START

MONEY_FORMAT = '£#,##0;[Red]-£#,##0'
PERCENT_FORMAT = "0.0%"
#: Columns that hold probabilities or shares (formatted as %); everything numeric else in a money
#: table is £ unless listed as plain.
PROBABILITY_COLUMNS = {"p_target_met", "p_target_met_se", "p_target_met_cumulative", "p_target_met_cumulative_se", "p_occurs",
                       "p_occurs_residual", "share_of_shortfall_iterations", "share_of_variance", "change_from_central",
                       "p_worse_than_base", "p_target_met_low", "p_target_met_high",
                       "first_order", "first_order_ci", "total_effect", "total_effect_ci"}
PLAIN_COLUMNS = {"rank_correlation", "central", "switching_value", "switching_value_p50", "range_low", "range_high",
                 "simulated_impact_score", "residual_impact_score", "stated_impact_score", "value", "iterations", "percentile",
                 "evaluations"}


def assumption_book(config: Config, today: dt.date | None = None) -> pd.DataFrame:
    """Every input with its distribution, central value and provenance; overdue reviews flagged."""
    today = today or dt.date.today()
    rows = []
    links = correlation_text(config)
    for item in config.inputs.values():
        params = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in item.dist.params.items()
                           if not (isinstance(v, float) and abs(v) == float("inf")))
        rows.append({
            "input": item.name, "title": item.title, "units": item.units,
            "distribution": f"{item.dist.kind} ({params})", "central": item.dist.central,
            "correlation": links.get(item.name, ""),
            "source": item.source, "owner": item.owner, "evidence": item.evidence,
            "date": item.date,
            "after_decision": ("EVIDENCE AFTER DECISION" if config.decision_date and item.date > config.decision_date
                               else ""),
            "review": item.review, "review_overdue": "OVERDUE" if item.review < today else "",
        })
    return pd.DataFrame(rows)


def correlation_text(config: Config) -> dict[str, str]:
    """Each correlated input's links, in words: its common driver, persistence and matrix partners."""
    out: dict[str, list[str]] = {}
    for item in config.inputs.values():
        if item.driver:
            out.setdefault(item.name, []).append(f"loads {item.loading:+g} on driver {item.driver}")
        if item.year_to_year:
            out.setdefault(item.name, []).append(f"year to year {item.year_to_year:g} ({item.year_to_year_source})")
    c = config.correlation
    if c is not None:
        for i, name in enumerate(c.inputs):
            pairs = [f"{other} {c.rank[i][j]:+.2f}" for j, other in enumerate(c.inputs) if j != i and c.rank[i][j]]
            if pairs:
                out.setdefault(name, []).append("rank correlation with " + ", ".join(pairs) + f" ({c.source})"
                                                + (f" [{c.repaired}]" if c.repaired else ""))
    return {name: "; ".join(parts) for name, parts in out.items()}


def headline(ds, summary: pd.DataFrame) -> pd.DataFrame:
    """The figures a reader asks for first, as label and value."""
    table = summary.set_index(["variable", "year"])
    row = table.loc[("net_change_to_mtfp", "total")]
    extra = []
    if ("net_savings_pv", "total") in table.index:
        rate = ds.attrs.get("discount_rate", 0.035)
        extra += [(f"P50 net savings in real terms at {ds.attrs['price_base_year']} prices (positive = saving)",
                   table.loc[("net_savings_real", "total"), "p50"]),
                  (f"P50 present value of net savings at {rate:.1%} real (positive = saving)",
                   table.loc[("net_savings_pv", "total"), "p50"])]
    for name, label in (("cashable_savings", "Mean cashable savings (positive = saving)"),
                        ("cost_avoidance", "Mean cost avoidance, not cashable (positive = saving)")):
        if (name, "total") in table.index:
            extra.append((label, table.loc[(name, "total"), "mean"]))
    return pd.DataFrame([
        ("Horizon", f"{ds.year.values[0]} to {ds.year.values[-1]}"),
        ("Iterations", ds.attrs["iterations"]),
        ("Seed", ds.attrs["seed"]),
        ("Chance the MTFP target is met over the horizon", row["p_target_met"]),
        ("Mean net change to the MTFP (positive = pressure)", row["mean"]),
        ("P50 net change to the MTFP (positive = pressure)", row["p50"]),
        ("P80 net change to the MTFP: no worse than this in 80% of outcomes (positive = pressure)",
         row["p80_prudent"]),
        ("Mean shortfall against the MTFP target (positive = shortfall; a saving counts as none)",
         row["mean_shortfall"]),
        ("Contingency to cover the shortfall in 80% of outcomes", row["contingency_p80"]),
        *extra,
    ], columns=["measure", "value"])


def _text_stays_text(ws) -> None:
    """Store every text cell as text: openpyxl writes a string starting with '=' as a live formula, and a
    title, owner or source from a config or register must never run in the reader's Excel. Text that
    starts like a formula also gets Excel's quote prefix, so editing the cell keeps it text."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f" or (cell.data_type == "s" and isinstance(cell.value, str)
                                         and cell.value.lstrip(" ").startswith(FORMULA_START)):
                cell.data_type = "s"
                cell.quotePrefix = True


def _format_sheet(ws, frame: pd.DataFrame, money: bool) -> None:
    _text_stays_text(ws)
    ws.freeze_panes = "A2"
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for j, col in enumerate(frame.columns, start=1):
        letter = get_column_letter(j)
        values = frame[col]
        width = max([len(str(col))] + [len(str(v)) for v in values.head(200)])
        ws.column_dimensions[letter].width = min(max(10, width + 2), 60)
        if col in PROBABILITY_COLUMNS:
            fmt = PERCENT_FORMAT
        elif money and col not in PLAIN_COLUMNS and pd.api.types.is_numeric_dtype(values):
            fmt = MONEY_FORMAT
        else:
            continue
        for cell in ws[letter][1:]:
            cell.number_format = fmt


def write_workbook(path: Path, ds, config: Config, tables: dict[str, pd.DataFrame]) -> None:
    """Write ``summary.xlsx``: headline, by-year, cumulative and the other tables, then the assumption book.

    ``tables`` maps sheet names to the run's tables (``summary`` and ``cumulative`` at least).
    """
    sheets = [("Headline", headline(ds, tables["summary"]), False),
              ("By year", tables["summary"], True), ("Cumulative", tables["cumulative"], True)]
    for name, title in (("risk_register", "Risk register"), ("risk_portfolio", "Risk portfolio"),
                        ("sensitivity", "Sensitivity"), ("grouped_sensitivity", "Grouped sensitivity"),
                        ("variance_sensitivity", "Variance sensitivity"),
                        ("switching_values", "Switching values"), ("backtest", "Backtest"),
                        ("scenarios", "Scenarios"), ("convergence", "Convergence"),
                        ("value_for_money", "Value for money")):
        if name in tables:
            sheets.append((title, tables[name], name not in ("backtest", "value_for_money", "variance_sensitivity")))
    sheets.append(("Assumption book", assumption_book(config), False))
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for title, frame, money in sheets:
            frame.to_excel(writer, sheet_name=title, index=False)
            _format_sheet(writer.sheets[title], frame, money)
        ws = writer.sheets["Headline"]
        for r, label in enumerate(sheets[0][1]["measure"], start=2):
            cell = ws.cell(row=r, column=2)
            if label.startswith("Chance"):
                cell.number_format = PERCENT_FORMAT
            elif label.startswith(("Mean", "P50", "P80", "Expected", "Contingency")) and "Iterations" not in label:
                cell.number_format = MONEY_FORMAT
