"""The run's charts, each rendered from stored results and analyses: an active title (the finding), a
caption (measure, source, period) and one line of alt text stating its message and key numbers, as
published council papers must be accessible. Nothing here computes an analysis or runs the model.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from fsp_risk.analysis.summary import column_percentiles, horizon_total, year_columns
from fsp_risk.analysis.variance import dependence_inputs
from fsp_risk.config import Config
from fsp_risk.outputs import plots
from fsp_risk.outputs.formatting import (format_money, lower_first, optimism_bias_words, period, pressure_or_saving,
                                         share, ten_words)


@dataclass(frozen=True)
class Chart:
    """A chart written to the run's ``charts`` folder: its file name (without extension), title and alt text."""

    name: str
    title: str
    alt: str


def _save(fig, folder: Path, name: str, title: str, alt: str) -> Chart:
    """Write a drawn chart in every rendering format and return what the findings and HTML say of it."""
    plots.save_figure(fig, folder, name)
    return Chart(name, title, alt)


def _outcome(net_savings: float) -> str:
    """A net saving in a title's few words: '£3.2m saving' or '£4.5m pressure'."""
    return f"{format_money(abs(net_savings))} {'saving' if net_savings >= 0 else 'pressure'}"


#: What a histogram's caption says of its end bars (:data:`fsp_risk.outputs.plots.HISTOGRAM_TAILS`).
_TAILS = (f"The end bars also count the rarest {plots.HISTOGRAM_TAILS:.1%} of outcomes at each end, beyond the axis.")


def _source(ds: xr.Dataset, config: Config) -> str:
    return (f"Source: fsp-risk simulation of {config.title}; {ds.attrs['iterations']:,} iterations, "
            f"seed {ds.attrs['seed']}, sampler {ds.attrs['sampler']}.")


def _actual_points(backtest: pd.DataFrame | None, measure: str, years: list[str], sign: float = 1.0) -> dict:
    """{year position: actual} of one measure from a backtest table (empty without one)."""
    if backtest is None:
        return {}
    rows = backtest[backtest["measure"] == measure]
    return {years.index(y): sign * v for y, v in zip(rows["year"], rows["actual"])}


def _backtest_alt(backtest: pd.DataFrame | None, measures: tuple[str, ...]) -> str:
    if backtest is None:
        return ""
    rows = backtest[backtest["measure"].isin(measures)]
    if rows.empty:
        return ""
    from fsp_risk.analysis.backtest import ordinal

    parts = [f"{r.year} actual {r.actual:,.0f} at the {ordinal(int(round(r.percentile)))} percentile"
             for r in rows.itertuples()]
    return " Actuals: " + "; ".join(parts) + "."


def fan_chart_title(p_met_year: np.ndarray) -> str:
    """The fan chart's title: the range of each year's chance of meeting its target."""
    lo_p, hi_p = float(np.min(p_met_year)), float(np.max(p_met_year))
    return (f"Each year's MTFP target met in {lo_p:.0%}–{hi_p:.0%} of outcomes"
            if round(lo_p, 2) != round(hi_p, 2) else f"Each year's MTFP target met in {lo_p:.0%} of outcomes")


def grouped_tornado_title(table: pd.DataFrame) -> str:
    """The grouped tornado's title: what the group or risk at the top adds to the P80."""
    top = table.iloc[0]
    name = top["group"].split(":")[0] if top["kind"] == "risk" else top["group"]
    if top["adds_to_p80"] >= 0:
        return f"{name} uncertainty adds {format_money(top['adds_to_p80'])} to the P80 pressure"
    return f"Holding {name.lower()} central raises the P80 by {format_money(-top['adds_to_p80'])}"


