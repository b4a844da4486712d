"""Which uncertainty matters: first-order and total-effect Sobol' indices of the net change to the MTFP.

The first-order index of a factor is the share of the variance of the net change that would go if the
factor were known exactly, Var(E[Y | X]) / Var(Y); its total effect is the share it takes part in, interactions
included, E[Var(Y | everything else)] / Var(Y). Unlike the tornado's share of variance (squared rank
correlations), neither assumes an additive model: thresholds, products and risk events are counted as
they act.

Estimators: Saltelli et al. (2010) for the first order and Jansen (1999) for the total effect, on pick-freeze
samples of the run's own random streams (:mod:`fsp_risk.engine.pickfreeze`); 95% intervals from a bootstrap
over the rows. Factors are the driver groups of the grouped tornado, each register risk, all the register's
risks together, and the most influential single inputs. The estimators need a factor independent of the
rest, so a factor whose inputs are rank-correlated with, or share a common driver with, inputs outside it
takes those inputs too; the table's ``dependence`` column names them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fsp_risk.config import Config

#: Rows of each pick-freeze sample: half a block. With 20-odd factors about 900,000 evaluations of the model,
#: mostly of the part of it each factor reaches; total effects to about +-0.01.
SOBOL_ROWS = 32_768
#: Bootstrap resamples for the confidence intervals.
BOOTSTRAP = 400
#: The factor of FSP's own effect: the effect inputs of the demand measures.
FSP_EFFECT = "FSP's effect"
#: How many single inputs get their own indices (the most rank-correlated with the total net change).
TOP_INPUTS = 10


@dataclass(frozen=True)
class Factor:
    """A set of uncertain things whose indices are estimated together."""

    label: str
    kind: str  # "driver group", "risk", "register", "programme effect" or "input"
    inputs: tuple[str, ...]
    streams: frozenset[str]
    #: Inputs it takes because they are rank-correlated with, or share a driver with, its own.
    together_with: tuple[str, ...] = ()


_DEPENDENCE = " (correlated or on a common driver)"


def dependence_text(inputs) -> str:
    """The ``dependence`` column: the inputs a factor takes with it, in words ('' for none)."""
    return f"with {', '.join(inputs)}{_DEPENDENCE}" if inputs else ""


def dependence_inputs(text: str) -> str:
    """The inputs named in a ``dependence`` text, as 'a, b' ('' for none)."""
    return text[len("with "):-len(_DEPENDENCE)] if isinstance(text, str) and text.endswith(_DEPENDENCE) else ""


def factors(config: Config, top_inputs: list[str] = ()) -> list[Factor]:
    """The factors of a config: its driver groups and register risks (as the grouped tornado holds them), all
    the register's risks together, and up to :data:`TOP_INPUTS` single inputs from ``top_inputs`` (most
    influential first), each closed over dependence. A single input whose closed set is a factor already
    listed is skipped."""
    from fsp_risk.analysis.sensitivity import held_cases
    from fsp_risk.engine.pickfreeze import close, dependence_closure, input_stream, risk_streams

    closure = dependence_closure(config)
    placement_streams = [] if config.placements is None else [f"placement_costs:{t.name}" for t in config.placements.types]

    def make(label: str, kind: str, inputs, extra=()) -> Factor:
        inputs = tuple(inputs)
        streams = close([*map(input_stream, inputs), *extra], closure)
        own = set(inputs)
        together = tuple(s.split(":", 1)[1] for s in sorted(streams) if s.startswith("input:") and s[6:] not in own)
        return Factor(label, kind, inputs, streams, together)

    out: list[Factor] = []
    risk_inputs, risk_extra = [], []
    for case in held_cases(config):
        extra = list(placement_streams) if not case.placement_spread else []
        if case.line is not None:  # a risk costed in £: its own occurrence streams too
            extra += risk_streams(case.line.split(":", 1)[1])
        if case.kind == "risk":
            risk_inputs += case.inputs
            risk_extra += extra
        if case.inputs or extra:
            out.append(make(case.label, case.kind, case.inputs, extra))
    if sum(f.kind == "risk" for f in out) > 1:
        out.append(make("All register risks", "register", dict.fromkeys(risk_inputs), risk_extra))
    seen = {f.streams for f in out}
    # FSP's own effect (each demand measure's effect input): the question a business case turns on.
    effect = [n for n in dict.fromkeys(m.fsp.effect for m in config.demand.values()) if config.inputs[n].dist.kind != "fixed"]
    if effect:
        f = make(FSP_EFFECT, "programme effect", effect)
        if f.streams not in seen:
            seen.add(f.streams)
            out.append(f)
    singles = 0
    for name in top_inputs:
        if singles == TOP_INPUTS:
            break
        if config.inputs[name].dist.kind == "fixed":
            continue
        f = make(config.inputs[name].title, "input", [name])
        if f.streams in seen:
            continue
        seen.add(f.streams)
        out.append(f)
        singles += 1
    return out


def sobol_indices(y_a: np.ndarray, y_b: np.ndarray, y_h: np.ndarray, bootstrap: int = BOOTSTRAP,
                  seed: int = 0) -> dict[str, np.ndarray]:
    """First-order and total-effect indices, with 95% half-widths, from pick-freeze evaluations.

    Parameters
    ----------
    y_a, y_b : array (rows, outputs)  The model on samples A and B.
    y_h : array (factors, rows, outputs)  The model on A with each factor's inputs from B.
    bootstrap : int  Resamples of the rows for the intervals (0: none, half-widths NaN).

    Returns
    -------
    ``first_order``, ``total_effect`` and their ``*_ci`` half-widths (1.96 bootstrap standard errors, as
    SALib reports them), each shape (factors, outputs); NaN for an output with no variance.
    """
    n, k = y_a.shape[0], y_h.shape[0]
    # Every estimate is a ratio of means over the rows, so a resample is one weighted mean of these columns.
    terms = np.concatenate([y_a, y_a**2, y_b, y_b**2,
                            np.moveaxis(y_b[None] * (y_h - y_a[None]), 0, 1).reshape(n, -1),
                            np.moveaxis((y_a[None] - y_h) ** 2, 0, 1).reshape(n, -1)], axis=1)

    def estimate(means: np.ndarray):
        o = y_a.shape[1]
        ma, ma2, mb, mb2 = (means[..., i * o:(i + 1) * o] for i in range(4))
        var = (ma2 + mb2) / 2 - ((ma + mb) / 2) ** 2  # of A and B pooled
        first = means[..., 4 * o:4 * o + k * o].reshape(*means.shape[:-1], k, o)
        total = means[..., 4 * o + k * o:].reshape(*means.shape[:-1], k, o) / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(var > 0, var, np.nan)[..., None, :]
            return first / scale, total / scale

    s1, st = estimate(terms.mean(axis=0))
    out = {"first_order": s1, "total_effect": st}
    if bootstrap:
        rng = np.random.default_rng(seed)
        reps = []
        for start in range(0, bootstrap, 50):  # 50 resamples at a time bound the weights' memory
            m = min(50, bootstrap - start)
            weights = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(m)]) / n
            reps.append(estimate(weights @ terms))
        b1, bt = (np.concatenate(r) for r in zip(*reps))
        out["first_order_ci"], out["total_effect_ci"] = 1.96 * b1.std(axis=0), 1.96 * bt.std(axis=0)
    else:
        out["first_order_ci"] = out["total_effect_ci"] = np.full_like(s1, np.nan)
    return out


def variance_sensitivity(config: Config, seed: int, top_inputs: list[str] = (), rows: int = SOBOL_ROWS,
                         overrides: dict[str, float] | None = None, bootstrap: int = BOOTSTRAP,
                         workers: int | None = None) -> pd.DataFrame:
    """Sobol' indices of the net change to the MTFP after mitigation, each year's and the total's.

    One row per output, year (a label, or ``total`` for the horizon) and factor, with ``first_order``,
    ``total_effect``, their 95% half-widths, the factor's ``kind``, the ``inputs`` in it, its ``dependence``
    (the inputs it takes with it), and the ``evaluations`` of the model the table cost. ``top_inputs``
    ranks the candidates for single-input factors (a run's tornado order). ``overrides`` pin inputs.
    """
    from fsp_risk.engine.pickfreeze import pick_freeze

    found = factors(config, list(top_inputs))
    y_a, y_b, y_h = pick_freeze(config, [f.streams for f in found], rows, seed, overrides, workers)
    add_total = (lambda y: np.concatenate([y, y.sum(axis=-1, keepdims=True)], axis=-1))
    idx = sobol_indices(add_total(y_a), add_total(y_b), add_total(y_h), bootstrap, seed)
    years = [*map(str, config.years), "total"]
    rows_out = []
    for j, year in enumerate(years):
        for i, f in enumerate(found):
            rows_out.append({
                "output": "net_change_to_mtfp", "year": year, "factor": f.label,
                "first_order": idx["first_order"][i, j], "first_order_ci": idx["first_order_ci"][i, j],
                "total_effect": idx["total_effect"][i, j], "total_effect_ci": idx["total_effect_ci"][i, j],
                "kind": f.kind, "inputs": ", ".join(f.inputs),
                "dependence": dependence_text(f.together_with),
                "evaluations": rows * (2 + len(found)),
            })
    table = pd.DataFrame(rows_out)
    cols = ["first_order", "first_order_ci", "total_effect", "total_effect_ci"]
    table[cols] = table[cols].astype(float).round(4)
    return table
