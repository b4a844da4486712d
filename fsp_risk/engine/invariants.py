"""Checks that a block of model output is possible, run on every block before it is kept.

A model that goes silently wrong could put a wrong number into a published cabinet paper, so each
block is checked as it is computed, cheaply (a few passes over arrays already in memory):

- no NaN or infinite value in any output;
- counts of children (and open cases) never negative;
- each year's net change to the MTFP equals the sum of its lines;
- shares and probabilities in [0, 1]: the share of FSP's effect in force, each risk's occurrence.

A violation raises :class:`fsp_risk.errors.ModelError` naming the variable, the year and an example
iteration, and the run stops before anything is kept.
"""
from __future__ import annotations

import numpy as np

from fsp_risk.engine.variables import SHARES
from fsp_risk.errors import ModelError

# Tolerance of the line sum: the lines are added in one order and summed in another, so they may
# differ in the last bits; a penny is far above that and far below any real error.
LINE_SUM_ATOL_GBP = 0.01
#: ... and, for sums in the billions, a relative tolerance near float64's precision over a few lines.
LINE_SUM_RTOL = 1e-12



def count_names(config) -> list[str]:
    """The outputs that count children or cases (never negative)."""
    return [f"{m}_{case}" for m in config.demand for case in ("as_is", "fsp")]


def check_block(config, out: dict[str, np.ndarray], first_iteration: int, scenario: str | None = None) -> None:
    """Raise :class:`ModelError` if one block's outputs break an invariant.

    ``out`` maps output names to arrays whose first axis is the block's iterations and second the
    years; ``first_iteration`` is the block's position in the run, so a message names the run's own
    iteration number. ``scenario`` names the case in a scenario run.
    """
    for name, arr in out.items():
        bad = ~np.isfinite(arr)
        if bad.any():
            _fail(config, name, bad, arr, first_iteration, scenario, "is not a finite number")
    for name in count_names(config):
        if name in out:
            arr = out[name]
            bad = arr < 0
            if bad.any():
                _fail(config, name, bad, arr, first_iteration, scenario, "is a negative count of children")
    for name in SHARES:
        if name in out:
            arr = out[name]
            bad = (arr < 0) | (arr > 1)
            if bad.any():
                _fail(config, name, bad, arr, first_iteration, scenario, "is outside [0, 1]")
    if "net_change_by_line" in out and "net_change_to_mtfp" in out:
        gap = np.abs(out["net_change_by_line"].sum(axis=-1) - out["net_change_to_mtfp"])
        scale = np.abs(out["net_change_by_line"]).sum(axis=-1)
        bad = gap > np.maximum(LINE_SUM_ATOL_GBP, LINE_SUM_RTOL * scale)
        if bad.any():
            _fail(config, "net_change_to_mtfp", bad, out["net_change_to_mtfp"], first_iteration, scenario,
                  "is not the sum of its lines (net_change_by_line)", gap)


def _fail(config, name, bad, arr, first_iteration, scenario, what, gap=None) -> None:
    i, j = np.argwhere(bad)[0][:2]
    count = int(bad.reshape(bad.shape[0], -1).any(axis=1).sum())
    year = config.years[j] if arr.ndim > 1 and j < len(config.years) else "every year"
    value = arr[i, j] if arr.ndim > 1 else arr[i]
    detail = f"value {np.ravel(value)[0]:.6g}" + (f", {gap[i, j]:.6g} from the sum of its lines" if gap is not None else "")
    where = f"scenario {scenario!r}, " if scenario else ""
    raise ModelError(
        f"model invariant broken: {name} in {year} {what} ({where}e.g. iteration {first_iteration + i:,}: {detail}; "
        f"{count:,} iteration(s) of this block). The run was stopped and nothing was kept: this is a bug in "
        "fsp-risk or an input combination the model does not support; please report it with the config",
        file=config.path, variable=name, year=year, iteration=first_iteration + int(i),
    )
