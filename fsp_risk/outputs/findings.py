"""The run's words: the paragraph a cabinet paper can quote, its headline figures, a sentence per
analysis, and when the evidence was dated. Plain text, escaped by each format that carries it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from fsp_risk.config import Config
from fsp_risk.outputs.charts import Chart
from fsp_risk.outputs.escape import markdown
from fsp_risk.outputs.formatting import (SIGN_CONVENTION, format_money, lower_first, optimism_bias_words, period,
                                         pressure_or_saving, share)


def scenario_sentences(ds: xr.Dataset, table: pd.DataFrame, improvement: np.ndarray | None) -> list[str]:
    """A sentence per scenario and stress test against the base case (every assumption as set), and one on what FSP does to
    the MTFP position against the counterfactual (``improvement``: :func:`fsp_risk.analysis.scenarios.mtfp_improvement`)."""
    horizon = period(ds)
    base = table.iloc[0]
    sentences = []
    for _, row in table.iloc[1:].iterrows():
        if row["kind"] == "counterfactual":
            continue
        more = row["diff_mean"]
        direction = (f"{format_money(abs(more))} {'more' if more > 0 else 'less'} pressure than the base case on "
                     f"average (to within ±{format_money(1.96 * row['diff_mean_se'], 2)} from sampling)"
                     if abs(more) >= 0.5 else "the same as the base case")
        sentences.append(
            f"{row['title']}: over {horizon} the median outcome is {pressure_or_saving(row['p50'])} against the MTFP "
            f"and, in 80% of outcomes, no worse than {pressure_or_saving(row['p80'])}; {direction}; the chance of "
            f"meeting the MTFP target is "
            f"{row['p_target_met']:.0%} (base case: {base['p_target_met']:.0%}).")
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
    rows = table.set_index("measure")
    rate = float(ds.attrs.get("discount_rate", config.price_base.discount_rate))
    base_year = ds.attrs.get("price_base_year", config.price_base.base_year)
    npv_row, bcr = rows.loc["net_present_value"], rows.loc["benefit_cost_ratio"]
    p_gain = float(npv_row["p_npv_positive"])
    return (
        f"Value for money over {period(ds)}: all the programme's own costs, whoever pays, against the costs it avoids"
        f"{optimism_bias_words(config)}, in {base_year} prices discounted at {rate:.1%} a year (HM Treasury Green Book). "
        f"The net present value has a median of {format_money(npv_row['p50'])} (P10 {format_money(npv_row['p10'])}, "
        f"P90 {format_money(npv_row['p90'])}) and is positive in {share(p_gain)} of outcomes; each £1 the programme "
        f"costs avoids a median £{bcr['p50']:.2f} (P10 £{bcr['p10']:.2f}, P90 £{bcr['p90']:.2f}).")


def convergence_sentence(ds: xr.Dataset, table: pd.DataFrame) -> str:
    """How well the run pins down its P80 and median (``table``'s last row: the whole run)."""
    last = table.iloc[-1]
    p80, half_width = float(last["p80"]), (float(last["p80_high"]) - float(last["p80_low"])) / 2
    p50_half = (float(last["p50_high"]) - float(last["p50_low"])) / 2
    sentence = (f"Precision of the simulation: after {ds.sizes['iteration']:,} iterations the P80 of the total net "
                f"change is {format_money(p80)} to within ±{format_money(half_width)} and the median "
                f"{format_money(float(last['p50']))} to within ±{format_money(p50_half)} (95% confidence).")
    if "stop_reason" in ds.attrs:
        sentence += f" The run stopped on reaching its precision target: {ds.attrs['stop_reason']}."
    return sentence


def money_over_time_sentence(ds: xr.Dataset, summary: pd.DataFrame) -> str:
    """Real terms, net present value and the cashable share, in one quotable sentence."""
    table = summary.set_index(["variable", "year"])
    real = table.loc[("net_savings_real", "total")]
    npv = table.loc[("net_savings_pv", "total")]
    rate = float(ds.attrs.get("discount_rate", 0.035))
    text = (f"In real terms at {ds.attrs['price_base_year']} prices the median outcome over {period(ds)} is "
            f"{pressure_or_saving(-real['p50'])} against the MTFP; discounted at {rate:.1%} a year (HM Treasury Green "
            f"Book) its present value is {pressure_or_saving(-npv['p50'])} (from {pressure_or_saving(-npv['p10'])} to "
            f"{pressure_or_saving(-npv['p90'])} in the middle 80% of outcomes).")
    if ("cost_avoidance", "total") in table.index:
        cashable = table.loc[("cashable_savings", "total"), "mean"]  # positive = saving
        avoided = table.loc[("cost_avoidance", "total"), "mean"]
        if avoided == 0:
            text += f" All {format_money(cashable)} of savings realised (on average) are cashable."
        elif cashable == 0:
            text += (f" FSP avoids {format_money(avoided)} of costs on average over the period (cash terms), none of "
                     "it cashable: spending that would otherwise have grown, not money taken from budgets.")
        else:
            text += (f" Of the savings realised, {format_money(cashable)} on average is cashable (taken from budgets) "
                     f"and {format_money(avoided)} is cost avoidance (spending that would otherwise have grown).")
    return text


@dataclass(frozen=True)
class Headline:
    """The run's headline numbers: chance the target is met over the horizon and by year, P50, P80 and
    mean of the total net change [GBP]."""

    p_met: float
    p50: float
    p80: float
    by_year: np.ndarray
    mean: float = float("nan")

    @classmethod
    def of(cls, summary: pd.DataFrame) -> "Headline":
        """The headline as the run's summary table (:func:`fsp_risk.analysis.summary.summary_table`, as
        stored) gives it, so that the findings, the terminal and summary.csv quote the same figures."""
        rows = summary[summary["variable"] == "net_change_to_mtfp"].set_index("year")
        total = rows.loc["total"]
        return cls(float(total["p_target_met"]), float(total["p50"]), float(total["p80_prudent"]),
                   rows.drop(index="total")["p_target_met"].to_numpy(float), float(total["mean"]))


def headline_paragraph(ds: xr.Dataset, config: Config, h: Headline) -> str:
    """The quotable paragraph, as plain text (escaped by each format that carries it).

    The whole-period chance comes first, then each year whose own chance is below one in two, by name:
    a reader should not take the period's figure for every year's.
    """
    years = [str(y) for y in ds.year.values]
    after = " after the register's mitigations" if "net_change_inherent" in ds else ""
    p_met, p50, p80, by_year = h.p_met, h.p50, h.p80, h.by_year
    below = [(y, p) for y, p in zip(years, by_year) if p < 0.5]
    if len(below) == len(years):
        yearly = ("Taken a year at a time, the chance of meeting that year's target is below 50% in every year: "
                  + ", ".join(f"{y} {p:.0%}" for y, p in below) + ".")
    elif below:
        rest = [p for p in by_year if p >= 0.5]
        yearly = ("Taken a year at a time, the chance of meeting that year's target is below 50% in "
                  + _and(f"{y} ({p:.0%})" for y, p in below)
                  + f", and from {min(rest):.0%} to {max(rest):.0%} in the other years.")
    else:
        yearly = (f"Taken a year at a time, the chance of meeting that year's target is at least 50% in every year, "
                  f"from {by_year.min():.0%} ({years[int(by_year.argmin())]}) to {by_year.max():.0%} "
                  f"({years[int(by_year.argmax())]}).")
    return (
        f"Over {period(ds)} as a whole, the simulation gives a {p_met:.0%} chance that {config.council}'s programme "
        f"meets its MTFP target{after}. The median outcome over the period is {pressure_or_saving(p50)} against "
        f"the MTFP; in 80% of outcomes it is no worse than {pressure_or_saving(p80)}.{_average(h)} {yearly}"
    )


def _average(h: Headline) -> str:
    """The mean, where it differs enough from the median to matter to a budget set on the expected value."""
    if not np.isfinite(h.mean) or abs(h.mean - h.p50) < 0.1 * max(abs(h.p50), 1.0):
        return ""
    worse = h.mean > h.p50
    return (f" The average outcome is {pressure_or_saving(h.mean)}, {'worse' if worse else 'better'} than the median "
            f"because a minority of outcomes are much {'worse' if worse else 'better'}.")


def _and(parts) -> str:
    parts = list(parts)
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def findings_text(ds: xr.Dataset, config: Config, charts: list[Chart], reserve: str | None,
                  extra: list[str], headline: Headline) -> str:
    """``findings.md``: a paragraph a cabinet paper can quote, the headline figures, alt text per chart."""
    h = headline
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
        f"- Chance the MTFP target is met over the whole period: {p_met:.1%}",
        f"- Median net change to the MTFP over the period (positive = pressure): {format_money(p50)}",
        f"- Mean net change to the MTFP over the period (positive = pressure): {format_money(h.mean)}",
        f"- P80 net change to the MTFP, no worse than this in 80% of outcomes (positive = pressure): "
        f"{format_money(p80)}",
        *[f"- Chance the {y} target is met, that year alone: {p:.0%}" for y, p in zip(years, by_year)],
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
        f"{reds} rated red (weak evidence). Money is in cash terms unless a figure says otherwise.",
        "",
        SIGN_CONVENTION,
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


def reserve_statement(ds: xr.Dataset, config: Config, portfolio: pd.DataFrame) -> str:
    """A sentence for the chief finance officer's statement on the adequacy of reserves (``portfolio``:
    :func:`fsp_risk.analysis.register.portfolio_table`)."""
    q = config.risk_register.reserve_confidence
    total = portfolio.set_index("risk").loc["total"]
    reserve = max(float(total[f"p{round(q * 100)}_exposure"]), 0.0)
    return (f"On the simulated risk register ({len(config.risk_register.risks)} risks, after mitigation), a risk-based "
            f"reserve of {format_money(reserve)} would cover the register's risks over {period(ds)} in {q:.0%} of "
            f"outcomes; their expected cost is {format_money(float(total['emv']))} ({ds.attrs['iterations']:,} "
            f"iterations, seed {ds.attrs['seed']}).") + (
        " The expected cost is above the reserve because the cost falls in a minority of outcomes: in 80% the "
        "risks cost no more than the reserve, in the rest much more." if float(total["emv"]) > reserve else "")


def register_differences(ds: xr.Dataset, table: pd.DataFrame) -> str | None:
    """Where the simulated risks' scores differ from the council's own register, named risk by risk
    (``table``: :func:`fsp_risk.analysis.register.risk_table`); None where they all agree."""
    differ = table[table["differs_from_register"].astype(str) != ""]
    if differ.empty:
        return None
    parts = [f"{r['risk']}, {lower_first(str(r['title']))} ({r['differs_from_register']}; a "
             f"{share(float(r['p_occurs']))} chance it occurs over {period(ds)})" for _, r in differ.iterrows()]
    return (f"The simulation scores {len(differ)} of the register's {len(table)} risks differently from the council's "
            f"own register, before mitigation: {'; '.join(parts)}. Each should be reviewed: the register's score "
            "against the evidence in the assumption book, or the simulation's inputs against the risk owner's "
            "judgement.")


def reserve_and_contingency(config: Config, summary: pd.DataFrame, portfolio: pd.DataFrame) -> str:
    """How the register's reserve and the whole plan's P80 contingency fit together, so that a reader
    does not add them up or hold the smaller one."""
    q = config.risk_register.reserve_confidence
    reserve = max(float(portfolio.set_index("risk").loc["total", f"p{round(q * 100)}_exposure"]), 0.0)
    contingency = float(summary.set_index(["variable", "year"]).loc[("net_change_to_mtfp", "total"), "contingency_p80"])
    text = (f"A contingency of {format_money(contingency)} would cover the shortfall against the MTFP in 80% of "
            "outcomes; it covers the whole plan: demand, prices, workforce, funding and the register's risks "
            f"together. The register reserve of {format_money(reserve)} covers the register's risks alone and is "
            "part of that contingency, not in addition to it.")
    if reserve > contingency:
        text += (" Here the register's risks alone need more at that confidence than the whole plan does, because "
                 "in most outcomes savings elsewhere absorb part of them; a prudent budget holds the larger figure.")
    text += (" How far the reserve would fall without each risk is in the risk portfolio table; risks overlap, so "
             "these amounts do not add up to the reserve.")
    return text


def target_and_value_for_money(summary: pd.DataFrame, value_for_money: pd.DataFrame) -> str:
    """Why the chance the MTFP target is met and the chance FSP pays for itself differ: two questions."""
    met = float(summary.set_index(["variable", "year"]).loc[("net_change_to_mtfp", "total"), "p_target_met"])
    pays = float(value_for_money.set_index("measure").loc["net_present_value", "p_npv_positive"])
    return (f"Meeting the MTFP target and paying for itself are different tests. The MTFP target over the period is "
            f"met in {share(met)} of outcomes: the savings are at least what the budget already assumes. FSP's "
            f"benefits exceed its own costs in {share(pays)}: everything it avoids against everything it costs, "
            "whoever pays or gains. A programme can pay for itself and still leave the MTFP short, when its savings "
            "are real but smaller than the budget assumed, or land with partners rather than the council.")


def variance_sentence(ds: xr.Dataset, table: pd.DataFrame) -> str:
    """What knowing the main uncertainties would remove from the variance of the net change (first-order
    Sobol' indices, :func:`fsp_risk.analysis.variance.variance_sensitivity`)."""
    from fsp_risk.analysis.variance import FSP_EFFECT, dependence_inputs

    def pct(v: float) -> str:
        v = min(max(float(v), 0.0), 1.0)
        return f"{v:.1%}" if 0.005 <= v < 0.1 else share(v)

    total = table[table["year"] == "total"]
    groups = total[total["kind"].isin(("driver group", "register"))].sort_values("first_order", ascending=False)
    def taken(row) -> str:
        """What a group takes with it: the inputs correlated with its own (its ``dependence``)."""
        named = dependence_inputs(row["dependence"])
        return f" (with {named}, correlated with it)" if named else ""

    top = groups.head(2)
    first = top.iloc[0]
    text = (f"Knowing {lower_first(first['factor'])}{taken(first)} exactly would remove about "
            f"{pct(first['first_order'])} of the uncertainty (the variance) in the total net change to the MTFP "
            f"over {period(ds)}")
    if len(top) > 1:
        second = top.iloc[1]
        text += f"; knowing {lower_first(second['factor'])}{taken(second)} about {pct(second['first_order'])}"
    narrow = 1 - np.sqrt(1 - min(max(float(first["first_order"]), 0.0), 1.0))
    text += (f" (first-order Sobol' indices; correlated inputs count in each group they touch, so these overlap and "
             f"do not add up to 100%). Variance is the spread squared: knowing {lower_first(first['factor'])} would "
             f"narrow the spread of outcomes (their standard deviation) by about {narrow:.0%}.")
    effect = table[(table["factor"] == FSP_EFFECT) & (table["year"] != "total")].dropna(subset=["first_order"])
    if not effect.empty:
        best = effect.loc[effect["first_order"].idxmax()]
        whole = total[total["factor"] == FSP_EFFECT]["first_order"].iloc[0]
        text += (f" Knowing FSP's effect would remove about {pct(best['first_order'])} of the uncertainty in "
                 f"{best['year']}, its largest share, and {pct(whole)} over the period"
                 + (": how uncertain the effect is adds little beside the rest, which says nothing of how large the "
                    "effect itself is." if best["first_order"] < 0.1 else "."))
    return text