def net_savings_charts(ds: xr.Dataset, config: Config, folder: Path, backtest: pd.DataFrame | None = None) -> list[Chart]:
    """Fan chart of net savings by year and S-curve of total net savings (PNG and SVG in ``folder``).

    With a ``backtest`` table, actual net savings (or minus the actual net change) appear on the fan chart.
    """
    years = [str(y) for y in ds.year.values]
    columns = [-c for c in year_columns(ds["net_change_to_mtfp"])]  # net savings (results.nc keeps the net change)
    pct = dict(zip((10, 25, 50, 75, 90), np.column_stack([np.percentile(c, [10, 25, 50, 75, 90]) for c in columns])))
    p_met_year = np.array([(c >= 0).mean() for c in columns])
    del columns
    total = -horizon_total(ds["net_change_to_mtfp"])
    p_met = float((total >= 0).mean())
    horizon = period(ds)
    after = " after mitigation" if "net_change_inherent" in ds else ""

    fan_title = fan_chart_title(p_met_year)
    fan_caption = (f"Net savings against the MTFP{after} by financial year (minus the net change to the MTFP; "
                   f"zero or more meets the target), cash terms. {_source(ds, config)}")
    actual = {**_actual_points(backtest, "net_savings", years),
              **_actual_points(backtest, "net_change_to_mtfp", years, sign=-1.0)}
    if actual:
        fan_caption = fan_caption.replace(" Source:", " Diamonds: actual outturn (a backtest). Source:", 1)
    lo, hi = int(np.argmin(p_met_year)), int(np.argmax(p_met_year))
    fan_alt = (f"Fan chart of net savings against the MTFP by year (positive = saving), {horizon}: the median "
               f"outcome over the period is {pressure_or_saving(-float(np.median(total)))}; the chance a year's "
               f"target is met ranges from {p_met_year[lo]:.0%} in {years[lo]} to {p_met_year[hi]:.0%} in {years[hi]}."
               + _backtest_alt(backtest, ("net_savings", "net_change_to_mtfp")))
    charts = [_save(plots.fan_chart(years, pct, p_met_year, fan_title, fan_caption, actual), folder, "net_savings_fan",
                    fan_title, fan_alt)]

    p10, p20, p50, p90 = np.percentile(total, [10, 20, 50, 90])
    title = (f"80% chance net savings exceed {format_money(p20)}" if p20 >= 0
             else f"80% chance the net pressure stays under {format_money(-p20)}")  # P80: the prudent side
    caption = (f"Cumulative distribution of net savings against the MTFP over {horizon}{after}, cash terms; "
               f"the P80 is the prudent figure, no worse than it in 80% of outcomes. {_source(ds, config)}")
    alt = (f"S-curve of total net savings over {horizon}: the median outcome is {pressure_or_saving(-p50)}; in 80% "
           f"of outcomes it is no worse than {pressure_or_saving(-p20)}; a {p_met:.0%} chance of meeting the MTFP "
           "target over the period.")
    charts.append(_save(plots.s_curve(total, title, caption), folder, "net_savings_s_curve", title, alt))

    title = ten_words(f"Middle 80% of outcomes: {_outcome(p10)} to {_outcome(p90)}",
                      f"From {_outcome(p10)} to {_outcome(p90)}")
    caption = (f"Distribution of total net savings against the MTFP over {horizon}{after}, cash terms; the middle "
               f"80% of outcomes lie between the 10th and 90th percentiles. {_TAILS} {_source(ds, config)}")
    alt = (f"Histogram of total net savings over {horizon} (positive = saving): the median outcome is "
           f"{pressure_or_saving(-p50)}; the middle 80% of outcomes run from {pressure_or_saving(-p10)} to "
           f"{pressure_or_saving(-p90)}; {p_met:.0%} of outcomes meet the MTFP target over the period.")
    charts.append(_save(plots.histogram(total, title, caption, f"Total net savings, {horizon}"), folder,
                        "net_savings_histogram", title, alt))
    return charts


def demand_charts(ds: xr.Dataset, config: Config, folder: Path, plan: pd.DataFrame,
                  backtest: pd.DataFrame | None = None) -> list[Chart]:
    """A fan chart per demand measure: as is and with FSP, against the planned (central) trajectory
    (``plan``, :func:`fsp_risk.analysis.run.plan_table`).

    With a ``backtest`` table, the measure's actual counts appear as diamonds.
    """
    years = [str(y) for y in ds.year.values]
    charts = []
    for m in config.demand.values():
        as_is = dict(zip((10, 50, 90), column_percentiles(ds[f"{m.name}_as_is"], [10, 50, 90])))
        fsp = dict(zip((10, 50, 90), column_percentiles(ds[f"{m.name}_fsp"], [10, 50, 90])))
        planned = plan.loc[plan["measure"] == m.name, "planned"].to_numpy()
        gap = as_is[50][-1] - fsp[50][-1]
        measure = lower_first(m.title)
        march = int(years[-1][:4]) + 1
        title = (ten_words(f"Median {gap:,.0f} fewer {m.short} with FSP by March {march}",
                           f"Median {gap:,.0f} fewer {m.short} with FSP by {march}",
                           f"{gap:,.0f} fewer {m.short} with FSP by March {march}") if gap > 0
                 else f"FSP does not lower {m.short} by March {march}")
        caption = (f"{m.title} at 31 March at the end of each financial year, as is and with FSP (median and 10th to "
                   f"90th percentiles), and the planned trajectory of the central case. {_source(ds, config)}")
        name = f"demand_{m.name}"
        actual = _actual_points(backtest, m.name, years)
        if actual:
            caption = caption.replace(" Source:", " Diamonds: actual counts (a backtest). Source:", 1)
        alt = (f"Fan chart of {measure}, {period(ds)}: by 31 March {march} the median is "
               f"{as_is[50][-1]:,.0f} as is and {fsp[50][-1]:,.0f} with FSP ({fsp[10][-1]:,.0f} to {fsp[90][-1]:,.0f}), "
               f"against a planned {planned[-1]:,.0f}." + _backtest_alt(backtest, (m.name,)))
        charts.append(_save(plots.demand_fan(years, as_is, fsp, planned, m.title, title, caption, actual), folder,
                            name, title, alt))
    return charts



