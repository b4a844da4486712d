"""Summaries of a results Dataset for finance readers, each with its Monte Carlo standard error.

Percentiles use numpy's default (linear interpolation between order statistics). The standard error
of a percentile is taken from the distribution-free 95% confidence interval between two order
statistics (Hahn and Meeker, "Statistical Intervals", 1991, ch. 5): ranks ``n q -/+ 1.96 sqrt(n q (1 - q))``,
half the interval's width divided by 1.96.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fsp_risk.engine.variables import SUMMARY_VARIABLES

#: Percentiles reported as they are (the prudent 80%-confidence figure is added by its own rule).
PERCENTILES = (10, 50, 90)
_Z95 = 1.959963984540054


#: Iterations read from a results file at a time by :func:`horizon_total` (four blocks).
READ_ROWS = 262_144


def horizon_total(da: xr.DataArray) -> np.ndarray:
    """``da`` summed over ``year``, per iteration, read a slice of iterations at a time [shape (iteration,)].

    A large run's results are read lazily from disk; summing the whole array at once would hold it
    (and a copy) in memory.
    """
    n = da.sizes["iteration"]
    dims = [d for d in da.dims if d != "year"]
    at = dims.index("iteration")  # where the iteration axis is once the years are summed
    out = np.empty((n, *(da.sizes[d] for d in dims if d != "iteration")))
    for a in range(0, n, READ_ROWS):  # into one array: no list of slices to join (twice the memory)
        out[a:a + READ_ROWS] = np.moveaxis(da.isel(iteration=slice(a, a + READ_ROWS)).values.sum(
            axis=da.get_axis_num("year")), at, 0)
    return out


def year_columns(da: xr.DataArray) -> list[np.ndarray]:
    """Each year's values of an (iteration, year) variable, one column read at a time."""
    return [da.isel(year=j).values for j in range(da.sizes["year"])]


def summary_column(ds: xr.Dataset, name: str, year: int) -> np.ndarray | None:
    """One year's values of a stored variable, or of one derived from them; None where the run has neither.

    ``cost_avoidance`` is the part of the savings realised that is not cashable: it lowers future
    demand on budgets but cannot be taken out of them (negative = saving, as the other savings). Read a
    year at a time, so that a large run's arrays are never in memory whole.
    """
    if name == "cost_avoidance" and "total_savings" in ds and "cashable_savings" in ds:
        return ds["total_savings"].isel(year=year).values - ds["cashable_savings"].isel(year=year).values
    return ds[name].isel(year=year).values if name in ds else None


def percentiles_with_se(values: np.ndarray, percentiles=PERCENTILES) -> tuple[np.ndarray, np.ndarray]:
    """Percentiles of each column and their Monte Carlo standard errors.

    Parameters
    ----------
    values : ndarray, shape (n, k)
    percentiles : sequence of float in [0, 100]

    Returns
    -------
    (estimates, standard errors), each shape (len(percentiles), k), in the units of ``values``.
    """
    n, cols = values.shape
    est, se = np.empty((len(percentiles), cols)), np.empty((len(percentiles), cols))
    for c in range(cols):  # one column sorted at a time: a large run's arrays are not copied whole
        s = np.sort(values[:, c])
        for i, p in enumerate(percentiles):
            q = p / 100.0
            h = (n - 1) * q
            lo = int(np.floor(h))
            hi = min(lo + 1, n - 1)
            est[i, c] = s[lo] + (h - lo) * (s[hi] - s[lo])
            half = _Z95 * np.sqrt(n * q * (1 - q))
            j = int(np.clip(np.floor(n * q - half), 0, n - 1))
            k = int(np.clip(np.ceil(n * q + half), 0, n - 1))
            se[i, c] = (s[k] - s[j]) / (2 * _Z95)
    return est, se


def column_percentiles(da: xr.DataArray, percentiles) -> np.ndarray:
    """Percentiles of each year of an (iteration, year) variable, shape (len(percentiles), years); one
    year read at a time."""
    return np.column_stack([np.percentile(c, percentiles) for c in year_columns(da)])


