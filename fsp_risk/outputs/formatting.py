"""How numbers read in every output: money a reader can quote, shares that never round a near-certainty
away, the period and source lines of a chart. One place, so the terminal, findings, charts and HTML agree."""
from __future__ import annotations

import xarray as xr

#: The sign convention and the meaning of P80, stated once for every output (findings, workbook, HTML);
#: each table carries it too, in a ``positive_means`` column or its column names.
SIGN_CONVENTION = (
    "Signs: the net change to the MTFP is positive for a pressure and negative for a saving; net savings, "
    "savings and costs avoided are positive when money is saved; costs, losses and spending above budget are "
    "positive when money is spent. Each table's positive_means column says which applies to each row. A P80 "
    "is always the prudent figure: the outcome is no worse than it in 80% of outcomes (the 80th percentile of "
    "a pressure or cost, the 20th of a saving). Percentiles do not add up across years: the P80 of the total "
    "is not the sum of each year's P80."
)


#: The true minus sign, used for every negative amount a reader sees.
MINUS = "\u2212"


def format_money(value: float, decimals: int = 1) -> str:
    """£ with a sign and a scale a reader can quote: −£1.2m, £350k, £900 (a true minus, as on the charts' axes,
    which screen readers read as "minus")."""
    sign = MINUS if value < 0 else ""
    v = abs(value)
    if v >= 1e6:
        return f"{sign}£{v / 1e6:,.{decimals}f}m"
    if v >= 1e3:
        return f"{sign}£{v / 1e3:,.0f}k"
    return f"{sign}£{v:,.0f}"


def pounds(value: float) -> str:
    """£ to the pound, with a sign: for the terminal's exact figures (-£1,234,567; a hyphen-minus, which every
    console encoding can print)."""
    return f"{'-' if value < 0 else ''}£{abs(value):,.0f}"


def share(p: float) -> str:
    """A share of outcomes as a whole percentage, never rounding a near-certainty to 0% or 100%."""
    if 0 < p < 0.005:
        return "under 1%"
    if 0.995 < p < 1:
        return "over 99%"
    return f"{p:.0%}"


def period(ds: xr.Dataset) -> str:
    """The run's horizon, as '2024/25 to 2028/29'."""
    return f"{ds.year.values[0]} to {ds.year.values[-1]}"


def lower_first(text: str) -> str:
    """A title continued mid-sentence: 'Children in care' -> 'children in care'."""
    return text[:1].lower() + text[1:]


def pressure_or_saving(net_change: float) -> str:
    """A net change to the MTFP in words: 'a pressure of £4.5m' or 'a saving of £1.2m'."""
    return f"a pressure of {format_money(net_change)}" if net_change > 0 else f"a saving of {format_money(-net_change)}"


def ten_words(*titles: str) -> str:
    """The first of ``titles`` in ten words or fewer (an active chart title), else the last."""
    return next((t for t in titles if len(t.split()) <= 10), titles[-1])


def optimism_bias_words(config) -> str:
    """", with the benefits cut by 15% for optimism bias" where the value-for-money view cuts them, else ""."""
    bias = config.inputs[config.optimism_bias].dist.central if config.optimism_bias else 0.0
    return f", with the benefits cut by {bias:.0%} for optimism bias" if bias else ""