def tornado_chart(ds: xr.Dataset, config: Config, folder: Path, table: pd.DataFrame) -> Chart:
    """The tornado in £: what each input swings the median total net change by, lowest against highest
    tenth of its draws (``table``: :func:`fsp_risk.analysis.sensitivity.rank_correlations`)."""
    from fsp_risk.analysis.sensitivity import RANK_ITERATIONS, GROUP_TITLES

    n = min(ds.sizes["iteration"], RANK_ITERATIONS)
    median = float(np.median(horizon_total(ds["net_change_to_mtfp"].isel(iteration=slice(0, n)))))
    top = table.loc[table["swing"].abs().idxmax()]
    group = config.input_groups.get(top["input"], "")
    title = ten_words(f"{top['title']} swings the net change by {format_money(abs(top['swing']))}",
                      f"A {GROUP_TITLES.get(group, group or 'single').lower()} input swings the net change by "
                      f"{format_money(abs(top['swing']))}")
    first_n = f" (the first {RANK_ITERATIONS:,} iterations)" if ds.sizes["iteration"] > RANK_ITERATIONS else ""
    caption = (f"Median total net change to the MTFP over {period(ds)} (positive = pressure) when each input is in the "
               f"lowest or highest tenth of its draws, every other input as it fell{first_n}; the ten inputs with "
               f"the largest swing of {len(table)}. The vertical line is the median of the run. {_source(ds, config)}")
    second = table.loc[table["swing"].abs().sort_values(ascending=False).index[1]] if len(table) > 1 else top
    alt = (f"Tornado chart of the inputs that swing the total net change to the MTFP most over {period(ds)}: "
           f"{top['title']} (median {pressure_or_saving(top['net_change_p50_input_low'])} in its lowest tenth, "
           f"{pressure_or_saving(top['net_change_p50_input_high'])} in its highest, a {format_money(abs(top['swing']))} "
           f"swing), then {second['title']} ({format_money(abs(second['swing']))}).")
    return _save(plots.tornado(table, median, title, caption), folder, "tornado", title, alt)


def grouped_tornado_chart(ds: xr.Dataset, config: Config, folder: Path, table: pd.DataFrame) -> Chart:
    """What each driver group and risk adds to the P80, in £ (``table``:
    :func:`fsp_risk.analysis.sensitivity.grouped_tornado`)."""
    top = table.iloc[0]
    title = grouped_tornado_title(table)
    n = int(top["iterations"])
    caption = (f"What each group's uncertainty adds to the P80 (no worse than it in 80% of outcomes) of the total net change "
               f"to the MTFP over {period(ds)}: the P80 with every input uncertain minus the P80 with that group of inputs, or "
               "that risk, held at its central value (a risk with a £ impact at its average cost), on the same "
               f"{n:,} random draws. Orange hatched bars: the central value is itself a bad "
               "case (such as a grant most likely to end), so holding it there raises the P80. Groups interact, so the "
               "bars do not add up. "
               f"{_source(ds, config)}")
    parts = [f"{row.group} {format_money(row.adds_to_p80)}" for row in table.head(3).itertuples()]
    alt = (f"Bar chart of what each driver group and risk adds to the P80 of the total net change to the MTFP "
           f"({format_money(float(top['p80_run']))}) over {period(ds)}: " + "; ".join(parts) + ".")
    return _save(plots.grouped_tornado(table, title, caption), folder, "grouped_tornado", title, alt)


