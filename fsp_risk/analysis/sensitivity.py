"""Which inputs move the result most: rank correlation and share of variance (a tornado).

Inputs are not stored per iteration: each input's draws are regenerated from the run's seed, sampler
and block layout (:mod:`fsp_risk.engine.sampling`), which reproduces them exactly. A per-year input is
summarised by its mean over the years. The share of variance is each input's squared rank correlation
over the sum of them all — the usual first-order reading of a tornado, exact only for an additive model
of independent inputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Collection

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import rankdata

from fsp_risk.config import Config
from fsp_risk.engine.sampling import block_input_uniforms, block_sizes, resolve_sampler


def regenerate_inputs(config: Config, names, iterations: int, seed: int, sampler: str) -> dict[str, np.ndarray]:
    """The draws of some inputs in a run, each shape (iterations,) (per-year inputs averaged over the years).

    Block by block, so that a Sobol' design is built once per block for all the inputs.
    """
    design = resolve_sampler(config, sampler)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for b, size in enumerate(block_sizes(iterations)):
        u = block_input_uniforms(config, seed, b, size, design, names)
        for name in names:
            parts[name].append(config.inputs[name].dist.ppf(u[name]).mean(axis=1))
    return {name: np.concatenate(p) for name, p in parts.items()}


#: The most iterations the rank correlations use: 16 whole blocks.
RANK_ITERATIONS = 1_048_576


def rank_correlations(ds: xr.Dataset, config: Config, output: str | xr.DataArray = "net_savings") -> pd.DataFrame:
    """Spearman rank correlation of every uncertain input with ``output`` summed over the horizon, and
    what the input swings in pounds.

    ``output`` is a variable name or a DataArray with ``iteration`` and ``year`` dimensions. Returns a
    table sorted by the size of the correlation, with ``share_of_variance``, and the median total net
    change to the MTFP (positive = pressure) over the iterations where the input is in its lowest tenth
    (``net_change_p50_input_low``) and its highest tenth (``net_change_p50_input_high``): the input's
    swing in £, on the run's own draws, with every other input as it fell (``swing``, high minus low).
    """
    n = ds.sizes["iteration"]
    if n < 3 or ds.attrs["sampler"] == "central":
        raise ValueError("sensitivity needs a Monte Carlo run of at least 3 iterations")
    # Rank correlations settle to two decimals long before a million iterations; a larger run uses its
    # first RANK_ITERATIONS (whole blocks, so exactly the run's own draws) to bound memory and time.
    n = min(n, RANK_ITERATIONS)
    out = ds[output] if isinstance(output, str) else output
    y = out.isel(iteration=slice(0, n)).sum("year").values
    ry = rankdata(y)
    ry = (ry - ry.mean()) / ry.std()
    net_change = ds["net_change_to_mtfp"].isel(iteration=slice(0, n)).sum("year").values
    rows = []
    uncertain = [name for name, item in config.inputs.items() if item.dist.kind != "fixed"]
    draws = regenerate_inputs(config, uncertain, n, ds.attrs["seed"], ds.attrs["sampler"])
    for name in uncertain:
        item, x = config.inputs[name], draws[name]
        if np.ptp(x) == 0:
            continue
        rx = rankdata(x)
        rho = float(np.mean((rx - rx.mean()) / rx.std() * ry))
        # The tenths by rank, so that an input with repeated values still splits into tenths.
        low, high = rx <= np.quantile(rx, 0.1), rx >= np.quantile(rx, 0.9)
        p50_low, p50_high = float(np.median(net_change[low])), float(np.median(net_change[high]))
        rows.append({"input": name, "title": item.title, "units": item.units, "evidence": item.evidence,
                     "rank_correlation": rho, "net_change_p50_input_low": round(p50_low, 2),
                     "net_change_p50_input_high": round(p50_high, 2), "swing": round(p50_high - p50_low, 2)})
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


def _crossing(gap, lo: float, hi: float, xtol: float) -> tuple[float, float, float]:
    """Where ``gap`` crosses zero in [lo, hi] (NaN if it does not), and its values at both ends."""
    from scipy.optimize import brentq

    g_lo, g_hi = gap(lo), gap(hi)
    value = np.nan
    if g_lo == 0 and g_hi == 0:
        pass  # flat at the target: the input does not move the result, so nothing switches
    elif g_lo == 0:
        value = lo
    elif g_hi == 0:
        value = hi
    elif np.sign(g_lo) != np.sign(g_hi):
        value = brentq(gap, lo, hi, xtol=xtol, rtol=1e-12, maxiter=200)
    return value, g_lo, g_hi


def switching_values(config: Config, names=None, target: float = 0.0) -> pd.DataFrame:
    """Green Book switching values: the value of each input at which total net savings reach ``target``.

    Every other input stays at its central value (the deterministic central case). Inputs with a
    continuous range are searched over that range; where net savings do not cross the target inside
    it, there is no switching value and ``switching_value`` is empty. Reports, too, net savings at each
    end of the range [GBP].
    """
    from fsp_risk.engine.blocks import central_case, central_net_savings

    case = central_case(config)  # evaluated once, then reused for every trial value
    base = float(central_net_savings(config, case=case).sum())
    names = [n for n in (names or config.inputs) if config.inputs[n].dist.kind in _CONTINUOUS]
    rows = []
    for name in names:
        item = config.inputs[name]
        lo, hi = _search_range(item)

        def gap(v, name=name):
            return float(central_net_savings(config, {name: v}, case).sum()) - target

        value, g_lo, g_hi = _crossing(gap, lo, hi, xtol=1e-12 * max(1.0, abs(hi - lo)))
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


#: Group labels as a reader sees them, by the model section that first uses an input.
GROUP_TITLES = {
    "programme": "Programme delivery", "inflation": "Inflation", "demand": "Demand",
    "placements": "Placement costs", "social work teams": "Social work teams",
    "workforce": "Workforce", "costs": "Contract and service costs", "savings": "Savings counted",
    "funding": "Funding",
}
#: Iterations used for what-if re-runs: enough for a P80 to a few thousand pounds, at a fraction of the run.
WHAT_IF_ITERATIONS = 262_144


def _uncertain(config: Config, names) -> list[str]:
    return [n for n in names if config.inputs[n].dist.kind != "fixed"]


@dataclass(frozen=True)
class Held:
    """One row of the grouped tornado: a driver group or a register risk, and how it is held still."""

    label: str
    kind: str  # "driver group" or "risk"
    inputs: tuple[str, ...]
    #: The inputs pinned to hold it (their central values); None for a risk costed in £, whose line is
    #: replaced by its mean instead.
    pins: dict[str, float] | None
    #: False for the placements group: each avoided child-year taken at its expected cost.
    placement_spread: bool = True
    #: The risk's line in ``net_change_by_line`` (a risk costed in £).
    line: str | None = None


def held_cases(config: Config, keep: Collection[str] = ()) -> list[Held]:
    """What :func:`grouped_tornado` holds still, one case per driver group with uncertain inputs (and
    placements, whose spread between children is held too) and one per register risk. Inputs in ``keep``
    are left as they are (a what-if that has already pinned them)."""
    central = {name: item.dist.central for name, item in config.inputs.items()}
    groups: dict[str, list[str]] = {}
    for name, group in config.input_groups.items():
        groups.setdefault(group, []).append(name)
    out = []
    for group, names in groups.items():
        held = [n for n in _uncertain(config, names) if n not in keep]
        if group == "risk register" or (not held and group != "placements"):
            continue
        out.append(Held(GROUP_TITLES.get(group, group.capitalize()), "driver group", tuple(held),
                        {k: central[k] for k in held}, placement_spread=group != "placements"))
    reg = config.risk_register
    for r in (reg.risks if reg is not None else ()):
        label = f"Risk {r.id}: {r.title}"
        if r.link:
            held = tuple(name for name, _ in r.link if name not in keep)
            out.append(Held(label, "risk", held, {k: central[k] for k in held}))
        else:
            out.append(Held(label, "risk", tuple(k for k in (r.likelihood, r.impact) if k), None, line=f"risk:{r.id}"))
    return out


def held_table(base: np.ndarray, results: list[tuple[Held, np.ndarray]]) -> pd.DataFrame:
    """The grouped tornado's table from the run's totals ``base`` and each case's totals on the same
    random numbers [GBP, shape (iterations,)], sorted by the size of ``adds_to_p80``."""
    base_p50, base_p80 = np.percentile(base, [50, 80])
    rows = []
    for case, totals in results:
        p50, p80 = np.percentile(totals, [50, 80])
        rows.append({"group": case.label, "kind": case.kind, "inputs_held": ", ".join(case.inputs), "p50_held": p50,
                     "p80_held": p80, "adds_to_p50": base_p50 - p50, "adds_to_p80": base_p80 - p80,
                     "p80_run": base_p80, "iterations": len(base)})
    table = pd.DataFrame(rows, columns=["group", "kind", "inputs_held", "p50_held", "p80_held", "adds_to_p50",
                                        "adds_to_p80", "p80_run", "iterations"])
    table = table.reindex(table["adds_to_p80"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    money = ["p50_held", "p80_held", "adds_to_p50", "adds_to_p80", "p80_run"]
    table[money] = table[money].astype(float).round(2)
    return table


def grouped_tornado(ds: xr.Dataset, config: Config, max_iterations: int = WHAT_IF_ITERATIONS) -> pd.DataFrame:
    """How much each driver group and each risk adds to the P80 (and P50) of the total net change [GBP].

    Each group's uncertain inputs are held at their central values and the run repeated on the same
    random numbers (common random numbers, the first ``max_iterations`` iterations of the run), so the
    difference is the group's own effect and not sampling noise. ``adds_to_p80`` is the run's P80 minus
    the P80 with the group held: positive means the group's uncertainty raises the pressure to plan
    for. Holding placements at central also takes each avoided child-year at its expected cost. A risk
    with a £ impact is held at its expected value (its line replaced by the line's mean); a risk linked
    to model inputs has those inputs held at their central values, so it shares them with their group.
    Groups are not additive: their effects interact and a P80 is not a sum.
    """
    from fsp_risk.engine.simulate import net_change_totals

    n = min(ds.sizes["iteration"], max_iterations)
    seed, sampler = int(ds.attrs["seed"]), ds.attrs["sampler"]
    sub = ds.isel(iteration=slice(0, n))
    base = sub["net_change_to_mtfp"].sum("year").values
    results = []
    for case in held_cases(config):
        if case.pins is None:
            line = sub["net_change_by_line"].sel(line=case.line).sum("year").values
            totals = base - line + line.mean()
        else:
            totals = net_change_totals(config, n, seed, sampler, case.pins, placement_spread=case.placement_spread)
        results.append((case, totals))
    return held_table(base, results)


def p50_switching_values(config: Config, names, seed: int, sampler: str, iterations: int = 16_384,
                         target: float = 0.0) -> dict[str, float]:
    """The value of each input at which the P50 of the total net change to the MTFP reaches ``target``.

    Zero net change means the MTFP target is exactly met: beyond the switching value it is missed in
    more than half of the outcomes. Every other input keeps its uncertainty; the same random numbers
    serve every trial value (the first ``iterations`` of a run with this seed), so the P50 moves only
    with the input. Inputs whose range holds no crossing map to NaN.
    """
    from fsp_risk.engine.simulate import net_change_totals

    out = {}
    for name in names:
        item = config.inputs[name]
        lo, hi = _search_range(item)

        def gap(v, name=name):
            return float(np.percentile(net_change_totals(config, iterations, seed, sampler, {name: v}), 50)) - target

        out[name] = _crossing(gap, lo, hi, xtol=1e-6 * max(1.0, abs(hi - lo)))[0]
    return out
