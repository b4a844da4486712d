"""What a run hands its readers: tables for finance, charts and quotable findings for a cabinet paper.

Every chart gets an active title (the finding), a caption (measure, source, period) and one line of
alt text stating its message and key numbers, as published council papers must be accessible.
"""
from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from fsp_risk.analysis.summary import column_percentiles, cumulative_table, horizon_total, summary_table, year_columns
from fsp_risk.config import Config
from fsp_risk.outputs import plots
from fsp_risk.outputs.escape import markdown, write_csv
from fsp_risk.outputs.plots import format_money

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    alt: str


def _source(ds: xr.Dataset, config: Config) -> str:
    return (f"Source: fsp-risk simulation of {config.title}; {ds.attrs['iterations']:,} iterations, "
            f"seed {ds.attrs['seed']}, sampler {ds.attrs['sampler']}.")


def _period(ds: xr.Dataset) -> str:
    return f"{ds.year.values[0]} to {ds.year.values[-1]}"


def _actual_points(backtest: "pd.DataFrame | None", measure: str, years: list[str], sign: float = 1.0) -> dict:
    """{year position: actual} of one measure from a backtest table (empty without one)."""
    if backtest is None:
        return {}
    rows = backtest[backtest["measure"] == measure]
    return {years.index(y): sign * v for y, v in zip(rows["year"], rows["actual"])}


def _backtest_alt(backtest: "pd.DataFrame | None", measures: tuple[str, ...]) -> str:
    if backtest is None:
        return ""
    rows = backtest[backtest["measure"].isin(measures)]
    if rows.empty:
        return ""
    from fsp_risk.analysis.backtest import ordinal

    parts = [f"{r.year} actual {r.actual:,.0f} at the {ordinal(int(round(r.percentile)))} percentile"
             for r in rows.itertuples()]
    return " Actuals: " + "; ".join(parts) + "."


def net_savings_charts(ds: xr.Dataset, config: Config, folder: Path, backtest: "pd.DataFrame | None" = None) -> list[Chart]:
    """Fan chart of net savings by year and S-curve of total net savings (PNG and SVG in ``folder``).

    With a ``backtest`` table, actual net savings (or minus the actual net change) appear on the fan chart.
    """
    years = [str(y) for y in ds.year.values]
    columns = year_columns(ds["net_savings"])
    pct = dict(zip((10, 25, 50, 75, 90), np.column_stack([np.percentile(c, [10, 25, 50, 75, 90]) for c in columns])))
    p_met_year = np.array([(c >= 0).mean() for c in columns])
    del columns
    total = horizon_total(ds["net_savings"])
    p_met = float((total >= 0).mean())
    period = _period(ds)
    after = " after mitigation" if "net_change_inherent" in ds else ""

    fan_title = f"A {p_met:.0%} chance the {years[0]}–{years[-1]} MTFP target is met"
    fan_caption = (f"Net savings against the MTFP{after} by financial year (minus the net change to the MTFP; "
                   f"zero or more meets the target), cash terms. {_source(ds, config)}")
    actual = {**_actual_points(backtest, "net_savings", years),
              **_actual_points(backtest, "net_change_to_mtfp", years, sign=-1.0)}
    if actual:
        fan_caption = fan_caption.replace(" Source:", " Diamonds: actual outturn (a backtest). Source:", 1)
    plots.save_figure(plots.fan_chart(years, pct, p_met_year, fan_title, fan_caption, actual), folder, "net_savings_fan")
    lo, hi = int(np.argmin(p_met_year)), int(np.argmax(p_met_year))
    fan_alt = (f"Fan chart of net savings against the MTFP by year, {period}: the median total is "
               f"{format_money(float(np.median(total)))}; the chance a year's target is met ranges from "
               f"{p_met_year[lo]:.0%} in {years[lo]} to {p_met_year[hi]:.0%} in {years[hi]}."
               + _backtest_alt(backtest, ("net_savings", "net_change_to_mtfp")))

    p50, p20 = np.percentile(total, [50, 20])
    if p20 >= 0:
        s_title = f"80% chance net savings exceed {format_money(p20)}"
    else:
        s_title = f"80% chance the net pressure stays under {format_money(-p20)}"
    s_caption = (f"Cumulative distribution of net savings against the MTFP over {period}{after}, cash terms; "
                 f"the 80%-confidence level is the P80 of the pressure. {_source(ds, config)}")
    plots.save_figure(plots.s_curve(total, s_title, s_caption), folder, "net_savings_s_curve")
    s_alt = (f"S-curve of total net savings over {period}: median {format_money(p50)}, 80% confident of at "
             f"least {format_money(p20)}; a {p_met:.0%} chance of meeting the MTFP target.")
    p10, p90 = np.percentile(total, [10, 90])
    h_title = f"Net savings range {format_money(p10)} to {format_money(p90)} in 80% of outcomes"
    if len(h_title.split()) > 10:
        h_title = f"Net savings span {format_money(p10)} to {format_money(p90)}"
    h_caption = (f"Distribution of total net savings against the MTFP over {period}{after}, cash terms; the middle "
                 f"80% of outcomes lie between the 10th and 90th percentiles. {_source(ds, config)}")
    plots.save_figure(plots.histogram(total, h_title, h_caption), folder, "net_savings_histogram")
    h_alt = (f"Histogram of total net savings over {period}: median {format_money(p50)}, 10th percentile "
             f"{format_money(p10)}, 90th percentile {format_money(p90)}; {p_met:.0%} of outcomes meet the MTFP target.")
    return [Chart("net_savings_fan", fan_title, fan_alt), Chart("net_savings_s_curve", s_title, s_alt),
            Chart("net_savings_histogram", h_title, h_alt)]


