"""What the what-if page shows, from the live model (:class:`fsp_risk.engine.live.LiveModel`): the
headline with its Monte Carlo precision, the fan chart's percentiles and the grouped drivers in £.

Every figure comes from the same functions as a full run's tables (:func:`~fsp_risk.analysis.summary.summary_table`,
:func:`~fsp_risk.analysis.sensitivity.held_table`), so the page and a run of the same settings agree to the penny.
"""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import xarray as xr

from fsp_risk.analysis.sensitivity import held_cases, held_table, rank_correlations
from fsp_risk.analysis.summary import summary_table
from fsp_risk.config import Config, Input
from fsp_risk.engine.live import LiveModel

#: The fan chart's percentiles of net savings by year.
FAN = (10, 25, 50, 75, 90)


@dataclass(frozen=True)
class LiveSummary:
    """The headline of one live evaluation [GBP; net change positive = pressure]."""

    years: tuple[str, ...]
    #: summary_table's rows for the net change to the MTFP, indexed by year and "total".
    table: pd.DataFrame
    #: Percentiles of each year's net savings (minus the net change), for the fan chart: FAN -> (years,).
    fan: dict[int, np.ndarray]
    #: Each iteration's total net change over the horizon.
    total: np.ndarray

    @property
    def iterations(self) -> int:
        return len(self.total)

    def row(self, year: str = "total") -> pd.Series:
        return self.table.loc[year]

    @property
    def p_met_by_year(self) -> np.ndarray:
        return self.table.loc[list(self.years), "p_target_met"].to_numpy(float)


def results_dataset(net_change: np.ndarray, config: Config, seed: int, sampler: str) -> xr.Dataset:
    """The net change as a minimal results Dataset (what the summary and sensitivity tables read)."""
    return xr.Dataset({"net_change_to_mtfp": (("iteration", "year"), net_change)},
                      coords={"iteration": np.arange(len(net_change)), "year": list(config.years)},
                      attrs={"seed": seed, "sampler": sampler})


def live_summary(live: LiveModel, net_change: np.ndarray) -> LiveSummary:
    """The headline, precision and fan of one evaluation of ``live`` (shape (iterations, years))."""
    ds = results_dataset(net_change, live.config, live.seed, live.sampler)
    table = summary_table(ds)
    table = table[table["variable"] == "net_change_to_mtfp"].set_index("year")
    savings = -net_change
    fan = dict(zip(FAN, np.percentile(savings, FAN, axis=0)))
    return LiveSummary(tuple(live.config.years), table, fan, net_change.sum(axis=1))


def live_drivers(live: LiveModel, inputs: dict[str, Input], pins: dict[str, float], net_change: np.ndarray,
                 guard: AbstractContextManager | None = None, stop: Callable[[], bool] = lambda: False
                 ) -> pd.DataFrame | None:
    """The grouped tornado of the current settings: how much each driver group and each linked risk adds to
    the P80 of the total net change, each held at its central value on the same random numbers.

    Inputs the user has pinned are already still and are not held again. A risk costed in £ on the register
    (no linked inputs) needs each iteration's risk line, which the live model does not keep: it is left out
    here and appears in a full run's grouped tornado. Each case's evaluation runs inside ``guard`` (a lock
    shared with other users of ``live``); None is returned as soon as ``stop()`` says the settings have
    moved on, so a page's next change waits for one case at most.
    """
    config = live.with_inputs(inputs)
    results = []
    for case in held_cases(config, keep=pins):
        if case.pins is None:
            continue
        if stop():
            return None
        with guard or nullcontext():
            totals = live.net_change(inputs, {**pins, **case.pins}, placement_spread=case.placement_spread)
        results.append((case, totals.sum(axis=1)))
    return held_table(net_change.sum(axis=1), results)


def top_inputs(live: LiveModel, net_change: np.ndarray, count: int = 8) -> list[str]:
    """The ``count`` uncertain inputs most rank-correlated with the total net change of the live sample."""
    ds = results_dataset(net_change, live.config, live.seed, live.sampler)
    table = rank_correlations(ds, live.config, "net_change_to_mtfp")
    return table["input"].head(count).tolist()
