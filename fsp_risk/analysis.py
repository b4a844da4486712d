"""Summaries of a results Dataset: percentiles by year and over the horizon, chance of meeting the MTFP."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

#: Lines summarised in summary.csv, in the order a finance reader expects.
SUMMARY_VARIABLES = (
    "net_change_to_mtfp", "net_savings", "shortfall", "total_costs", "total_savings", "cashable_savings",
    "grant_loss", "workforce_cost_pressure", "placement_cost_avoidance", "service_cost_avoidance",
)
PERCENTILES = (10, 50, 80, 90)


def with_total(da: xr.DataArray) -> xr.DataArray:
    """Append a ``total`` over the horizon to the ``year`` dimension."""
    total = da.sum("year").expand_dims(year=["total"])
    return xr.concat([da, total], dim="year")


def summary_table(ds: xr.Dataset) -> pd.DataFrame:
    """Mean and percentiles of each money line, by year and in total, with the chance the MTFP is met.

    ``p_target_met`` is the share of iterations whose net change to the MTFP is zero or below, i.e.
    whose savings meet the MTFP target in that year (or over the horizon, for ``total``).
    """
    rows = []
    for name in SUMMARY_VARIABLES:
        if name not in ds:
            continue
        values = with_total(ds[name])
        pct = np.percentile(values.values, PERCENTILES, axis=0)
        mean = values.mean("iteration").values
        for j, year in enumerate(values.year.values):
            row = {"variable": name, "year": str(year), "mean": mean[j]}
            row.update({f"p{p}": pct[i, j] for i, p in enumerate(PERCENTILES)})
            rows.append(row)
    table = pd.DataFrame(rows)
    met = (with_total(ds["net_change_to_mtfp"]) <= 0).mean("iteration")
    table["p_target_met"] = np.nan
    sel = table["variable"] == "net_change_to_mtfp"
    table.loc[sel, "p_target_met"] = met.values
    money = ["mean"] + [f"p{p}" for p in PERCENTILES]
    table[money] = table[money].round(2)  # to the penny
    table["p_target_met"] = table["p_target_met"].round(4)
    return table