def demand_charts(ds: xr.Dataset, config: Config, folder: Path, backtest: "pd.DataFrame | None" = None) -> list[Chart]:
    """A fan chart per demand measure: as is and with FSP, against the planned (central) trajectory.

    With a ``backtest`` table, the measure's actual counts appear as diamonds.
    """
    from fsp_risk.engine.blocks import central_case

    central = central_case(config)[1]
    years = [str(y) for y in ds.year.values]
    charts = []
    for m in config.demand.values():
        as_is = dict(zip((10, 50, 90), column_percentiles(ds[f"{m.name}_as_is"], [10, 50, 90])))
        fsp = dict(zip((10, 50, 90), column_percentiles(ds[f"{m.name}_fsp"], [10, 50, 90])))
        plan = central[f"{m.name}_fsp"][0]
        gap = as_is[50][-1] - fsp[50][-1]
        measure = m.title[0].lower() + m.title[1:]
        march = int(years[-1][:4]) + 1
        title = (f"{gap:,.0f} fewer {m.short} with FSP by March {march}" if gap > 0
                 else f"FSP does not lower {m.short} by March {march}")
        caption = (f"{m.title} at 31 March at the end of each financial year, as is and with FSP (median and 10th to "
                   f"90th percentiles), and the planned trajectory of the central case. {_source(ds, config)}")
        name = f"demand_{m.name}"
        actual = _actual_points(backtest, m.name, years)
        if actual:
            caption = caption.replace(" Source:", " Diamonds: actual counts (a backtest). Source:", 1)
        plots.save_figure(plots.demand_fan(years, as_is, fsp, plan, m.title, title, caption, actual), folder, name)
        alt = (f"Fan chart of {measure}, {_period(ds)}: by 31 March {march} the median is "
               f"{as_is[50][-1]:,.0f} as is and {fsp[50][-1]:,.0f} with FSP ({fsp[10][-1]:,.0f} to {fsp[90][-1]:,.0f}), "
               f"against a planned {plan[-1]:,.0f}." + _backtest_alt(backtest, (m.name,)))
        charts.append(Chart(name, title, alt))
    return charts


def sensitivity_outputs(ds: xr.Dataset, config: Config, folder: Path) -> tuple[list[Chart], "pd.DataFrame"]:
    """``sensitivity.csv`` and the tornado chart, for a Monte Carlo run; returns the chart and the table."""
    from fsp_risk.analysis.sensitivity import rank_correlations

    table = rank_correlations(ds, config)
    write_csv(table, folder / "sensitivity.csv")
    top = table.iloc[0]
    first = top["title"][0].lower() + top["title"][1:]
    title = f"Net savings depend most on {first}"
    if len(title.split()) > 10:
        title = f"{table.iloc[0]['input'].replace('_', ' ').capitalize()} moves net savings most"
    from fsp_risk.analysis.sensitivity import RANK_ITERATIONS

    first_n = (f" (from the first {RANK_ITERATIONS:,} iterations)" if ds.sizes["iteration"] > RANK_ITERATIONS else "")
    caption = (f"Spearman rank correlation of each uncertain input with net savings against the MTFP over "
               f"{_period(ds)}{first_n}; the ten strongest of {len(table)}. {_source(ds, config)}")
    plots.save_figure(plots.tornado(table, title, caption), folder / "charts", "tornado")
    alt = (f"Tornado chart of the inputs that move net savings most over {_period(ds)}: {top['title']} "
           f"(rank correlation {top['rank_correlation']:+.2f}, about {top['share_of_variance']:.0%} of the "
           f"variance), then {table.iloc[1]['title']} ({table.iloc[1]['rank_correlation']:+.2f}).")
    return [Chart("tornado", title, alt)], table


