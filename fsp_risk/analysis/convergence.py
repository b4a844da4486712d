"""Has the run converged? Running percentiles with confidence intervals, and runs that stop at a precision.

The precision of a percentile is the half-width of its distribution-free 95% confidence interval
(between two order statistics, as in :func:`fsp_risk.analysis.summary.percentiles_with_se`). That interval
assumes independent draws; for Latin hypercube and Sobol' runs it is conservative (their error is
smaller), so a precision target met under it is met.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fsp_risk.analysis.summary import _Z95, percentiles_with_se, proportion_se
from fsp_risk.config import MAX_ITERATIONS, Config
from fsp_risk.engine.blocks import block_net_change_totals, central_case, check_central_case
from fsp_risk.engine.sampling import BLOCK, resolve_sampler
from fsp_risk.errors import ConfigError, excerpt

#: The percentile whose precision ``--precision`` controls: the P80 of the total net change.
PRECISION_PERCENTILE = 80
#: Iterations a ``--precision`` run may use when no ``--iterations`` cap is given.
DEFAULT_PRECISION_CAP = 2_000_000


@dataclass(frozen=True)
class Precision:
    """A precision target: pounds, or a fraction of the P80 itself (``relative``)."""

    value: float
    relative: bool

    def target(self, p80: float) -> float:
        return self.value * abs(p80) if self.relative else self.value

    def __str__(self) -> str:
        return f"{self.value:.2%} of the P80" if self.relative else f"£{self.value:,.0f}"


_MONEY = re.compile(r"^£?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([km]?)$", re.IGNORECASE)


def parse_precision(text: str) -> Precision:
    """``--precision`` text: ``£50,000``, ``50k``, ``£0.1m`` (pounds) or ``0.5%`` (of the P80)."""
    t = text.strip()
    if t.endswith("%"):
        try:
            value = float(t[:-1]) / 100
        except ValueError:
            value = float("nan")
        if not 0 < value < 1:
            raise ConfigError(f"expected a percentage above 0 and below 100, like 0.5%, got {excerpt(text)}", path="--precision")
        return Precision(value, True)
    m = _MONEY.match(t)
    if not m:
        raise ConfigError(f"expected pounds like £50,000, 50k or £0.1m, or a percentage of the P80 like 0.5%, "
                          f"got {excerpt(text)}", path="--precision")
    value = float(m.group(1).replace(",", "")) * {"": 1, "k": 1e3, "m": 1e6}[m.group(2).lower()]
    if value <= 0:
        raise ConfigError(f"expected a precision above £0, got {excerpt(text)}", path="--precision")
    return Precision(value, False)


def half_width(total: np.ndarray, percentile: float = PRECISION_PERCENTILE) -> tuple[float, float]:
    """A percentile of ``total`` and the half-width of its 95% confidence interval [GBP]."""
    est, se = percentiles_with_se(np.asarray(total)[:, None], (percentile,))
    return float(est[0, 0]), float(se[0, 0] * _Z95)


def iterations_for_precision(config: Config, seed: int, sampler: str, precision: Precision,
                             cap: int = DEFAULT_PRECISION_CAP, progress=None) -> tuple[int, str, pd.DataFrame]:
    """How many iterations give the P80 of the total net change to ``precision``.

    Adds whole blocks of 65,536 iterations (the run's own random numbers, so the full run that follows
    reproduces these totals exactly) until the 95% confidence interval's half-width is within the
    target, or ``cap`` is reached. Returns the iterations, the reason it stopped, and the P80 and its
    half-width after each block.
    """
    if not 1 <= cap <= MAX_ITERATIONS:
        raise ConfigError(f"expected a cap from 1 to {MAX_ITERATIONS:,}, got {cap:,}", path="--iterations")
    _, central = central_case(config)
    check_central_case(config, central)
    design = resolve_sampler(config, sampler)
    parts, rows, done, block = [], [], 0, 0
    asked = f" ({precision})" if precision.relative else ""
    while True:
        size = min(BLOCK, cap - done)
        parts.append(block_net_change_totals(config, central, seed, block, size, design))
        done, block = done + size, block + 1
        p80, hw = half_width(np.concatenate(parts))
        target = precision.target(p80)
        rows.append({"iterations": done, "p80": p80, "p80_half_width": hw, "target": target})
        if progress is not None:
            progress(done, cap)
        if hw <= target:
            reason = (f"precision reached: the P80 of the total net change is £{p80:,.0f} ± £{hw:,.0f} (95% "
                      f"confidence) after {done:,} iterations, within the £{target:,.0f} asked for{asked}")
            break
        if done >= cap:
            reason = (f"iteration cap reached: after {done:,} iterations the P80 of the total net change is £{p80:,.0f} "
                      f"± £{hw:,.0f} (95% confidence), short of the £{target:,.0f} asked for{asked}; raise "
                      "--iterations to go further")
            break
    return done, reason, pd.DataFrame(rows)


def checkpoints(n: int, first: int = 1_000) -> np.ndarray:
    """Iteration counts at which to report running estimates: 1,000, 2,000, 4,000... and ``n``."""
    if n <= first:
        return np.array([n])
    points = first * 2 ** np.arange(int(np.floor(np.log2(n / first))) + 1)
    return np.unique(np.append(points[points < n], n))


def convergence_table(total: np.ndarray) -> pd.DataFrame:
    """Running P10, P50, P80 and P90 of the total net change, and the chance of meeting the target, with
    95% confidence intervals, over the first 1,000, 2,000, 4,000... iterations and all of them [GBP]."""
    rows = []
    for k in checkpoints(total.size):
        head = total[:k]
        row = {"iterations": int(k)}
        for p in (10, 50, 80, 90):
            est, hw = half_width(head, p)
            row.update({f"p{p}": est, f"p{p}_low": est - hw, f"p{p}_high": est + hw})
        met = float((head <= 0).mean())
        hw = _Z95 * float(proportion_se(met, k))
        row.update({"p_target_met": met, "p_target_met_low": max(met - hw, 0.0), "p_target_met_high": min(met + hw, 1.0)})
        rows.append(row)
    table = pd.DataFrame(rows)
    money = [c for c in table.columns if c.startswith(("p10", "p50", "p80", "p90"))]
    table[money] = table[money].round(2)
    return table
