"""The ``common_drivers`` and ``correlation`` sections: rank correlations between inputs, checked and
repaired to the nearest valid matrix (Higham's algorithm)."""
from __future__ import annotations

import numpy as np

from fsp_risk.config.fields import _Node, _number
from fsp_risk.config.schema import Correlation, Input
from fsp_risk.config.shape import keys
from fsp_risk.errors import did_you_mean, excerpt


def _year_to_year(item: _Node, inp: Input) -> tuple[float, str]:
    """``year_to_year: {value, source}``: how much of one year's draw persists into the next."""
    node = item.child("year_to_year").mapping(*keys("year_to_year"))
    if not inp.per_year:
        raise node.error("only a per_year input varies from year to year; set per_year: true or remove "
                         "year_to_year")
    rho = _number(node, "value", node.data["value"])
    if not -1 < rho < 1:
        raise node.error(f"expected a correlation strictly between -1 and 1, got {rho:g}", "value")
    return rho, node.text("source")


def _correlation(node: _Node, inputs: dict[str, Input]) -> Correlation:
    """The ``correlation`` section: a rank-correlation matrix between named inputs.

    Rejected: unknown, repeated, fixed or driver-loaded inputs; a matrix that is not square,
    symmetric, within [-1, 1] or with a unit diagonal. A matrix that is not positive semi-definite
    (no set of variables can have it) is rejected, or repaired to the nearest valid one with
    ``repair: true``; either way the message says which.
    """
    node.mapping(*keys("correlation"))
    names = node.data["inputs"]
    where = node.child("inputs")
    if not isinstance(names, list) or len(names) < 2:
        raise where.error("expected a list of at least two input names")
    for i, name in enumerate(names):
        at = f"inputs[{i}]"
        if not isinstance(name, str) or name not in inputs:
            raise node.error(f"unknown input {excerpt(name)}{did_you_mean(name, inputs)}", at)
        if names.index(name) != i:
            raise node.error(f"input {excerpt(name)} is listed twice", at)
        if inputs[name].driver is not None:
            raise node.error(f"input {excerpt(name)} already loads on the common driver {excerpt(inputs[name].driver)}; an input "
                             "takes its correlation from a driver or from this matrix, not both", at)
        lo, hi = inputs[name].dist.support()
        if lo == hi:
            raise node.error(f"input {excerpt(name)} is fixed at {lo:g}; a fixed input cannot be correlated", at)
    k = len(names)
    rows = node.data["matrix"]
    if not isinstance(rows, list) or len(rows) != k or not all(isinstance(r, list) and len(r) == k for r in rows):
        raise node.error(f"expected a {k} x {k} matrix (a list of {k} rows of {k} numbers, in the order of "
                         "'inputs')", "matrix")
    m = np.array([[_number(node, f"matrix[{i}][{j}]", v) for j, v in enumerate(r)] for i, r in enumerate(rows)])
    for i in range(k):
        for j in range(k):
            at = f"matrix[{i}][{j}]"
            if i == j and m[i, j] != 1:
                raise node.error(f"expected 1 on the diagonal (an input's correlation with itself), got {m[i, j]:g}", at)
            if not -1 <= m[i, j] <= 1:
                raise node.error(f"expected a correlation within [-1, 1], got {m[i, j]:g}", at)
            if abs(m[i, j] - m[j, i]) > 1e-12:
                raise node.error(f"expected a symmetric matrix: {names[i]} with {names[j]} is {m[i, j]:g} but "
                                 f"{names[j]} with {names[i]} is {m[j, i]:g} (matrix[{j}][{i}])", at)
    repair = node.boolean("repair", False)
    source = node.text("source")
    normal = 2.0 * np.sin(np.pi * m / 6.0)
    smallest = float(np.linalg.eigvalsh(normal).min())
    repaired = None
    if smallest < -1e-10:
        if not repair:
            raise node.error(
                f"rejected: the matrix is not positive semi-definite (smallest eigenvalue {smallest:.3g}), so no set "
                "of inputs can have these correlations together; correct it, or set correlation.repair: true to "
                "use the nearest valid matrix", "matrix")
        fixed = _nearest_correlation(normal)
        m_new = 6.0 / np.pi * np.arcsin(fixed / 2.0)
        np.fill_diagonal(m_new, 1.0)
        i, j = np.unravel_index(np.argmax(np.abs(m_new - m)), m.shape)
        repaired = (f"repaired: the matrix was not positive semi-definite (smallest eigenvalue {smallest:.3g}); the "
                    f"nearest valid matrix is used, the largest change {names[i]} with {names[j]} "
                    f"{m[i, j]:g} -> {m_new[i, j]:.3f}")
        m = m_new
    return Correlation(tuple(names), tuple(tuple(float(v) for v in r) for r in m), source, repaired)


def _nearest_correlation(a, iterations: int = 200):
    """Nearest correlation matrix to a symmetric ``a`` (Higham 2002, alternating projections with
    Dykstra's correction), nudged so that it is positive definite."""
    y, ds = a.copy(), np.zeros_like(a)
    for _ in range(iterations):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x = (v * np.maximum(w, 0)) @ v.T
        ds = x - r
        y = x.copy()
        np.fill_diagonal(y, 1.0)
        if np.linalg.norm(y - x) < 1e-12:
            break
    w, v = np.linalg.eigh(y)
    y = (v * np.maximum(w, 1e-6)) @ v.T
    d = np.sqrt(np.diag(y))
    return y / np.outer(d, d)


def _common_drivers(node: _Node) -> dict[str, str]:
    if not isinstance(node.data, dict) or not node.data:
        raise node.error("expected a mapping of driver name to what it stands for, like "
                         "{partner_funding_climate: 'Partners' appetite to co-fund'}")
    return {name: node.text(name) for name in node.keys("a driver name")}

def _driver_loading(node: _Node, drivers: dict[str, str]) -> tuple[str, float]:
    """A ``driver: {name, loading}`` field: which common driver, and how strongly [correlation]."""
    dr = node.child("driver").mapping(*keys("driver"))
    if not drivers:
        raise dr.error("no common drivers are defined; add them under common_drivers", "name")
    name = dr.choice("name", tuple(drivers))
    loading = _number(dr, "loading", dr.data["loading"])
    if not -1 < loading < 1:
        raise dr.error(f"expected a loading strictly between -1 and 1, got {loading:g}", "loading")
    return name, loading