def grouped_sensitivity_outputs(ds: xr.Dataset, config: Config, folder: Path) -> tuple[list[Chart], "pd.DataFrame"]:
    """``grouped_sensitivity.csv`` and the grouped tornado in £ (each driver group and risk held central)."""
    from fsp_risk.analysis.sensitivity import grouped_tornado

    table = grouped_tornado(ds, config)
    write_csv(table, folder / "grouped_sensitivity.csv")
    top = table.iloc[0]
    name = top["group"].split(":")[0] if top["kind"] == "risk" else top["group"]
    if top["adds_to_p80"] >= 0:
        title = f"{name} uncertainty adds {format_money(top['adds_to_p80'])} to the P80 pressure"
    else:
        title = f"Holding {name.lower()} central raises the P80 by {format_money(-top['adds_to_p80'])}"
    n = int(top["iterations"])
    caption = (f"Change in the P80 (80%-confidence level) of the total net change to the MTFP over {_period(ds)} when "
               "each group of inputs, or each risk, is held at its central value (a risk with a £ impact at its "
               f"expected value), on the same {n:,} random draws. Orange hatched bars: the central value is itself a bad "
               "case (such as a grant most likely to end), so holding it there raises the P80. Groups interact, so the "
               "bars do not add up. "
               f"{_source(ds, config)}")
    plots.save_figure(plots.grouped_tornado(table, title, caption), folder / "charts", "grouped_tornado")
    parts = [f"{row.group} {format_money(row.adds_to_p80)}" for row in table.head(3).itertuples()]
    alt = (f"Bar chart of what each driver group and risk adds to the P80 of the total net change to the MTFP "
           f"({format_money(float(top['p80_run']))}) over {_period(ds)}: " + "; ".join(parts) + ".")
    return [Chart("grouped_tornado", title, alt)], table


def risk_outputs(ds: xr.Dataset, config: Config, folder: Path) -> tuple[list[Chart], str, dict]:
    """Risk table, portfolio, reserve sentence and heat map; returns the chart, the sentence and the tables."""
    from fsp_risk.analysis.register import portfolio_table, reserve_statement, risk_table

    table = risk_table(ds, config)
    write_csv(table, folder / "risk_register.csv")
    portfolio = portfolio_table(ds, config)
    write_csv(portfolio, folder / "risk_portfolio.csv")
    sentence = reserve_statement(ds, config)
    (folder / "risk_reserve.txt").write_text(sentence + "\n", encoding="utf-8")
    caption = (f"Each risk's chance of occurring over {_period(ds)} and its impact score from the £ thresholds of "
               f"the register's scoring scheme, before (circle) and after (square) mitigation. {_source(ds, config)}")
    fig = plots.risk_heat_map(table, config.risk_register.scoring.probability_bands, caption)
    title = fig.axes[0].get_title(loc="left")
    plots.save_figure(fig, folder / "charts", "risk_heat_map")
    bands = list(config.risk_register.scoring.probability_bands)
    rating = (table["residual_probability_band"].map(bands.index) + 1) * table["residual_impact_score"]
    worst = table.loc[rating.idxmax()]  # as the heat map ranks cells: band x score
    moved = int(((table["residual_impact_score"] < table["simulated_impact_score"])
                 | (table["p_occurs_residual"] < table["p_occurs"] - 1e-9)).sum())
    alt = (f"Risk heat map of {len(table)} risks by probability band and impact score: {moved} become less likely "
           f"or smaller after mitigation; the highest after mitigation is {worst['risk']} "
           f"({worst['residual_probability_band']} probability, impact score {worst['residual_impact_score']}).")
    return [Chart("risk_heat_map", title, alt)], sentence, {"risk_register": table, "risk_portfolio": portfolio}


def _share(p: float) -> str:
    """A share of outcomes as a whole percentage, never rounding a near-certainty to 0% or 100%."""
    if 0 < p < 0.005:
        return "under 1%"
    if 0.995 < p < 1:
        return "over 99%"
    return f"{p:.0%}"


