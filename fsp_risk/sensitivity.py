"""Which inputs move the result most: rank correlation and share of variance (a tornado).

Inputs are not stored per iteration: each input's draws are regenerated from the run's seed, sampler
and block layout (:mod:`fsp_risk.sampling`), which reproduces them exactly. A per-year input is
summarised by its mean over the years. The share of variance is each input's squared rank correlation
over the sum of them all — the usual first-order reading of a tornado, exact only for an additive model
of independent inputs.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import rankdata

from .config import Config
from .sampling import block_sizes, sample_input


def regenerate_input(config: Config, name: str, iterations: int, seed: int, sampler: str) -> np.ndarray:
    """The draws of one input in a run, shape (iterations,) (per-year inputs averaged over the years)."""
    blocks = list(enumerate(block_sizes(iterations)))
    return sample_input(config.inputs[name], seed, blocks, len(config.years), sampler).mean(axis=1)


def rank_correlations(ds: xr.Dataset, config: Config, output: str | xr.DataArray = "net_savings") -> pd.DataFrame:
    """Spearman rank correlation of every uncertain input with ``output`` summed over the horizon.

    ``output`` is a variable name or a DataArray with ``iteration`` and ``year`` dimensions. Returns a
    table sorted by the size of the correlation, with ``share_of_variance``.
    """
    n = ds.sizes["iteration"]
    if n < 3 or ds.attrs["sampler"] == "central":
        raise ValueError("sensitivity needs a Monte Carlo run of at least 3 iterations")
    y = (ds[output] if isinstance(output, str) else output).sum("year").values
    ry = rankdata(y)
    ry = (ry - ry.mean()) / ry.std()
    rows = []
    for name, item in config.inputs.items():
        if item.dist.kind == "fixed":
            continue
        x = regenerate_input(config, name, n, ds.attrs["seed"], ds.attrs["sampler"])
        if np.ptp(x) == 0:
            continue
        rx = rankdata(x)
        rho = float(np.mean((rx - rx.mean()) / rx.std() * ry))
        rows.append({"input": name, "title": item.title, "units": item.units, "evidence": item.evidence,
                     "rank_correlation": rho})
    table = pd.DataFrame(rows)
    table["share_of_variance"] = table["rank_correlation"] ** 2 / (table["rank_correlation"] ** 2).sum()
    table = table.reindex(table["rank_correlation"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    table[["rank_correlation", "share_of_variance"]] = table[["rank_correlation", "share_of_variance"]].round(4)
    return table


#: Distributions with a continuous range, over which a switching value can be searched for.
_CONTINUOUS = ("uniform", "triangular", "pert", "normal", "lognormal", "beta")


def _search_range(item) -> tuple[float, float]:
    lo, hi = item.dist.support()
    if not np.isfinite(lo):
        lo = float(item.dist.ppf(np.array([1e-9]))[0])
    if not np.isfinite(hi):
        hi = float(item.dist.ppf(np.array([1 - 1e-9]))[0])
    return lo, hi


def switching_values(config: Config, names=None, target: float = 0.0) -> pd.DataFrame:
    """Green Book switching values: the value of each input at which total net savings reach ``target``.

    Every other input stays at its central value (the deterministic central case). Inputs with a
    continuous range are searched over that range; where net savings do not cross the target inside
    it, there is no switching value and ``switching_value`` is empty. Reports, too, net savings at each
    end of the range [GBP].
    """
    from scipy.optimize import brentq

    from .model import central_case, central_net_savings

    case = central_case(config)  # evaluated once, then reused for every trial value
    base = float(central_net_savings(config, case=case).sum())
    names = [n for n in (names or config.inputs) if config.inputs[n].dist.kind in _CONTINUOUS]
    rows = []
    for name in names:
        item = config.inputs[name]
        lo, hi = _search_range(item)

        def gap(v, name=name):
            return float(central_net_savings(config, {name: v}, case).sum()) - target

        g_lo, g_hi = gap(lo), gap(hi)
        value = np.nan
        if g_lo == 0 and g_hi == 0:
            pass  # flat at the target: the input does not move net savings, so nothing switches
        elif g_lo == 0:
            value = lo
        elif g_hi == 0:
            value = hi
        elif np.sign(g_lo) != np.sign(g_hi):
            value = brentq(gap, lo, hi, xtol=1e-12 * max(1.0, abs(hi - lo)), rtol=1e-12, maxiter=200)
        central = item.dist.central
        rows.append({
            "input": name, "title": item.title, "units": item.units, "central": central,
            "switching_value": value,
            "change_from_central": (value - central) / central if central and np.isfinite(value) else np.nan,
            "range_low": lo, "range_high": hi,
            "net_savings_at_low": g_lo + target, "net_savings_at_high": g_hi + target,
            "net_savings_central": base,
        })
    return pd.DataFrame(rows)
