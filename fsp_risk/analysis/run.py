"""Every analysis of a run, computed once after it simulates and stored beside its results
(``analysis.nc``), so that reports render from stored data and never run the model again.

Analyses that must re-run the model (switching values, the grouped tornado, the central plan) take the
config and the run's seed and sampler from the results, so they give the same numbers whenever and
wherever they are computed.
"""
from __future__ import annotations

from typing import Callable

import pandas as pd
import xarray as xr

from fsp_risk.analysis.summary import cumulative_table, horizon_total, summary_table, value_for_money
from fsp_risk.config import Config


#: Iterations the P50 switching values re-run at each trial value, at most.
P50_ITERATIONS = 16_384


#: What a positive figure means in each table that holds one sign convention throughout; summary,
#: cumulative, value for money and backtest say it row by row.
TABLE_SIGNS = {
    "scenarios": "pressure on the MTFP",
    "convergence": "pressure on the MTFP",
    "grouped_sensitivity": "pressure on the MTFP (adds_to: raises the pressure)",
    "switching_values": "saving against the MTFP (net_savings columns)",
    "sensitivity": "net_change columns and swing: pressure on the MTFP; rank_correlation: with net savings "
                   "(positive: a higher input saves more)",
    "risk_register": "cost to the MTFP (an opportunity's impact is negative)",
    "risk_portfolio": "cost to the MTFP",
    "variance_sensitivity": "a larger share of the variance of the net change to the MTFP (pressure and saving alike)",
}
#: Tables whose column order is fixed by what reads them: their positive_means column goes last.
_SIGNS_LAST = {"variance_sensitivity"}
_VALUE_FOR_MONEY_SIGNS = {"benefits_pv": "cost avoided", "costs_pv": "cost", "net_present_value": "benefit above cost",
                          "benefit_cost_ratio": "£ avoided per £1 of cost"}


def with_signs(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each table with a ``positive_means`` column (after its first) saying what a positive figure means."""
    from fsp_risk.config.actuals import MONEY_MEASURES

    out = {}
    for name, table in tables.items():
        if "positive_means" not in table.columns and len(table.columns) > 1:
            if name in TABLE_SIGNS:
                signs = TABLE_SIGNS[name]
            elif name == "value_for_money":
                signs = table["measure"].map(_VALUE_FOR_MONEY_SIGNS)
            elif name == "backtest":
                signs = table["measure"].map(lambda m: ("saving against the MTFP" if m == "net_savings" else
                                                        "pressure on the MTFP" if m in MONEY_MEASURES else "children"))
            else:
                signs = None
            if signs is not None:
                table = table.copy()
                table.insert(len(table.columns) if name in _SIGNS_LAST else 1, "positive_means", signs)
        out[name] = table
    return out


def is_monte_carlo(ds: xr.Dataset) -> bool:
    """A run with a distribution to analyse: at least 3 iterations, not the deterministic central case."""
    return ds.sizes["iteration"] >= 3 and ds.attrs["sampler"] != "central"


def plan_table(config: Config) -> pd.DataFrame:
    """The central case's planned trajectory of each demand measure with FSP: the plan the run is
    measured against [count at 31 March at the end of each year]."""
    from fsp_risk.engine.blocks import central_case

    central = central_case(config)[1]
    return pd.DataFrame([{"measure": m, "year": y, "planned": float(v)}
                         for m in config.demand for y, v in zip(config.years, central[f"{m}_fsp"][0])])


def analyse(ds: xr.Dataset, config: Config, scenarios: xr.Dataset | None = None,
            step: Callable[[str], None] = lambda name: None) -> dict[str, pd.DataFrame]:
    """Every table a run's outputs show, by name (the name of its CSV where it has one).

    ``ds`` is the run's results and ``scenarios`` its scenarios Dataset, if any. Tables that need a
    Monte Carlo run (sensitivity, grouped tornado, convergence, value for money) are left out of a
    deterministic one, the risk tables out of a config without a register. ``step(name)`` is called as
    each analysis starts (a terminal shows it, so that no part of the phase is silent).
    """
    from fsp_risk.analysis.sensitivity import grouped_tornado, p50_switching_values, rank_correlations, switching_values
    from fsp_risk.analysis.variance import SOBOL_ROWS, variance_sensitivity
    from fsp_risk.engine.blocks import drop_kept_draws, reusing_draws
    from fsp_risk.engine.executors import release_memory

    def begin(name: str) -> None:
        release_memory()  # what the last analysis freed goes back: its arrays were the size of the run
        step(name)

    switching = None
    if is_monte_carlo(ds):
        # First, while the run's kept draws are still wanted: the what-if re-runs share them (made once a block,
        # not once a run); they are dropped before the tables that read the results files, which then have the
        # memory to themselves (a 10,000,000-iteration run's draws and memos are about 700 MB).
        with reusing_draws():
            begin("what-if re-runs: each driver group held")
            grouped = grouped_tornado(ds, config)
            drop_kept_draws()
            begin("rank correlations and the tornado")
            sensitivity = rank_correlations(ds, config)
            begin("Sobol' indices: which uncertainty matters when")
            variance = variance_sensitivity(config, int(ds.attrs["seed"]), list(sensitivity["input"]),
                                            rows=min(SOBOL_ROWS, ds.sizes["iteration"]))
            # P50 switching values for the key inputs: the five that move net savings most, on the run's own
            # first iterations (up to P50_ITERATIONS: a P50 settles long before a large run's size).
            begin("switching values at the median")
            switching = switching_values(config)
            key = [n for n in sensitivity["input"] if n in set(switching["input"])][:5]
            p50 = p50_switching_values(config, key, int(ds.attrs["seed"]), ds.attrs["sampler"],
                                       iterations=min(P50_ITERATIONS, ds.sizes["iteration"]))
            drop_kept_draws()
        switching["switching_value_p50"] = switching["input"].map(p50)
    begin("summary tables")
    tables = {"summary": summary_table(ds), "cumulative": cumulative_table(ds), "plan": plan_table(config)}
    if "actuals_csv" in ds.attrs:
        from fsp_risk.analysis.backtest import backtest_table
        from fsp_risk.config.actuals import parse_actuals

        actuals = parse_actuals(ds.attrs["actuals_csv"], config, file=ds.attrs.get("actuals_file", "<actuals>"))
        tables["backtest"] = backtest_table(ds, config, actuals)
    if switching is None:
        begin("switching values at the central case")
        switching = switching_values(config)
    else:
        tables["sensitivity"], tables["grouped_sensitivity"] = sensitivity, grouped
        tables["variance_sensitivity"] = variance
    tables["switching_values"] = switching
    if is_monte_carlo(ds):
        from fsp_risk.analysis.convergence import convergence_table

        begin("precision and value for money")
        tables["convergence"] = convergence_table(horizon_total(ds["net_change_to_mtfp"]))
        if "programme_costs_pv" in ds:
            table, npv = value_for_money(ds)
            tables["value_for_money"] = table
            tables["npv"] = pd.DataFrame({"npv": npv})
    if scenarios is not None:
        from fsp_risk.analysis.scenarios import mtfp_improvement, scenario_table

        tables["scenarios"] = scenario_table(scenarios)
        benefit = mtfp_improvement(scenarios)
        if benefit is not None:
            tables["mtfp_improvement"] = pd.DataFrame({"improvement": benefit})
    if config.risk_register is not None:
        from fsp_risk.analysis.register import portfolio_table, risk_table

        begin("the risk register")
        tables["risk_register"] = risk_table(ds, config)
        tables["risk_portfolio"] = portfolio_table(ds, config)
    return with_signs(tables)