def scenario_outputs(scen: xr.Dataset, config: Config, folder: Path) -> tuple[list[Chart], "pd.DataFrame", list[str]]:
    """The scenarios, stress tests and counterfactual of a run: ``scenarios.csv``, two charts, sentences."""
    from fsp_risk.analysis.scenarios import mtfp_improvement, scenario_table

    table = scenario_table(scen)
    write_csv(table, folder / "scenarios.csv")
    period = f"{scen.year.values[0]} to {scen.year.values[-1]}"
    source = (f"Source: fsp-risk simulation, {scen.attrs['iterations']:,} iterations on common random numbers, "
              f"config {config.name}.")
    base = table.iloc[0]
    sentences, charts = [], []
    for _, row in table.iloc[1:].iterrows():
        if row["kind"] == "counterfactual":
            continue
        more = row["diff_mean"]
        direction = (f"{format_money(abs(more))} {'more' if more > 0 else 'less'} pressure than the config as written "
                     f"on average (standard error {format_money(row['diff_mean_se'], 2)} on common random numbers)"
                     if abs(more) >= 0.5 else "the same as the config as written")
        sentences.append(
            f"{row['title']}: the median net change to the MTFP over {period} is {format_money(row['p50'])} and the "
            f"P80 {format_money(row['p80'])}, {direction}; the chance of meeting the MTFP target is "
            f"{row['p_target_met']:.0%} (config as written: {base['p_target_met']:.0%}).")
    cases = table[table["kind"] != "counterfactual"]
    worst = cases.loc[cases["p80"].idxmax()]
    title = (f"P80 pressure ranges from {format_money(cases['p80'].min())} to {format_money(cases['p80'].max())} "
             "across scenarios") if len(cases) > 1 else f"P80 pressure of {format_money(base['p80'])}"
    caption = (f"Total net change to the MTFP over {period} by scenario (positive = pressure): bar P10 to P90, circle "
               f"P50, diamond P80. Every scenario uses the same random numbers and the same plan. {source}")
    plots.save_figure(plots.scenario_ranges(table, title, caption), folder / "charts", "scenarios")
    alt = ("Ranges of total net change to the MTFP by scenario: " + "; ".join(
        f"{r['title']} P50 {format_money(r['p50'])}, P80 {format_money(r['p80'])}" for _, r in table.iterrows())
        + f". Highest P80: {worst['title']}.")
    charts.append(Chart("scenarios", title, alt))

    benefit = mtfp_improvement(scen)
    if benefit is not None:
        p10, p50, p90 = np.percentile(benefit, [10, 50, 90])
        sentences.append(
            f"Against the counterfactual without FSP (as-is demand, none of the programme's costs, funding or savings), "
            f"FSP improves the MTFP position over {period} by a median of {format_money(p50)} (P10 {format_money(p10)}, "
            f"P90 {format_money(p90)}), on the same random numbers. This counts changes against the MTFP only: the "
            "programme's budgeted costs are in the MTFP either way, so it is not the programme's value for money.")
    return charts, table, sentences


def value_for_money_outputs(ds: xr.Dataset, config: Config, folder: Path) -> tuple[list[Chart], "pd.DataFrame", str]:
    """``value_for_money.csv``, the net present value chart and its sentence: the programme's own costs,
    whoever pays, against the costs it avoids, at the Green Book rate."""
    from fsp_risk.analysis.summary import value_for_money

    table, npv = value_for_money(ds)
    write_csv(table, folder / "value_for_money.csv")
    rows = table.set_index("measure")
    rate = float(ds.attrs.get("discount_rate", config.price_base.discount_rate))
    base_year = ds.attrs.get("price_base_year", config.price_base.base_year)
    bias = config.inputs[config.optimism_bias].dist.central if config.optimism_bias else 0.0
    adjusted = f", with the benefits cut by {bias:.0%} for optimism bias" if bias else ""
    npv_row, bcr = rows.loc["net_present_value"], rows.loc["benefit_cost_ratio"]
    p_gain = float(npv_row["p_npv_positive"])
    sentence = (
        f"Value for money over {_period(ds)}: all the programme's own costs, whoever pays, against the costs it avoids"
        f"{adjusted}, in {base_year} prices discounted at {rate:.1%} a year (HM Treasury Green Book). The net present "
        f"value has a median of {format_money(npv_row['p50'])} (P10 {format_money(npv_row['p10'])}, P90 "
        f"{format_money(npv_row['p90'])}) and is positive in {_share(p_gain)} of outcomes; each £1 the programme costs "
        f"avoids a median £{bcr['p50']:.2f} (P10 £{bcr['p10']:.2f}, P90 £{bcr['p90']:.2f}).")
    title = (f"FSP's benefits exceed its costs in {_share(p_gain)} of outcomes" if p_gain >= 0.5 else
             f"FSP's costs exceed its benefits in {_share(1 - p_gain)} of outcomes")
    caption = (f"Net present value of FSP over {_period(ds)}: the costs it avoids{adjusted}, less all its own costs "
               f"whoever pays, in {base_year} prices discounted at {rate:.1%} a year. Source: fsp-risk simulation, "
               f"{ds.attrs['iterations']:,} iterations, config {config.name}.")
    plots.save_figure(plots.histogram(npv, title, caption, "Net present value of FSP over the horizon", "Break-even"),
                      folder / "charts", "value_for_money")
    alt = (f"Histogram of FSP's net present value over {_period(ds)}: median {format_money(npv_row['p50'])}, P10 "
           f"{format_money(npv_row['p10'])}, P90 {format_money(npv_row['p90'])}; positive in {_share(p_gain)} of outcomes.")
    return [Chart("value_for_money", title, alt)], table, sentence


