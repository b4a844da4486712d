"""The run as one self-contained HTML page: the headline paragraph, charts (embedded, with alt text),
the main tables, the assumption book and provenance. Every text from a config or register is escaped."""
from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from fsp_risk.config import Config
from fsp_risk.outputs.charts import Chart
from fsp_risk.outputs.formatting import SIGN_CONVENTION, format_money


def money_over_time_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per year and in total: cashable savings and cost avoidance (means), net savings P50 in cash, real
    terms and present value; the total's present value is the net present value."""
    table = summary.set_index(["variable", "year"])
    columns = {("cashable_savings", "mean"): "Cashable savings (mean)",
               ("cost_avoidance", "mean"): "Cost avoidance (mean)",
               ("net_savings", "p50"): "Net savings, cash (P50)",
               ("net_savings_real", "p50"): "Net savings, real (P50)",
               ("net_savings_pv", "p50"): "Present value (P50)"}
    years = list(dict.fromkeys(summary["year"]))
    rows = []
    for year in years:
        row = {"Year": year}
        for (var, stat), label in columns.items():
            if (var, year) in table.index:
                row[label] = table.loc[(var, year), stat]  # savings are positive amounts saved
        rows.append(row)
    return pd.DataFrame(rows)


def _table_html(frame, money: set[str] = frozenset(), percent: set[str] = frozenset(),
                counts: set[str] = frozenset()) -> str:
    def cell(col, v):
        if isinstance(v, float) and np.isnan(v):
            return ""
        if col in percent:
            return f"{v:.1%}"
        if col in money:
            return format_money(float(v))
        if col in counts:
            return f"{v:,.0f}"
        if isinstance(v, float):
            return f"{v:,.10g}"  # 25,760 and 0.151, not 25760.0
        return html.escape(str(v))

    head = "".join(f"<th scope='col'>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(c, v)}</td>" for c, v in zip(frame.columns, row)) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_report(ds: xr.Dataset, config: Config, folder: Path, charts: list[Chart], findings: list[str],
                tables: dict) -> str:
    """One self-contained HTML page: a contents list, every finding, the charts (embedded SVG, each with
    its title as caption and its alt text), the main tables, the assumption book and provenance."""
    parts = [f"<h1>{html.escape(config.title)}</h1>"]
    sections: list[tuple[str, str]] = []

    def section(anchor: str, title: str) -> None:
        sections.append((anchor, title))
        parts.append(f"<h2 id='{anchor}'>{html.escape(title)}</h2>")

    section("findings", "Findings")
    parts += [f"<p{' class=lead' if k == 0 else ''}>{html.escape(text)}</p>" for k, text in enumerate(findings)]
    parts.append(f"<p class='note'>{html.escape(SIGN_CONVENTION)}</p>")
    section("charts", "Charts")
    for c in charts:
        # Vector, so it prints sharp at any size; text in it is text (see plots.save_figure). An <img> runs
        # nothing inside the file, whatever it holds.
        svg = folder / "charts" / f"{c.name}.svg"
        path, mime = (svg, "image/svg+xml") if svg.is_file() else (svg.with_suffix(".png"), "image/png")
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        parts.append(f"<figure><img src='data:{mime};base64,{data}' alt='{html.escape(c.alt, quote=True)}'>"
                     f"<figcaption>{html.escape(c.title)}</figcaption></figure>")
    net = tables["summary"][tables["summary"]["variable"] == "net_change_to_mtfp"]
    cols = {"year": "Year", "mean": "Mean", "p10": "P10", "p50": "P50", "p80_prudent": "P80 (no worse in 80%)",
            "p90": "P90",
            "p_target_met": "Chance target met", "mean_shortfall": "Mean shortfall",
            "contingency_p80": "Contingency at P80"}
    section("by-year", "Net change to the MTFP by year (positive = pressure)")
    parts += [
              _table_html(net[list(cols)].rename(columns=cols),
                          money={"Mean", "P10", "P50", "P80 (no worse in 80%)", "P90", "Mean shortfall",
                                 "Contingency at P80"},
                          percent={"Chance target met"})]
    money_time = money_over_time_table(tables["summary"])
    section("money-over-time", f"Money over time: cash, real terms and present value (discounted at "
                               f"{float(ds.attrs.get('discount_rate', 0.035)):.1%}; positive = saving)")
    parts += [
              _table_html(money_time, money=set(money_time.columns) - {"Year"})]
    if "value_for_money" in tables:
        vcols = {"measure": "Measure", "units": "Units", "p10": "P10", "p50": "P50", "p90": "P90",
                 "p_npv_positive": "Chance the NPV is positive"}
        vfm = tables["value_for_money"][list(vcols)].rename(columns=vcols)
        vfm["Measure"] = vfm["Measure"].map({"benefits_pv": "Present value of the costs avoided",
                                             "costs_pv": "Present value of the programme's own costs",
                                             "net_present_value": "Net present value",
                                             "benefit_cost_ratio": "Benefit-cost ratio"})
        section("value-for-money", "Value for money: all the programme's own costs against the costs it avoids")
        parts += [
                  _table_html(vfm, percent={"Chance the NPV is positive"})]
    if "scenarios" in tables:
        scols = {"title": "Scenario", "p50": "P50", "p80": "P80", "p_target_met": "Chance target met",
                 "diff_mean": "Mean difference from the base case", "diff_mean_se": "Its sampling standard error"}
        section("scenarios", "Scenarios on the same random numbers: total net change to the MTFP (positive = pressure)")
        parts += [
                  "<p>For the row without FSP, the difference is how much worse the MTFP position would be without the "
                  "programme; the programme's budgeted costs are in the MTFP either way (value for money is below).</p>",
                  _table_html(tables["scenarios"][list(scols)].rename(columns=scols),
                              money={"P50", "P80", "Mean difference from the base case", "Its sampling standard error"},
                              percent={"Chance target met"})]
    if "backtest" in tables:
        bcols_ = {"year": "Year", "title": "Measure", "actual": "Actual", "forecast_p10": "Forecast P10",
                  "forecast_p50": "Forecast P50", "forecast_p90": "Forecast P90", "percentile": "Percentile of forecast"}
        section("backtest", "Backtest: actual outcomes against the forecast")
        parts += [
                  _table_html(tables["backtest"][list(bcols_)].rename(columns=bcols_),
                              counts={"Actual", "Forecast P10", "Forecast P50", "Forecast P90", "Percentile of forecast"})]
    if "risk_register" in tables:
        rcols = {"risk": "Risk", "title": "Title", "p_occurs": "Chance before mitigation",
                 "expected_impact": "Expected £ before", "p_occurs_residual": "Chance after mitigation",
                 "expected_impact_residual": "Expected £ after", "simulated_probability_band": "Probability band",
                 "simulated_impact_score": "Impact score", "differs_from_register": "Differs from the register"}
        section("risks", "Risk register, simulated")
        parts += [
                  _table_html(tables["risk_register"][list(rcols)].rename(columns=rcols),
                              money={"Expected £ before", "Expected £ after"},
                              percent={"Chance before mitigation", "Chance after mitigation"})]
    from fsp_risk.outputs.workbook import assumption_book

    bcols = {"title": "Input", "central": "Central value", "units": "Units", "source": "Source",
             "correlation": "Correlated with", "owner": "Owner", "evidence": "Evidence", "review": "Review by", "review_overdue": "Review overdue"}
    book = assumption_book(config)[list(bcols)].rename(columns=bcols)
    section("assumptions", "Assumption book")
    parts.append(_table_html(book))
    versions = ", ".join(f"{k[len('version_'):]} {v}" for k, v in ds.attrs.items() if k.startswith("version_"))
    section("provenance", "Provenance")
    parts += [
              f"<p>Config <code>{html.escape(config.name)}</code> (SHA-256 {config.sha256}); "
              f"{ds.attrs['iterations']:,} iterations; seed {ds.attrs['seed']}; sampler {ds.attrs['sampler']}; "
              f"{html.escape(versions)}.</p>",
              f"<details><summary>Config as run</summary><pre>{html.escape(config.text)}</pre></details>"]
    contents = ("<nav aria-label='Contents'><h2>Contents</h2><ol>"
                + "".join(f"<li><a href='#{a}'>{html.escape(title)}</a></li>" for a, title in sections) + "</ol></nav>")
    parts.insert(1, contents)
    style = ("body{font-family:Arial,Helvetica,sans-serif;max-width:60em;margin:2em auto;color:#0b0c0c;"
             "line-height:1.45}img{max-width:100%;height:auto}figure{margin:2em 0}figcaption{font-weight:bold}"
             ".note{color:#3d3d3d;font-size:0.9em}"
             "table{border-collapse:collapse;font-size:0.8em;margin:1em 0;width:100%}th,td{border:1px solid #b1b4b6;"
             "padding:0.3em 0.5em;text-align:left;vertical-align:top;overflow-wrap:break-word}th{background:#f3f2f1}"
             "pre{white-space:pre-wrap;font-size:0.75em}.lead{font-size:1.15em}")
    return ("<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'>"
            f"<title>{html.escape(config.title)}</title><style>{style}</style></head><body>"
            + "".join(parts) + "</body></html>")
