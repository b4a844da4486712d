"""MTFP arithmetic: inflation indices, realised savings and the net change to the MTFP.

Sign convention of council tables: savings are negative, and a positive net change to the MTFP is a
pressure (a shortfall against the savings the MTFP counts on).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def compound_index(rate: ArrayLike, base_index: int, n_years: int) -> np.ndarray:
    """Index of ``prod(1 + rate)`` over the years, equal to 1 in the base year [ratio].

    Parameters
    ----------
    rate : array, shape (n, 1) or (n, years)
        Yearly rate [fraction/yr]; the rate of year k moves the index from year k-1 to year k.
    base_index : int
        Position of the price base year among the years.
    """
    log_growth = np.log1p(np.broadcast_to(rate, (np.shape(rate)[0], n_years)))
    cum = np.cumsum(log_growth, axis=1)
    return np.exp(cum - cum[:, base_index : base_index + 1])


def inflation_surprise(planned: ArrayLike, actual: ArrayLike, base_index: int, n_years: int) -> np.ndarray:
    """Actual over planned price level: how far costs drift from a budget built on planned inflation [ratio]."""
    return compound_index(actual, base_index, n_years) / compound_index(planned, base_index, n_years)


def discount_factors(rate: float, base_index: int, n_years: int) -> np.ndarray:
    """Green Book discount factors ``1 / (1 + rate) ** t``, t years after the base year [ratio, (years,)].

    The base year is year 0 (factor 1); discounting applies to real-terms values.
    """
    return (1.0 + rate) ** -(np.arange(n_years) - base_index)


def realised_saving(planned: ArrayLike, driver: ArrayLike, driver_central: ArrayLike) -> np.ndarray:
    """A planned saving scaled by how much of the central case's driver is achieved [£/yr].

    The MTFP's planned saving is taken to rest on the central case: if an iteration avoids 80% of the
    central case's placement costs, 80% of the planned placement saving is delivered. In the central
    case this returns ``planned`` exactly.

    Parameters
    ----------
    planned : ndarray, shape (years,)  Planned saving [£/yr, negative].
    driver : array, shape (n, years)  The driver in this iteration (£ avoided, or child-years avoided).
    driver_central : ndarray, shape (1, years)  The driver in the central case, non-zero where planned is.
    """
    ratio = np.divide(driver, driver_central, out=np.zeros(np.broadcast_shapes(np.shape(driver), np.shape(driver_central))),
                      where=driver_central != 0)
    return planned * ratio


def cost_pressure(actual: ArrayLike, budget: ArrayLike, budgeted: bool) -> np.ndarray:
    """The part of a cost the MTFP has not provided for [£/yr]: overruns, or all of an unbudgeted cost."""
    return actual - budget if budgeted else actual