def convergence_outputs(ds: xr.Dataset, config: Config, folder: Path) -> tuple[list[Chart], "pd.DataFrame", str]:
    """``convergence.csv``, the convergence chart and a sentence on how well the run pins down its P80."""
    from fsp_risk.analysis.convergence import convergence_table, half_width

    total = horizon_total(ds["net_change_to_mtfp"])
    table = convergence_table(total)
    write_csv(table, folder / "convergence.csv")
    p80, hw = half_width(total)
    n = total.size
    title = f"The P80 is known to ±{format_money(hw)} after {n:,} iterations"
    caption = (f"Running P50 and P80 of the total net change to the MTFP over {_period(ds)} (positive = pressure) "
               f"against the number of iterations, with distribution-free 95% confidence intervals. "
               f"{_source(ds, config)}")
    plots.save_figure(plots.convergence(table, title, caption), folder / "charts", "convergence")
    first, last = table.iloc[0], table.iloc[-1]
    alt = (f"Convergence chart: the P80 of the total net change moves from {format_money(first['p80'])} after "
           f"{int(first['iterations']):,} iterations to {format_money(last['p80'])} after {n:,}, its 95% interval "
           f"narrowing to ±{format_money(hw)}; the P50 settles at {format_money(last['p50'])}.")
    sentence = (f"Monte Carlo precision: after {n:,} iterations the P80 of the total net change is "
                f"{format_money(p80)} ± {format_money(hw)} and the P50 {format_money(last['p50'])} "
                f"(95% confidence intervals).")
    if "stop_reason" in ds.attrs:
        sentence += f" The run stopped on reaching its precision target: {ds.attrs['stop_reason']}."
    return [Chart("convergence", title, alt)], table, sentence


def money_over_time_table(summary: "pd.DataFrame") -> "pd.DataFrame":
    """Per year and in total: cashable savings and cost avoidance (means), net savings P50 in cash, real
    terms and present value; the total's present value is the net present value."""
    import pandas as pd

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
                # Savings are negative in the tables; shown here as positive amounts saved.
                sign = -1.0 if var in ("cashable_savings", "cost_avoidance") else 1.0
                row[label] = sign * table.loc[(var, year), stat]
        rows.append(row)
    return pd.DataFrame(rows)


def money_over_time_sentence(ds: xr.Dataset, tables: dict) -> str:
    """Real terms, net present value and the cashable share, in one quotable sentence."""
    table = tables["summary"].set_index(["variable", "year"])
    real = table.loc[("net_savings_real", "total")]
    npv = table.loc[("net_savings_pv", "total")]
    rate = float(ds.attrs.get("discount_rate", 0.035))
    text = (f"In real terms at {ds.attrs['price_base_year']} prices the median net savings over {_period(ds)} are "
            f"{format_money(real['p50'])}; discounted at {rate:.1%} a year (HM Treasury Green Book) the median net "
            f"present value is {format_money(npv['p50'])} (P10 {format_money(npv['p10'])}, P90 {format_money(npv['p90'])}).")
    if ("cost_avoidance", "total") in table.index:
        cashable = -table.loc[("cashable_savings", "total"), "mean"]
        avoided = -table.loc[("cost_avoidance", "total"), "mean"]
        if avoided == 0:
            text += f" All {format_money(cashable)} of savings realised (on average) are cashable."
        elif cashable == 0:
            text += (f" None of the savings realised is cashable: all {format_money(avoided)} (on average) is cost "
                     "avoidance, spending that would otherwise have grown, not money taken from budgets.")
        else:
            text += (f" Of the savings realised, {format_money(cashable)} on average is cashable (taken from budgets) "
                     f"and {format_money(avoided)} is cost avoidance (spending that would otherwise have grown).")
    return text


@dataclass(frozen=True)
class Headline:
    """The run's headline numbers: chance the target is met over the horizon and by year, P50 and P80 of
    the total net change [GBP]."""

    p_met: float
    p50: float
    p80: float
    by_year: np.ndarray

    @classmethod
    def of(cls, ds: xr.Dataset) -> "Headline":
        net = ds["net_change_to_mtfp"]
        total = horizon_total(net)
        p50, p80 = np.percentile(total, [50, 80])
        return cls(float((total <= 0).mean()), float(p50), float(p80),
                   np.array([(c <= 0).mean() for c in year_columns(net)]))