def proportion_se(p, n: int):
    """Standard error of a proportion estimated from ``n`` iterations."""
    return np.sqrt(np.asarray(p) * (1 - np.asarray(p)) / n)


def summary_table(ds: xr.Dataset) -> pd.DataFrame:
    """Mean and percentiles of each money line, by year and over the horizon, with standard errors.

    Each row says what a positive value means (``positive_means``): savings and costs avoided are
    positive amounts saved, pressures and costs positive amounts spent. ``p10``, ``p50`` and ``p90`` are
    percentiles; ``p80_prudent`` is the prudent 80%-confidence figure, the value no worse than in 80% of
    outcomes (the 80th percentile of a pressure, the 20th of a saving). For ``net_change_to_mtfp`` the
    table also gives ``p_target_met`` (share of iterations whose net change is zero or below: the MTFP
    savings are met), ``mean_shortfall`` (mean of the positive part) and ``contingency_p80`` (the
    sum that covers the shortfall in 80% of outcomes).
    """
    from fsp_risk.engine.variables import VARIABLES

    n = ds.sizes["iteration"]
    rows = []
    for name in SUMMARY_VARIABLES:
        if summary_column(ds.isel(iteration=slice(0, 1)), name, 0) is None:
            continue
        v = VARIABLES[name]
        percentiles = (*PERCENTILES, v.prudent_percentile)
        # One year column read at a time, the horizon total kept as a running sum: a large run's arrays
        # are never in memory whole.
        k = ds.sizes["year"] + 1
        pct, pct_se = np.empty((len(percentiles), k)), np.empty((len(percentiles), k))
        mean, mean_se = np.empty(k), np.zeros(k)
        total = np.zeros(n)
        for j in range(k):
            if j < k - 1:
                col = summary_column(ds, name, j) * v.reported
                total += col
            else:
                col = total
            pct[:, j:j + 1], pct_se[:, j:j + 1] = percentiles_with_se(col[:, None], percentiles)
            mean[j] = col.mean()
            if n > 1:
                mean_se[j] = col.std(ddof=1) / np.sqrt(n)
            del col
        for j, year in enumerate([*map(str, ds.year.values), "total"]):
            row = {"variable": name, "positive_means": v.positive, "year": str(year), "mean": mean[j],
                   "mean_se": mean_se[j]}
            for i, p in enumerate(PERCENTILES):
                row[f"p{p}"] = pct[i, j]
                row[f"p{p}_se"] = pct_se[i, j]
            row["p80_prudent"], row["p80_prudent_se"] = pct[-1, j], pct_se[-1, j]
            rows.append(row)
    table = pd.DataFrame(rows)
    met, mean_shortfall, total = [], [], np.zeros(n)
    for j in range(ds.sizes["year"] + 1):
        if j < ds.sizes["year"]:
            col = ds["net_change_to_mtfp"].isel(year=j).values
            total += col
        else:
            col = total
        met.append((col <= 0).mean())
        mean_shortfall.append(np.maximum(col, 0.0).mean())
    met, mean_shortfall = np.array(met), np.array(mean_shortfall)
    sel = table["variable"] == "net_change_to_mtfp"
    for col in ("p_target_met", "p_target_met_se", "mean_shortfall", "contingency_p80"):
        table[col] = np.nan
    table.loc[sel, "p_target_met"] = met
    table.loc[sel, "p_target_met_se"] = proportion_se(met, n)
    table.loc[sel, "mean_shortfall"] = mean_shortfall
    table.loc[sel, "contingency_p80"] = np.maximum(table.loc[sel, "p80_prudent"].values, 0.0)
    money = [c for c in table.columns if c not in ("variable", "positive_means", "year", "p_target_met",
                                                   "p_target_met_se")]
    table[money] = table[money].round(2)  # to the penny
    table[["p_target_met", "p_target_met_se"]] = table[["p_target_met", "p_target_met_se"]].round(4)
    return table