def risk_heat_map_chart(ds: xr.Dataset, config: Config, folder: Path, table: pd.DataFrame) -> Chart:
    """The register's heat map, before and after mitigation (``table``:
    :func:`fsp_risk.analysis.register.risk_table`)."""
    bands = list(config.risk_register.scoring.probability_bands)
    caption = (f"Each risk's chance of occurring over {period(ds)} and its impact score from the £ thresholds of "
               f"the register's scoring scheme, before (circle) and after (square) mitigation. {_source(ds, config)}")
    fig = plots.risk_heat_map(table, tuple(bands), caption)
    title = fig.get_suptitle().replace("\n", " ")
    rating = (table["residual_probability_band"].map(bands.index) + 1) * table["residual_impact_score"]
    worst = table.loc[rating.idxmax()]  # as the heat map ranks cells: band x score
    moved = int(((table["residual_impact_score"] < table["simulated_impact_score"])
                 | (table["p_occurs_residual"] < table["p_occurs"] - 1e-9)).sum())
    alt = (f"Risk heat map of {len(table)} risks by probability band and impact score: {moved} become less likely "
           f"or smaller after mitigation; the highest after mitigation is {worst['risk']}, {worst['title']} "
           f"({worst['residual_probability_band']} probability, impact score {worst['residual_impact_score']}).")
    return _save(fig, folder, "risk_heat_map", title, alt)


def scenario_chart(ds: xr.Dataset, config: Config, folder: Path, table: pd.DataFrame) -> Chart:
    """The range of the total net change in each scenario, stress test and the counterfactual (``table``:
    :func:`fsp_risk.analysis.scenarios.scenario_table`, run on the same iterations as ``ds``)."""
    horizon = period(ds)
    source = _source(ds, config)
    cases = table[table["kind"] != "counterfactual"]
    without = table[table["kind"] == "counterfactual"]
    worst = table.loc[table["p80"].idxmax()]  # over every row drawn, the counterfactual too
    title = (f"P80 pressure {format_money(cases['p80'].min())} to {format_money(cases['p80'].max())} across scenarios"
             if len(cases) > 1 else f"P80 pressure of {format_money(table.iloc[0]['p80'])}")
    if len(without):
        title = ten_words(f"{title}; {format_money(without['p80'].iloc[0])} without FSP", title)
    caption = (f"Total net change to the MTFP over {horizon} by scenario (positive = pressure): bar P10 to P90, circle "
               f"P50, diamond P80. Every scenario uses the same random numbers (common random numbers) and the same "
               f"plan. {source}")
    alt = ("Ranges of total net change to the MTFP by scenario: " + "; ".join(
        f"{r['title']} P50 {format_money(r['p50'])}, P80 {format_money(r['p80'])}" for _, r in table.iterrows())
        + f". Highest P80 (no worse than this in 80% of outcomes): {worst['title']}.")
    return _save(plots.scenario_ranges(table, title, caption), folder, "scenarios", title, alt)


def value_for_money_chart(ds: xr.Dataset, config: Config, folder: Path, table: pd.DataFrame,
                          npv: np.ndarray) -> Chart:
    """The distribution of FSP's net present value (``table`` and ``npv``:
    :func:`fsp_risk.analysis.summary.value_for_money`)."""
    rows = table.set_index("measure")
    rate = float(ds.attrs.get("discount_rate", config.price_base.discount_rate))
    base_year = ds.attrs.get("price_base_year", config.price_base.base_year)
    npv_row = rows.loc["net_present_value"]
    p_gain = float(npv_row["p_npv_positive"])
    adjusted = optimism_bias_words(config)
    title = (f"FSP's benefits exceed its costs in {share(p_gain)} of outcomes" if p_gain >= 0.5 else
             f"FSP's costs exceed its benefits in {share(1 - p_gain)} of outcomes")
    caption = (f"Net present value of FSP over {period(ds)}: the costs it avoids{adjusted}, less all its own costs "
               f"whoever pays, in {base_year} prices discounted at {rate:.1%} a year. {_TAILS} {_source(ds, config)}")
    alt = (f"Histogram of FSP's net present value over {period(ds)}: median {format_money(npv_row['p50'])}, P10 "
           f"{format_money(npv_row['p10'])}, P90 {format_money(npv_row['p90'])}; positive in {share(p_gain)} of outcomes.")
    fig = plots.histogram(npv, title, caption, "Net present value of FSP", "Break-even", ("benefit", "cost"))
    return _save(fig, folder, "value_for_money", title, alt)


