"""Scenario tables: each case of a scenarios Dataset against the base case, on common random numbers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fsp_risk.analysis.summary import horizon_total, percentiles_with_se, proportion_se


def scenario_table(ds: xr.Dataset) -> pd.DataFrame:
    """Each case's total net change over the horizon, and its difference from the base case.

    ``diff_*`` columns are the case minus base per iteration (positive = more pressure than base);
    ``diff_mean_se`` is the standard error of the mean difference on common random numbers, and
    ``diff_mean_se_independent`` what it would be from two independent runs of the same size. For
    ``without_fsp`` the difference is how much FSP changes the MTFP position (negative = better with FSP).
    """
    def total(i):  # one case at a time: a run's file may not fit in memory at once
        return horizon_total(ds["net_change_to_mtfp"].isel(scenario=i))

    base = total(0)
    n = base.size
    rows = []
    for i, name in enumerate(ds.scenario.values):
        t = total(i)
        pct, pct_se = percentiles_with_se(t[:, None], (10, 50, 80, 90))
        met = float((t <= 0).mean())
        diff = t - base
        dpct, _ = percentiles_with_se(diff[:, None], (10, 50, 90))
        rows.append({
            "scenario": str(name), "title": str(ds.scenario_title.values[i]), "kind": str(ds.scenario_kind.values[i]),
            "pins": str(ds.scenario_pins.values[i]), "mean": t.mean(),
            **{f"p{p}": pct[j, 0] for j, p in enumerate((10, 50, 80, 90))},
            "p80_se": pct_se[2, 0],
            "p_target_met": met, "p_target_met_se": float(proportion_se(met, n)),
            "diff_mean": diff.mean(), "diff_mean_se": diff.std(ddof=1) / np.sqrt(n) if n > 1 else 0.0,
            "diff_mean_se_independent": np.sqrt((t.var(ddof=1) + base.var(ddof=1)) / n) if n > 1 else 0.0,
            "diff_p10": dpct[0, 0], "diff_p50": dpct[1, 0], "diff_p90": dpct[2, 0],
            "p_worse_than_base": float((diff > 0.005).mean()),
        })
    table = pd.DataFrame(rows)
    money = [c for c in table.columns if c not in ("scenario", "title", "kind", "pins") and not c.startswith("p_")]
    table[money] = table[money].round(2)
    return table


def mtfp_improvement(ds: xr.Dataset) -> np.ndarray | None:
    """How much FSP improves the MTFP position over the horizon per iteration [GBP]: net change without FSP
    minus with it (positive = better with FSP). Budgeted costs are in the MTFP either way, so this is not
    value for money (see :func:`fsp_risk.analysis.summary.value_for_money`). None when the run has no counterfactual."""
    if "without_fsp" not in ds.scenario.values:
        return None
    net = ds["net_change_to_mtfp"]
    return horizon_total(net.sel(scenario="without_fsp")) - horizon_total(net.sel(scenario="base"))
