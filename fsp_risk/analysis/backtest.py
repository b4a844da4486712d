"""Backtest: where actual outcomes (:mod:`fsp_risk.config.actuals`) fall in the forecast distribution."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fsp_risk.config import Config
from fsp_risk.config.actuals import MONEY_MEASURES, measures


def forecast(ds: xr.Dataset, measure: str) -> xr.DataArray:
    """The simulated distribution an actual of ``measure`` is compared with."""
    return ds[measure] if measure in MONEY_MEASURES else ds[f"{measure}_fsp"]


def percentile_of(values: np.ndarray, actual: float) -> float:
    """Where ``actual`` falls in ``values`` [0-100]: the share below it, ties counted half (mid-rank)."""
    below = np.count_nonzero(values < actual)
    ties = np.count_nonzero(values == actual)
    return 100.0 * (below + 0.5 * ties) / values.size


def backtest_table(ds: xr.Dataset, config: Config, actuals: pd.DataFrame) -> pd.DataFrame:
    """Each actual beside its forecast's P10, P50 and P90 and its percentile in the forecast."""
    known = measures(config)
    rows = []
    for a in actuals.itertuples(index=False):
        values = forecast(ds, a.measure).sel(year=a.year).values
        p10, p50, p90 = np.percentile(values, [10, 50, 90])
        pct = percentile_of(values, a.actual)
        rows.append({"year": a.year, "measure": a.measure, "title": known[a.measure], "actual": a.actual,
                     "forecast_p10": p10, "forecast_p50": p50, "forecast_p90": p90, "percentile": round(pct, 2),
                     "within_p10_p90": bool(p10 <= a.actual <= p90), "source": a.source})
    return pd.DataFrame(rows)


def ordinal(k: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def backtest_sentence(table: pd.DataFrame) -> str:
    """One line for the findings: how many actuals fell inside the forecast's central 80%."""
    inside = int(table["within_p10_p90"].sum())
    worst = table.iloc[(table["percentile"] - 50).abs().argmax()]
    return (f"Backtest: {inside} of {len(table)} actual outcomes fall within the forecast's 10th to 90th percentiles; "
            f"the furthest out is {worst['title'][0].lower() + worst['title'][1:]} in {worst['year']} "
            f"({worst['actual']:,.0f}), at the "
            f"{ordinal(int(round(worst['percentile'])))} percentile of the forecast.")
