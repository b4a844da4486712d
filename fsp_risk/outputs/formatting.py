"""How numbers read in every output: money a reader can quote, shares that never round a near-certainty
away, the period and source lines of a chart. One place, so the terminal, findings, charts and HTML agree."""
from __future__ import annotations

import xarray as xr


def format_money(value: float, decimals: int = 1) -> str:
    """£ with a sign and a scale a reader can quote: -£1.2m, £350k, £900."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e6:
        return f"{sign}£{v / 1e6:,.{decimals}f}m"
    if v >= 1e3:
        return f"{sign}£{v / 1e3:,.0f}k"
    return f"{sign}£{v:,.0f}"


def pounds(value: float) -> str:
    """£ to the pound, with a sign: for the terminal's exact figures (-£1,234,567)."""
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
