"""The run's words: the paragraph a cabinet paper can quote, its headline figures, a sentence per
analysis, and when the evidence was dated. Plain text, escaped by each format that carries it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from fsp_risk.analysis.summary import horizon_total, year_columns
from fsp_risk.config import Config
from fsp_risk.outputs.charts import Chart
from fsp_risk.outputs.escape import markdown
from fsp_risk.outputs.formatting import format_money, period, share


def scenario_sentences(scen: xr.Dataset, table: pd.DataFrame, improvement: np.ndarray | None) -> list[str]:
    """A sentence per scenario and stress test against the config as written, and one on what FSP does to
    the MTFP position against the counterfactual (``improvement``: :func:`fsp_risk.analysis.scenarios.mtfp_improvement`)."""
    horizon = period(scen)
    base = table.iloc[0]
    sentences = []
    for _, row in table.iloc[1:].iterrows():
        if row["kind"] == "counterfactual":
            continue
        more = row["diff_mean"]
        direction = (f"{format_money(abs(more))} {'more' if more > 0 else 'less'} pressure than the config as written "
                     f"on average (standard error {format_money(row['diff_mean_se'], 2)} on common random numbers)"
                     if abs(more) >= 0.5 else "the same as the config as written")
        sentences.append(
            f"{row['title']}: the median net change to the MTFP over {horizon} is {format_money(row['p50'])} and the "
            f"P80 {format_money(row['p80'])}, {direction}; the chance of meeting the MTFP target is "
            f"{row['p_target_met']:.0%} (config as written: {base['p_target_met']:.0%}).")
    if improvement is not None:
        p10, p50, p90 = np.percentile(improvement, [10, 50, 90])
        sentences.append(
            f"Against the counterfactual without FSP (as-is demand, none of the programme's costs, funding or savings), "
            f"FSP improves the MTFP position over {horizon} by a median of {format_money(p50)} (P10 {format_money(p10)}, "
            f"P90 {format_money(p90)}), on the same random numbers. This counts changes against the MTFP only: the "
            "programme's budgeted costs are in the MTFP either way, so it is not the programme's value for money.")
    return sentences


def value_for_money_sentence(ds: xr.Dataset, config: Config, table: pd.DataFrame) -> str:
    """The programme's own costs, whoever pays, against the costs it avoids, at the Green Book rate."""
    from fsp_risk.outputs.charts import _optimism_bias

    rows = table.set_index("measure")
    rate = float(ds.attrs.get("discount_rate", config.price_base.discount_rate))
    base_year = ds.attrs.get("price_base_year", config.price_base.base_year)
    npv_row, bcr = rows.loc["net_present_value"], rows.loc["benefit_cost_ratio"]
    p_gain = float(npv_row["p_npv_positive"])
    return (
        f"Value for money over {period(ds)}: all the programme's own costs, whoever pays, against the costs it avoids"
        f"{_optimism_bias(config)}, in {base_year} prices discounted at {rate:.1%} a year (HM Treasury Green Book). "
        f"The net present value has a median of {format_money(npv_row['p50'])} (P10 {format_money(npv_row['p10'])}, "
        f"P90 {format_money(npv_row['p90'])}) and is positive in {share(p_gain)} of outcomes; each £1 the programme "
        f"costs avoids a median £{bcr['p50']:.2f} (P10 £{bcr['p10']:.2f}, P90 £{bcr['p90']:.2f}).")


def convergence_sentence(ds: xr.Dataset, table: pd.DataFrame, p80: float, half_width: float) -> str:
    """How well the run pins down its P80 (and P50)."""
    sentence = (f"Monte Carlo precision: after {ds.sizes['iteration']:,} iterations the P80 of the total net change is "
                f"{format_money(p80)} ± {format_money(half_width)} and the P50 {format_money(table.iloc[-1]['p50'])} "
                f"(95% confidence intervals).")
    if "stop_reason" in ds.attrs:
        sentence += f" The run stopped on reaching its precision target: {ds.attrs['stop_reason']}."
    return sentence


def money_over_time_sentence(ds: xr.Dataset, summary: pd.DataFrame) -> str:
    """Real terms, net present value and the cashable share, in one quotable sentence."""
    table = summary.set_index(["variable", "year"])
    real = table.loc[("net_savings_real", "total")]
    npv = table.loc[("net_savings_pv", "total")]
    rate = float(ds.attrs.get("discount_rate", 0.035))
    text = (f"In real terms at {ds.attrs['price_base_year']} prices the median net savings over {period(ds)} are "
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
        f"Over {period(ds)}, the simulation gives a {p_met:.0%} chance that {config.council}'s programme meets "
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