def _pressure(v: float) -> str:
    return f"a pressure of {format_money(v)}" if v > 0 else f"a saving of {format_money(-v)}"


def headline_paragraph(ds: xr.Dataset, config: Config, h: Headline) -> str:
    """The quotable paragraph, as plain text (escaped by each format that carries it)."""
    years = [str(y) for y in ds.year.values]
    after = " after the register's mitigations" if "net_change_inherent" in ds else ""
    p_met, p50, p80, by_year = h.p_met, h.p50, h.p80, h.by_year
    return (
        f"Over {_period(ds)}, the simulation gives a {p_met:.0%} chance that {config.council}'s programme meets "
        f"its MTFP target{after}. The median outcome is {_pressure(p50)} against the MTFP; in 80% of outcomes "
        f"it is no worse than {_pressure(p80)}. Year by year, the chance of meeting the target runs from "
        f"{by_year.min():.0%} ({years[int(by_year.argmin())]}) to {by_year.max():.0%} "
        f"({years[int(by_year.argmax())]})."
    )


def findings_text(ds: xr.Dataset, config: Config, charts: list[Chart], reserve: str | None,
                  extra: list[str] = (), headline: Headline | None = None) -> str:
    """``findings.md``: a paragraph a cabinet paper can quote, the headline figures, alt text per chart."""
    h = headline or Headline.of(ds)
    p_met, p50, p80, by_year = h.p_met, h.p50, h.p80, h.by_year
    years = [str(y) for y in ds.year.values]
    reds = sum(1 for i in config.inputs.values() if i.evidence == "red")
    paragraph = headline_paragraph(ds, config, h)
    # Every sentence carries text from the config or register (titles, the council's name): escaped, so
    # that whatever renders the markdown shows it as typed.
    lines = [f"# Findings: {markdown(config.title)}", "", markdown(paragraph), ""]
    if reserve:
        lines += [markdown(reserve), ""]
    for sentence in extra:
        lines += [markdown(sentence), ""]
    lines += [
        "## Headline figures",
        "",
        f"- Chance the MTFP target is met over the horizon: {p_met:.1%}",
        f"- Median net change to the MTFP (positive = pressure): {format_money(p50)}",
        f"- P80 net change to the MTFP: {format_money(p80)}",
        *[f"- Chance the {y} target is met: {p:.0%}" for y, p in zip(years, by_year)],
        "",
    ]
    lines += evidence_dating(config)
    lines += [
        "## Charts and alt text",
        "",
    ]
    for c in charts:
        lines += [f"- `charts/{c.name}.png` — **{markdown(c.title)}**  ", f"  Alt text: {markdown(c.alt)}"]
    lines += [
        "",
        "## About these figures",
        "",
        f"{ds.attrs['iterations']:,} iterations, seed {ds.attrs['seed']}, sampler {ds.attrs['sampler']}, config "
        f"`{config.name}` (SHA-256 {config.sha256[:12]}). {len(config.inputs)} inputs in the assumption book, "
        f"{reds} rated red (weak evidence). Money is in cash terms; savings negative in the tables, as in "
        "council papers.",
        "",
    ]
    return "\n".join(lines)


def _day(date) -> str:
    return f"{date.day} {date:%B %Y}"


def late_evidence_lines(config: Config) -> list[str]:
    """One warning per input whose evidence is dated after the config's decision date."""
    return [f"{item.title} ({item.name}): evidence dated {_day(item.date)}, after the decision of "
            f"{_day(config.decision_date)}" for item in config.late_evidence]


def evidence_dating(config: Config) -> list[str]:
    """The findings' section on when the evidence was available: a forecast uses what was known then."""
    if config.decision_date is None:
        return []
    late = late_evidence_lines(config)
    when = _day(config.decision_date)
    lines = ["## Evidence and the decision date", ""]
    if not late:
        return lines + [f"All {len(config.inputs)} inputs rest on evidence dated on or before the decision of {when}: "
                        "these are the figures the council could have had then.", ""]
    return lines + [f"{len(late)} of {len(config.inputs)} inputs rest on evidence dated after the decision of {when}; "
                    "the council could not have known them then:", ""] + [f"- Warning: {markdown(line)}" for line in late] + [""]


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