def convergence_chart(ds: xr.Dataset, config: Config, folder: Path, table: pd.DataFrame) -> Chart:
    """The running P50 and P80 against the iterations (``table``:
    :func:`fsp_risk.analysis.convergence.convergence_table`, whose last row is the whole run)."""
    n = int(ds.sizes["iteration"])
    half_width = (float(table.iloc[-1]["p80_high"]) - float(table.iloc[-1]["p80_low"])) / 2
    title = f"The P80 is known to ±{format_money(half_width)} after {n:,} iterations"
    caption = (f"Running P50 and P80 of the total net change to the MTFP over {period(ds)} (positive = pressure) "
               f"against the number of iterations, with distribution-free 95% confidence intervals. "
               f"{_source(ds, config)}")
    first, last = table.iloc[0], table.iloc[-1]
    alt = (f"Convergence chart: the P80 of the total net change moves from {format_money(first['p80'])} after "
           f"{int(first['iterations']):,} iterations to {format_money(last['p80'])} after {n:,}, its 95% interval "
           f"narrowing to ±{format_money(half_width)}; the P50 settles at {format_money(last['p50'])}.")
    return _save(plots.convergence(table, title, caption), folder, "convergence", title, alt)


#: Factor kinds drawn on the total-effects chart: the driver groups and the register as a whole.
_EFFECT_KINDS = ("driver group", "register")


def total_effects_title(table: pd.DataFrame) -> str:
    """The total-effects chart's title: which group matters most, and from which year if that changes."""
    by_year = table[(table["year"] != "total") & table["kind"].isin(_EFFECT_KINDS)].dropna(subset=["total_effect"])
    tops = by_year.loc[by_year.groupby("year", sort=False)["total_effect"].idxmax()]
    first, last = tops.iloc[0], tops.iloc[-1]
    if (tops["factor"] == first["factor"]).all():
        return ten_words(f"{first['factor']} drives the uncertainty in every year",
                         "One group drives the uncertainty in every year")
    switch = tops[tops["factor"] == last["factor"]].iloc[0]  # the first year the last leader leads
    return ten_words(f"{last['factor']} drives the uncertainty from {switch['year']}; {lower_first(first['factor'])} "
                     "before", "The uncertainty that matters most changes over the years")


def _at_most(p: float) -> str:
    return "under 1%" if p < 0.005 else f"at most {p:.0%}"


def total_effects_chart(ds: xr.Dataset, config: Config, folder: Path, table: pd.DataFrame) -> Chart:
    """Total-effect Sobol' indices of each year's net change, for the groups that matter most (``table``:
    :func:`fsp_risk.analysis.variance.variance_sensitivity`)."""
    years = [y for y in table["year"].unique() if y != "total"]
    groups = table[table["kind"].isin(_EFFECT_KINDS) & (table["year"] != "total")]
    peak = groups.groupby("factor", sort=False)["total_effect"].max().sort_values(ascending=False)
    # At most four lines (four colours), each group that reaches 1% in some year; the rest named in the caption.
    drawn = list(peak.index[:4][peak.iloc[:4] >= 0.01]) or list(peak.index[:1])
    effects = {f: groups[groups["factor"] == f].set_index("year")["total_effect"].reindex(years).to_numpy(float)
               for f in drawn}
    title = total_effects_title(table)
    rest = [f for f in peak.index if f not in drawn]
    overlap = sorted({f"{r.factor} takes {dependence_inputs(r.dependence)}"
                      for r in groups[groups["factor"].isin(drawn)].itertuples() if dependence_inputs(r.dependence)})
    ci = float(groups[groups["factor"].isin(drawn)]["total_effect_ci"].max()) * 100
    caption = ("Total-effect Sobol' index of each year's net change to the MTFP: the share of that year's uncertainty "
               "(its statistical variance, not a budget variance) that a group of inputs takes part in, interactions "
               "included. The first-order index, the share that would go were the group known, and the figures for "
               "the period as a whole are in variance_sensitivity.csv. "
               + (f"An input correlated with a group's inputs, or on a common driver with them, goes with the group "
                  f"({'; '.join(overlap)}), so the lines can add up to more than 100%. " if overlap else "")
               + (f"Not drawn, each {_at_most(float(peak[rest].max()))} in every year: {', '.join(rest)}. " if rest else "")
               + f"Estimated from {int(table['evaluations'].iloc[0]):,} evaluations of the model on samples drawn "
               f"from the run's seed; 95% intervals within ±{ci:.1f} percentage points. {_source(ds, config)}")
    parts = [f"{y}: " + ", ".join(f"{f} {effects[f][i]:.0%}" for f in drawn if np.isfinite(effects[f][i]))
             for i, y in enumerate(years) if i in (0, len(years) - 1)]
    alt = (f"Line chart of the total-effect Sobol' index of each year's net change to the MTFP over {period(ds)}, "
           f"by group of inputs: " + "; ".join(parts) + ".")
    return _save(plots.total_effects(years, effects, title, caption), folder, "total_effects", title, alt)
