"""What the what-if page draws: the headline as HTML, the fan chart and drivers as PNG, each input's
distribution in words and as a small shape. Rendering only, from :mod:`fsp_risk.analysis.live`'s results;
every text from a config is escaped, and the charts' titles are the report's own.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from fsp_risk.analysis.live import LiveSummary
from fsp_risk.config import Config, Input
from fsp_risk.outputs import plots
from fsp_risk.outputs.charts import fan_chart_title, grouped_tornado_title
from fsp_risk.outputs.formatting import MINUS, format_money, pressure_or_saving

_Z95 = 1.959963984540054


def escaped(text) -> str:
    """Text made inert in HTML (a config's titles, a typed value)."""
    return html.escape(str(text), quote=True)


def headline_html(config: Config, s: LiveSummary, base: LiveSummary, changed: bool, seconds: float = 0.0) -> str:
    """The headline of one evaluation ``s`` as HTML, against the ``base`` (every assumption as set): the chance
    the target is met, the P80 and P50 of the total (each with its exact value in ``data-value``), the same by
    year, and the Monte Carlo precision. Every figure is the summary table's."""
    total, base_total = s.row(), base.row()
    years = config.years
    p80, p50, met = float(total["p80_prudent"]), float(total["p50"]), float(total["p_target_met"])
    change = ""
    if changed:
        diff = p80 - float(base_total["p80_prudent"])
        points = round(100 * (met - float(base_total["p_target_met"])))
        p80_words = ("unchanged" if abs(diff) < 0.005
                     else format_money(abs(diff)) + (" more pressure" if diff > 0 else " less pressure"))
        met_words = "unchanged" if points == 0 else f"{'up' if points > 0 else 'down'} {abs(points)} points"
        change = (f"<p class='change'>Against every assumption as set: the P80 is {p80_words}; the chance of meeting "
                  f"the target over the period is {met_words} (on the same random numbers, so the change is the "
                  "settings' and not sampling noise).</p>")
    rows = "".join(
        f"<tr><th scope='row'>{escaped(y)}</th><td class='met'>{float(s.row(y)['p_target_met']):.0%}</td>"
        f"<td>{escaped(pressure_or_saving(float(s.row(y)['p50'])))}</td>"
        f"<td>{escaped(pressure_or_saving(float(s.row(y)['p80_prudent'])))}</td></tr>"
        for y in years)
    updated = f" Updated in {seconds:.2f} s." if changed else ""
    return (
        "<div class='headline'>"
        f"<p class='big'>Chance the MTFP target is met over {escaped(years[0])} to {escaped(years[-1])} as a whole: "
        f"<strong class='p-met' data-value='{met:.4f}'>{met:.0%}</strong></p>"
        "<p class='big'>P80 of the net change over the period (no worse than this in 80% of outcomes): "
        f"<strong class='p80' data-value='{p80:.2f}'>{escaped(pressure_or_saving(p80))}</strong></p>"
        f"<p>P50 (median): <strong class='p50' data-value='{p50:.2f}'>{escaped(pressure_or_saving(p50))}</strong>. "
        f"A pressure is a shortfall against the MTFP; a saving meets it. The period's percentiles are of the total, "
        f"not the sums of the years' below.</p>{change}"
        "<table class='years'><thead><tr><th>Year</th><th>Chance met</th><th>P50</th><th>P80</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        "<p class='precision'>Simulation noise, not the spread of outcomes: with other random numbers the P80 could "
        f"differ by about ±{format_money(_Z95 * float(total['p80_prudent_se']))}, the P50 by "
        f"±{format_money(_Z95 * float(total['p50_se']))} and the chance by ±{100 * _Z95 * float(total['p_target_met_se']):.1f} "
        f"percentage points (95% confidence, {s.iterations:,} simulated outcomes; a full run of "
        f"{config.run.iterations:,} narrows these). Changes from every assumption as set use the same random numbers, "
        f"so they carry much less noise than that.{updated}</p></div>")


def fan_png(config: Config, s: LiveSummary) -> bytes:
    """The report's fan chart of net savings by year, for the live view ``s``, as PNG."""
    caption = ("Net savings against the MTFP after mitigation by financial year (zero or more meets the target), "
               "cash terms: a pressure plots below zero here, while the headline gives it as a positive pressure. "
               f"Live view of {s.iterations:,} simulated outcomes of {config.title}.")
    p = s.p_met_by_year
    return plots.figure_png(plots.fan_chart(list(config.years), s.fan, p, fan_chart_title(p), caption))


def drivers_png(table: pd.DataFrame) -> bytes:
    """The report's grouped tornado (what each driver group and linked risk adds to the P80), as PNG."""
    caption = ("What each group's uncertainty adds to the P80 of the total net change: the P80 with every input "
               "uncertain minus the P80 with that group of inputs, or that linked risk, held at its central value, on "
               f"the same {int(table.iloc[0]['iterations']):,} random draws. Groups interact, so the bars do not add up.")
    return plots.figure_png(plots.grouped_tornado(table, grouped_tornado_title(table), caption))


def distribution_text(config: Config, item: Input) -> str:
    """An input's distribution in words a finance reader uses: its range and most likely value, and where 8 in
    10 outcomes fall (P10 to P90)."""
    d = item.dist
    if d.kind == "fixed":
        return f"fixed at {_num(d.central)}"
    if d.kind == "discrete":
        values = [config.years[int(v)] if item.year_valued else _num(v) for v in d.params["values"]]
        return "one of " + ", ".join(f"{v} ({p:.0%} chance)" for v, p in zip(values, d.params["probs"]))
    if d.kind == "bernoulli":
        return f"{d.params['p']:.0%} chance it happens (1), else not (0)"
    p10, p50, p90 = d.ppf(np.array([0.1, 0.5, 0.9]))
    spread = f"8 in 10 outcomes between {_num(p10)} and {_num(p90)}, median {_num(p50)}"
    p = d.params
    if d.kind in ("pert", "triangular"):
        return f"from {_num(p['low'])} to {_num(p['high'])}, most likely {_num(p['mode'])}; {spread} ({d.kind})"
    if d.kind == "uniform":
        return f"anywhere from {_num(p['low'])} to {_num(p['high'])}; {spread}"
    if d.kind in ("normal", "lognormal"):
        return f"average {_num(p['mean'])}, standard deviation {_num(p['sd'])}; {spread} ({d.kind})"
    return f"{spread} ({d.kind})"


def _num(value: float) -> str:
    """A parameter or percentile as a reader writes it: 277,000 or 0.0943, with a true minus."""
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return text.replace("-", MINUS)


def density_svg(item: Input, width: int = 380, height: int = 40) -> str:
    """An input's distribution as a small inline SVG: its density from the 0.5th to the 99.5th percentile with
    the P10 to P90 shaded, or a bar for each value of a discrete one. Numbers only: no text from the config."""
    d = item.dist
    if d.kind == "fixed":
        return ""
    if d.kind in ("discrete", "bernoulli"):
        probs = list(d.params["probs"]) if d.kind == "discrete" else [1 - d.params["p"], d.params["p"]]
        w = width / len(probs)
        bars = "".join(f"<rect x='{i * w + w * 0.2:.1f}' y='{height * (1 - p):.1f}' width='{w * 0.6:.1f}' "
                       f"height='{height * p:.1f}' fill='#12436D'/>" for i, p in enumerate(probs))
        return f"<svg class='density' width='{width}' height='{height}' aria-hidden='true'>{bars}</svg>"
    lo, p10, p90, hi = d.ppf(np.array([0.005, 0.1, 0.9, 0.995]))
    if not hi > lo:
        return ""
    x = np.linspace(lo, hi, 80)
    y = d.pdf(x)  # every kind that reaches here is continuous
    y = np.nan_to_num(y / max(float(np.nanmax(y)), 1e-300))
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip((x - lo) / (hi - lo) * width, height - y * (height - 2)))
    left, band = (p10 - lo) / (hi - lo) * width, (p90 - p10) / (hi - lo) * width
    return (f"<svg class='density' width='{width}' height='{height}' aria-hidden='true'>"
            f"<rect x='{left:.1f}' y='0' width='{band:.1f}' height='{height}' fill='#BFD7EA'/>"
            f"<polyline points='{points}' fill='none' stroke='#12436D' stroke-width='2'/></svg>")