def html_report(ds: xr.Dataset, config: Config, folder: Path, charts: list[Chart], paragraph: str,
                tables: dict) -> str:
    """One self-contained HTML page: the headline paragraph, charts (embedded, with alt text), tables,
    provenance."""
    parts = [f"<h1>{html.escape(config.title)}</h1>", f"<p class='lead'>{html.escape(paragraph)}</p>"]
    for c in charts:
        data = base64.b64encode((folder / "charts" / f"{c.name}.png").read_bytes()).decode("ascii")
        # The chart carries its own title and caption; the alt text gives its message and numbers.
        parts.append(f"<figure><img src='data:image/png;base64,{data}' alt='{html.escape(c.alt, quote=True)}'>"
                     "</figure>")
    net = tables["summary"][tables["summary"]["variable"] == "net_change_to_mtfp"]
    cols = {"year": "Year", "mean": "Mean", "p10": "P10", "p50": "P50", "p80": "P80", "p90": "P90",
            "p_target_met": "Chance target met", "expected_shortfall": "Expected shortfall",
            "contingency_p80": "Contingency at P80"}
    parts += ["<h2>Net change to the MTFP by year (positive = pressure)</h2>",
              _table_html(net[list(cols)].rename(columns=cols),
                          money={"Mean", "P10", "P50", "P80", "P90", "Expected shortfall", "Contingency at P80"},
                          percent={"Chance target met"})]
    money_time = money_over_time_table(tables["summary"])
    parts += [f"<h2>Money over time: cash, real terms and present value (discounted at "
              f"{float(ds.attrs.get('discount_rate', 0.035)):.1%})</h2>",
              _table_html(money_time, money=set(money_time.columns) - {"Year"})]
    if "value_for_money" in tables:
        vcols = {"measure": "Measure", "units": "Units", "p10": "P10", "p50": "P50", "p90": "P90",
                 "p_npv_positive": "Chance the NPV is positive"}
        vfm = tables["value_for_money"][list(vcols)].rename(columns=vcols)
        vfm["Measure"] = vfm["Measure"].map({"benefits_pv": "Present value of the costs avoided",
                                             "costs_pv": "Present value of the programme's own costs",
                                             "net_present_value": "Net present value",
                                             "benefit_cost_ratio": "Benefit-cost ratio"})
        parts += ["<h2>Value for money: all the programme's own costs against the costs it avoids</h2>",
                  _table_html(vfm, percent={"Chance the NPV is positive"})]
    if "scenarios" in tables:
        scols = {"title": "Scenario", "p50": "P50", "p80": "P80", "p_target_met": "Chance target met",
                 "diff_mean": "Mean difference from the config as written", "diff_mean_se": "Its standard error"}
        parts += ["<h2>Scenarios on common random numbers: total net change to the MTFP (positive = pressure)</h2>",
                  "<p>For the row without FSP, the difference is how much worse the MTFP position would be without the "
                  "programme; the programme's budgeted costs are in the MTFP either way (value for money is below).</p>",
                  _table_html(tables["scenarios"][list(scols)].rename(columns=scols),
                              money={"P50", "P80", "Mean difference from the config as written", "Its standard error"},
                              percent={"Chance target met"})]
    if "backtest" in tables:
        bcols_ = {"year": "Year", "measure": "Measure", "actual": "Actual", "forecast_p10": "Forecast P10",
                  "forecast_p50": "Forecast P50", "forecast_p90": "Forecast P90", "percentile": "Percentile of forecast"}
        parts += ["<h2>Backtest: actual outcomes against the forecast</h2>",
                  _table_html(tables["backtest"][list(bcols_)].rename(columns=bcols_),
                              counts={"Actual", "Forecast P10", "Forecast P50", "Forecast P90", "Percentile of forecast"})]
    if "risk_register" in tables:
        rcols = {"risk": "Risk", "title": "Title", "p_occurs": "Chance before mitigation",
                 "expected_impact": "Expected £ before", "p_occurs_residual": "Chance after mitigation",
                 "expected_impact_residual": "Expected £ after", "simulated_probability_band": "Probability band",
                 "simulated_impact_score": "Impact score", "differs_from_register": "Differs from the register"}
        parts += ["<h2>Risk register, simulated</h2>",
                  _table_html(tables["risk_register"][list(rcols)].rename(columns=rcols),
                              money={"Expected £ before", "Expected £ after"},
                              percent={"Chance before mitigation", "Chance after mitigation"})]
    from fsp_risk.outputs.workbook import assumption_book

    bcols = {"title": "Input", "central": "Central value", "units": "Units", "source": "Source",
             "correlation": "Correlated with", "owner": "Owner", "evidence": "Evidence", "review": "Review by", "review_overdue": "Review overdue"}
    book = assumption_book(config)[list(bcols)].rename(columns=bcols)
    parts += ["<h2>Assumption book</h2>", _table_html(book)]
    versions = ", ".join(f"{k[len('version_'):]} {v}" for k, v in ds.attrs.items() if k.startswith("version_"))
    parts += ["<h2>Provenance</h2>",
              f"<p>Config <code>{html.escape(config.name)}</code> (SHA-256 {config.sha256}); "
              f"{ds.attrs['iterations']:,} iterations; seed {ds.attrs['seed']}; sampler {ds.attrs['sampler']}; "
              f"{html.escape(versions)}.</p>",
              f"<details><summary>Config as run</summary><pre>{html.escape(config.text)}</pre></details>"]
    style = ("body{font-family:Arial,Helvetica,sans-serif;max-width:60em;margin:2em auto;color:#0b0c0c;"
             "line-height:1.45}img{max-width:100%;height:auto}figure{margin:2em 0}figcaption{font-weight:bold}"
             "table{border-collapse:collapse;font-size:0.8em;margin:1em 0;width:100%}th,td{border:1px solid #b1b4b6;"
             "padding:0.3em 0.5em;text-align:left;vertical-align:top;overflow-wrap:break-word}th{background:#f3f2f1}"
             "pre{white-space:pre-wrap;font-size:0.75em}.lead{font-size:1.15em}")
    return ("<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'>"
            f"<title>{html.escape(config.title)}</title><style>{style}</style></head><body>"
            + "".join(parts) + "</body></html>")