#: Bases of the cumulative table: (variable, label).
CUMULATIVE_BASES = (("net_savings", "cash"), ("net_savings_real", "real terms"),
                    ("net_savings_pv", "present value"))


def cumulative_table(ds: xr.Dataset) -> pd.DataFrame:
    """Cumulative net savings against the MTFP by the end of each year (positive = saving), and the
    chance the MTFP target is met cumulatively by then.

    The target is met cumulatively by a year when cumulative net savings (minus the cumulative net
    change to the MTFP) are zero or more at its end: the savings so far at least cover what the plan
    asked of them. That is not the programme paying for itself (see value for money). One block of rows
    per basis: cash, real terms at price-base-year prices, and present value (real, discounted at the
    run's rate). ``p80_prudent`` is the figure no worse than in 80% of outcomes (the 20th percentile).
    """
    n = ds.sizes["iteration"]
    rows = []
    for name, basis in CUMULATIVE_BASES:
        if name in ds:
            rows += _cumulative_rows(ds, name, basis, n)
    table = pd.DataFrame(rows)
    chances = ["p_target_met_cumulative", "p_target_met_cumulative_se"]
    money = [c for c in table.columns if c not in ("basis", "positive_means", "year", *chances)]
    table[money] = table[money].round(2)
    table[chances] = table[chances].round(4)
    return table


def _cumulative_rows(ds: xr.Dataset, name: str, basis: str, n: int) -> list[dict]:
    rows = []
    cum = 0.0
    for j, (year, column) in enumerate(zip(ds.year.values, year_columns(ds[name]))):
        cum = cum + column  # one running column, not the whole cumulative array
        pct, pct_se = percentiles_with_se(cum[:, None], (*PERCENTILES, 20))
        row = {"basis": basis, "positive_means": "saving against the MTFP", "year": str(year), "mean": cum.mean()}
        for i, p in enumerate(PERCENTILES):
            row[f"p{p}"], row[f"p{p}_se"] = pct[i, 0], pct_se[i, 0]
        row["p80_prudent"], row["p80_prudent_se"] = pct[-1, 0], pct_se[-1, 0]
        met = float((cum >= 0).mean())
        row["p_target_met_cumulative"] = met
        row["p_target_met_cumulative_se"] = float(proportion_se(met, n))
        rows.append(row)
    return rows


def value_for_money(ds: xr.Dataset) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Value for money over the horizon: present values of the programme's benefits and costs, the net
    present value and the benefit-cost ratio, each with its P10, P50 and P90, and the chance the NPV is
    positive; with the NPV per iteration. None for results without the value-for-money variables.

    Benefits are the costs the programme avoids (after the config's optimism-bias adjustment), costs
    are all its own costs whoever pays, both in real terms discounted at the config's rate (Green Book).
    """
    if "programme_costs_pv" not in ds:
        return None
    benefits = horizon_total(ds["programme_benefits_pv"])
    costs = horizon_total(ds["programme_costs_pv"])
    npv = benefits - costs
    # A ratio is undefined for a programme that costs nothing; such iterations are left out of it.
    ratio = np.divide(benefits, costs, out=np.full_like(benefits, np.nan), where=costs > 0)
    rows = []
    for measure, values, units in (("benefits_pv", benefits, "GBP"), ("costs_pv", costs, "GBP"),
                                   ("net_present_value", npv, "GBP"), ("benefit_cost_ratio", ratio, "ratio")):
        v = values[np.isfinite(values)]
        p10, p50, p90 = np.percentile(v, [10, 50, 90]) if v.size else (np.nan,) * 3
        digits = 0 if units == "GBP" else 2  # pounds, and a ratio to the penny in the pound
        rows.append({"measure": measure, "units": units,
                     **{k: round(float(q), digits) for k, q in (("mean", v.mean() if v.size else np.nan),
                                                                ("p10", p10), ("p50", p50), ("p90", p90))}})
    table = pd.DataFrame(rows)
    table["p_npv_positive"] = [np.nan, np.nan, float((npv > 0).mean()), np.nan]
    return table, npv
