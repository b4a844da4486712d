"""Demand: children looked after (LAC), child protection (CP) plans and open cases, as-is and with FSP.

Counts are stocks at 31 March [children]. Arrays of stocks have one more column than there are
financial years: column 0 is 31 March before the first year, column k+1 the end of year k.
All functions are pure and vectorised over iterations (axis 0).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def interpolate_points(march_years, values, at, extrapolate: bool = False) -> np.ndarray:
    """Counts at 31 March of the years ``at`` by linear interpolation between projection points.

    Parameters
    ----------
    march_years, values : sequence
        The projection points: calendar year of the 31 March count, and the count [children].
    at : sequence of int
        Calendar years wanted.
    extrapolate : bool
        Extend the first and last segments linearly beyond the points (else hold the end values).

    Returns
    -------
    ndarray [children]
    """
    x, y, at = np.asarray(march_years, float), np.asarray(values, float), np.asarray(at, float)
    out = np.interp(at, x, y)
    if extrapolate:
        lo, hi = at < x[0], at > x[-1]
        out[lo] = y[0] + (at[lo] - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
        out[hi] = y[-1] + (at[hi] - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
    return np.maximum(out, 0.0)


def as_is_trajectory(points: ArrayLike, growth_multiplier: ArrayLike) -> np.ndarray:
    """As-is stocks with uncertain growth: the first point plus the projected growth times a multiplier.

    Parameters
    ----------
    points : ndarray, shape (years + 1,)
        Projected stocks at 31 March from the start of the first year [children].
    growth_multiplier : array, shape (n, 1)
        1 reproduces the projection; 1.2 means 20% more growth than projected [ratio].

    Returns
    -------
    ndarray, shape (n, years + 1) [children], never negative.
    """
    base = points[0]
    return np.maximum(base + (points - base) * growth_multiplier, 0.0)


def stochastic_level(shocks: ArrayLike, persistence: ArrayLike, drift: ArrayLike = 0.0) -> np.ndarray:
    """The log level of a measure around its projection: AR(1) shocks plus a slope error.

    ``X_0 = 0`` (the count at the start is known) and ``X_k = persistence * X_(k-1) + shock_k``; the
    log level at the end of year k is ``X_k + k * drift``. Persistence 1 is a random walk (a shock to the
    number of children in care stays); below 1 the count drifts back towards the projection. Fitted to
    published history by :mod:`fsp_risk.analysis.calibrate`.

    Parameters
    ----------
    shocks : array, shape (n, years)
        Each year's shock to the log count [log ratio].
    persistence : array, shape (n, 1)
        Share of the level that carries into the next year [0..1].
    drift : array, shape (n, 1), or 0
        Error in the projection's slope [log ratio a year].

    Returns
    -------
    ndarray, shape (n, years + 1) [log ratio]: column 0 is the start (0), column k+1 the end of year k.
    """
    n, n_years = np.shape(shocks)
    persistence = np.broadcast_to(persistence, (n, 1))[:, 0]
    out = np.zeros((n, n_years + 1))
    for k in range(n_years):  # years, vectorised over iterations
        out[:, k + 1] = persistence * out[:, k] + shocks[:, k]
    return out + np.arange(n_years + 1) * np.broadcast_to(drift, (n, 1))


def _ramp_antiderivative(u: ArrayLike) -> np.ndarray:
    # Integral of clip(u, 0, 1): 0 before the start, u^2/2 while ramping, u - 1/2 after.
    return np.where(u <= 0, 0.0, np.where(u < 1, u * u / 2, u - 0.5))


def ramp_fraction(start_month: ArrayLike, ramp_months: ArrayLike, n_years: int) -> np.ndarray:
    """Share of the full FSP effect in force, averaged over each financial year.

    The effect is zero until ``start_month``, then rises linearly to full over ``ramp_months``.

    Parameters
    ----------
    start_month : array, shape (n, 1)
        Months from 1 April of the first year to the effective go-live (planned date plus delay) [months].
    ramp_months : array, shape (n, 1)
        Months from go-live to full effect [months]; 0 means full effect at once.
    n_years : int

    Returns
    -------
    ndarray, shape (n, n_years) [fraction in 0..1]
    """
    r = np.maximum(ramp_months, 1e-6)
    year_start = 12.0 * np.arange(n_years)
    a = (year_start - start_month) / r
    b = (year_start + 12.0 - start_month) / r
    return np.clip(r * (_ramp_antiderivative(b) - _ramp_antiderivative(a)) / 12.0, 0.0, 1.0)


def stock_flow(as_is: ArrayLike, leaving_rate: ArrayLike, entry_reduction: ArrayLike) -> np.ndarray:
    """With-FSP stocks from a stock-flow model: fewer children enter, all leave at the same rate.

    Children entering in year k as-is are ``as_is[k+1] - (1 - leaving) * as_is[k]``. FSP stops a share
    ``entry_reduction[k]`` of them from entering; those kept out form an *avoided* stock that would
    itself have left care at the leaving rate. With no reduction the as-is path is reproduced exactly.

    Parameters
    ----------
    as_is : ndarray, shape (n, years + 1) [children]
    leaving_rate : array, shape (n, 1) or (n, years)
        Share of the stock at the start of a year that leaves during it [fraction/yr]
        (Oxfordshire ~46% before Covid: 2021 scrutiny report).
    entry_reduction : array, shape (n, years)
        Share of as-is entrants kept out of care by FSP in each year [fraction].

    Returns
    -------
    ndarray, shape (n, years + 1) [children], never negative.
    """
    n_years = as_is.shape[1] - 1
    stay = 1.0 - np.broadcast_to(leaving_rate, (as_is.shape[0], n_years))
    reduction = np.broadcast_to(entry_reduction, (as_is.shape[0], n_years))
    entrants = np.maximum(as_is[:, 1:] - stay * as_is[:, :-1], 0.0)
    avoided = np.zeros_like(as_is)
    for k in range(n_years):  # years, not iterations: each step is vectorised over iterations
        avoided[:, k + 1] = stay[:, k] * avoided[:, k] + entrants[:, k] * reduction[:, k]
    return np.maximum(as_is - avoided, 0.0)


def year_on_year(as_is: ArrayLike, reduction: ArrayLike, effect_fraction: ArrayLike,
                 floor: ArrayLike | None = None) -> np.ndarray:
    """With-FSP stocks from the 2019 paper's method: a fixed yearly fall, not below a floor.

    While FSP is in force the stock falls by ``reduction`` a year (FSM 1: 5% a year); before go-live it
    follows the as-is growth; during the ramp it blends the two. FSM 2 adds a floor, the statistical
    neighbours' lowest-quartile rate (Oxfordshire Cabinet, 16 July 2019, para 36). The stock never
    exceeds as-is.

    Parameters
    ----------
    as_is : ndarray, shape (n, years + 1) [children]
    reduction : array, shape (n, 1) or (n, years)
        Yearly fall at full effect [fraction/yr].
    effect_fraction : array, shape (n, years)
        Share of the full effect in force in each year [fraction].
    floor : ndarray, shape (years + 1,), optional
        Lowest stock FSP is assumed to reach [children].

    Returns
    -------
    ndarray, shape (n, years + 1) [children], never negative.
    """
    n, cols = as_is.shape
    reduction = np.broadcast_to(reduction, (n, cols - 1))
    effect_fraction = np.broadcast_to(effect_fraction, (n, cols - 1))
    prev = as_is[:, :-1]
    growth = np.divide(as_is[:, 1:], prev, out=np.ones_like(prev), where=prev > 0)
    out = np.empty_like(as_is)
    out[:, 0] = as_is[:, 0]
    for k in range(cols - 1):  # years, vectorised over iterations
        step = effect_fraction[:, k] * (1 - reduction[:, k]) + (1 - effect_fraction[:, k]) * growth[:, k]
        nxt = out[:, k] * step
        if floor is not None:
            nxt = np.maximum(nxt, floor[k + 1])
        out[:, k + 1] = np.minimum(nxt, as_is[:, k + 1])
    return np.maximum(out, 0.0)


def delivery_ratio(effect_fraction: ArrayLike, planned_effect: ArrayLike) -> np.ndarray:
    """Each year's effect in force as a share of the plan's [ratio, shape (n, years)].

    1 when the programme runs as planned; below 1 when it starts late, ramps slowly, is weakened by
    turnover or only partly delivered. Years before the plan has any effect (a paper's line that shows
    fewer children before go-live) take the ratio of the plan's first year with effect, so the early
    reduction scales with the delivery of the whole programme; 0 where the plan has no effect at all.

    Parameters
    ----------
    effect_fraction : array, shape (n, years)  Share of the full effect in force [fraction].
    planned_effect : array, shape (1, years)  The same at the plan's (central) inputs [fraction].
    """
    planned = np.asarray(planned_effect, dtype=float)[0]
    effect = np.asarray(effect_fraction, dtype=float)
    live = np.flatnonzero(planned > 0)
    if live.size == 0:
        return np.zeros(np.broadcast_shapes(effect.shape, planned.shape))
    denominator = np.where(planned > 0, planned, planned[live[0]])
    ratio = effect / denominator
    ratio[:, : live[0]] = ratio[:, live[0]: live[0] + 1]
    return ratio


def planned_path(as_is: ArrayLike, as_is_plan: ArrayLike, fsp_plan: ArrayLike, delivery: ArrayLike) -> np.ndarray:
    """With-FSP stocks that follow a paper's published with-FSP line, as a share of as-is demand.

    The plan keeps out a share ``1 - fsp_plan / as_is_plan`` of the as-is stock at each 31 March; that
    share, times the year's delivery against the plan, is applied to the (stochastic) as-is stock. At the
    plan's inputs and as-is projection this reproduces the published line exactly (Oxfordshire Cabinet,
    16 July 2019, para 37: FSM 2). The count at the start is known, so nothing is kept out at column 0.

    Parameters
    ----------
    as_is : ndarray, shape (n, years + 1)  As-is stocks [children].
    as_is_plan, fsp_plan : ndarray, shape (years + 1,)  The paper's as-is and with-FSP lines [children].
    delivery : array, shape (n, years)  Effect delivered as a share of the plan's (:func:`delivery_ratio`)
        [ratio]; share kept out is capped at 1.

    Returns
    -------
    ndarray, shape (n, years + 1) [children], never negative and never above as-is.
    """
    planned_share = 1.0 - np.divide(fsp_plan, as_is_plan, out=np.ones_like(fsp_plan, dtype=float),
                                    where=as_is_plan > 0)
    planned_share = np.clip(planned_share, 0.0, 1.0)
    kept_out = np.zeros(np.broadcast_shapes(as_is.shape, (1, len(planned_share))))
    kept_out[:, 1:] = np.clip(planned_share[1:] * delivery, 0.0, 1.0)
    return as_is * (1.0 - kept_out)


def child_years(stock: ArrayLike) -> np.ndarray:
    """Child-years in each financial year from stocks at 31 March (trapezium rule) [child-years].

    Parameters
    ----------
    stock : ndarray, shape (n, years + 1) [children]

    Returns
    -------
    ndarray, shape (n, years) [child-years]
    """
    return (stock[:, :-1] + stock[:, 1:]) / 2.0