def write_outputs(ds: xr.Dataset, config: Config | None, folder: Path, scenarios: xr.Dataset | None = None) -> None:
    """Write every table, chart, the workbook and the findings of a run into ``folder`` (which must exist).

    ``scenarios`` is the run's :func:`fsp_risk.engine.scenarios.simulate_scenarios` Dataset, if any.
    """
    tables = {"summary": summary_table(ds), "cumulative": cumulative_table(ds)}
    for name in ("summary", "cumulative"):
        write_csv(tables[name], folder / f"{name}.csv")
    if config is None:
        return
    extra = [money_over_time_sentence(ds, tables)]
    backtest = None
    if "actuals_csv" in ds.attrs:
        from fsp_risk.analysis.backtest import backtest_sentence, backtest_table
        from fsp_risk.config.actuals import parse_actuals

        actuals = parse_actuals(ds.attrs["actuals_csv"], config, file=ds.attrs.get("actuals_file", "<actuals>"))
        backtest = tables["backtest"] = backtest_table(ds, config, actuals)
        write_csv(backtest, folder / "backtest.csv")
        extra.append(backtest_sentence(backtest))
    charts = (net_savings_charts(ds, config, folder / "charts", backtest)
              + demand_charts(ds, config, folder / "charts", backtest))
    from fsp_risk.analysis.sensitivity import p50_switching_values, switching_values

    switching = switching_values(config)
    if ds.sizes["iteration"] >= 3 and ds.attrs["sampler"] != "central":
        tornado, tables["sensitivity"] = sensitivity_outputs(ds, config, folder)
        grouped, tables["grouped_sensitivity"] = grouped_sensitivity_outputs(ds, config, folder)
        charts += tornado + grouped
        # P50 switching values for the key inputs: the five that move net savings most.
        key = [n for n in tables["sensitivity"]["input"] if n in set(switching["input"])][:5]
        p50 = p50_switching_values(config, key, int(ds.attrs["seed"]), ds.attrs["sampler"])
        switching["switching_value_p50"] = switching["input"].map(p50)
    tables["switching_values"] = switching
    write_csv(switching, folder / "switching_values.csv")
    if ds.sizes["iteration"] >= 3 and ds.attrs["sampler"] != "central":
        conv_charts, tables["convergence"], conv_sentence = convergence_outputs(ds, config, folder)
        charts += conv_charts
        extra.append(conv_sentence)
    if "programme_costs_pv" in ds and ds.sizes["iteration"] >= 3 and ds.attrs["sampler"] != "central":
        vfm_charts, tables["value_for_money"], vfm_sentence = value_for_money_outputs(ds, config, folder)
        charts += vfm_charts
        extra.append(vfm_sentence)
    if scenarios is not None:
        scenario_charts, tables["scenarios"], scenario_sentences = scenario_outputs(scenarios, config, folder)
        charts += scenario_charts
        extra += scenario_sentences
    reserve = None
    if config.risk_register is not None:
        risk_charts, reserve, risk_tables = risk_outputs(ds, config, folder)
        charts += risk_charts
        tables.update(risk_tables)
    from fsp_risk.outputs.workbook import write_workbook

    write_workbook(folder / "summary.xlsx", ds, config, tables)
    headline = Headline.of(ds)
    (folder / "findings.md").write_text(findings_text(ds, config, charts, reserve, extra, headline), encoding="utf-8")
    (folder / "report.html").write_text(html_report(ds, config, folder, charts, headline_paragraph(ds, config, headline),
                                                    tables), encoding="utf-8")
