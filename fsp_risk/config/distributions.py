"""Input distributions, all sampled by inverse CDF so that any sampler (MC, LHS) works with any of them.

Each distribution is built once from its config mapping (validated there) and then only maps
uniform numbers in (0, 1) to values with :meth:`Distribution.ppf`.

Over 400 lines: the nine kinds a config may name, each with its parameter checks, its fit from
P10/P50/P90 where it takes them, and its closed-form mean and variance, kept together so that adding a
kind touches one module.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from scipy import optimize, stats

from fsp_risk.errors import did_you_mean, excerpt

#: PERT's usual weight on the mode (Vose, "Risk Analysis", 3rd ed., 2008, ch. 9).
PERT_LAMBDA = 4.0

#: Kinds whose scipy ppf is slow and is tabulated (beta family, truncated normal).
_TABULATED = ("pert", "beta", "normal")
#: Uniforms beyond logistic(+-23), about 1e-10 from 0 or 1, take the table's end values.
_LOGIT_LIMIT = 23.0
_TABLE_SIZE = 16_385
_LOGIT_STEP = 2 * _LOGIT_LIMIT / (_TABLE_SIZE - 1)
#: Inverse-CDF tables by (kind, parameters), at most _MAX_TABLES of them (128 KiB each).
_TABLES: dict[tuple, np.ndarray] = {}
_MAX_TABLES = 512

KINDS = (
    "fixed", "uniform", "triangular", "pert", "normal", "lognormal", "beta", "bernoulli", "discrete",
)

# Parameters each kind accepts; the first tuple is required, the second optional.
_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fixed": (("value",), ()),
    "uniform": (("low", "high"), ()),
    "triangular": ((), ("low", "mode", "high", "p10", "p50", "p90")),
    "pert": ((), ("low", "mode", "high", "p10", "p50", "p90")),
    "normal": (("mean", "sd"), ("min", "max")),
    "lognormal": (("mean", "sd"), ()),
    "beta": (("alpha", "beta"), ("low", "high")),
    "bernoulli": (("p",), ()),
    "discrete": (("values", "probs"), ()),
}


class DistributionError(ValueError):
    """Raised with a message that names the parameter and what was expected."""


@dataclass(frozen=True)
class Distribution:
    """A validated one-dimensional distribution.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    params : dict
        The parameters as resolved (P10/P50/P90 inputs are stored as the fitted low/mode/high).
    central : float
        The value used by a deterministic run: the mode for triangular and PERT, the mean for
        normal, lognormal, uniform and beta, the most likely outcome for Bernoulli and discrete,
        unless the config gives ``central``.
    """

    kind: str
    params: dict
    central: float
    _frozen: Any = field(default=None, repr=False, compare=False)
    _ppf: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False, compare=False)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __reduce__(self):
        # Sent (to dask workers) as its parameters and rebuilt there: a few hundred bytes, not the
        # frozen scipy object, closures and tables.
        return _rebuild, (self.kind, self.params, self.central)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: map uniforms in (0, 1) to values [units of the input], same shape."""
        u = np.asarray(u, dtype=float)
        if self._ppf is not None:
            return self._ppf(u)
        if self.kind in _TABULATED:  # always, so a draw never depends on the size of its array
            grid_x = self._table()
            # Linear interpolation in logit(u), where the inverse CDF is smooth even in the tails; the
            # grid is uniform, so the cell is found by arithmetic rather than a search.
            pos = (np.clip(np.log(u) - np.log1p(-u), -_LOGIT_LIMIT, _LOGIT_LIMIT) + _LOGIT_LIMIT) / _LOGIT_STEP
            i = np.minimum(pos.astype(np.intp), _TABLE_SIZE - 2)
            lo = grid_x[i]
            return lo + (pos - i) * (grid_x[i + 1] - lo)
        return self._frozen.ppf(u)

    def _table(self) -> np.ndarray:
        # scipy's beta.ppf costs ~2 us a value; the exact ppf tabulated on 16,385 logit-spaced points
        # and interpolated costs ~50 ns, with an error below 1e-7 of the distribution's range. Tables are
        # shared by every distribution of the same kind and parameters (a config loaded again, a scenario).
        if "table" not in self._cache:
            key = (self.kind, repr(sorted(self.params.items())))  # repr: exact for floats
            table = _TABLES.get(key)
            if table is None:
                t = np.linspace(-_LOGIT_LIMIT, _LOGIT_LIMIT, _TABLE_SIZE)
                table = self._frozen.ppf(1.0 / (1.0 + np.exp(-t)))
                table.setflags(write=False)
                if len(_TABLES) >= _MAX_TABLES:
                    _TABLES.clear()
                _TABLES[key] = table
            self._cache["table"] = table
        return self._cache["table"]

    @property
    def written_params(self) -> dict:
        """The parameters as a config writes them (an unbounded normal's infinite bounds left out)."""
        return _written(self.params)

    def largest(self) -> float:
        """The largest value a draw can take: the upper bound, or for an unbounded distribution its
        1 - 2**-53 quantile (the largest uniform a draw maps)."""
        high = self.support()[1]
        return high if np.isfinite(high) else float(self.ppf(np.array([1 - 2**-53]))[0])

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """Density at ``x`` of a continuous distribution (fixed, Bernoulli and discrete ones have none)."""
        if self._frozen is None:
            raise ValueError(f"a {self.kind} distribution has no density")
        return self._frozen.pdf(x)

    def mean(self) -> float:
        """Closed-form mean of the distribution."""
        if self.kind == "fixed":
            return float(self.params["value"])
        if self.kind == "bernoulli":
            return float(self.params["p"])
        if self.kind == "discrete":
            return float(np.dot(self.params["values"], self.params["probs"]))
        return float(self._frozen.mean())

    def var(self) -> float:
        """Closed-form variance of the distribution."""
        if self.kind == "fixed":
            return 0.0
        if self.kind == "bernoulli":
            p = self.params["p"]
            return float(p * (1 - p))
        if self.kind == "discrete":
            v, p = np.asarray(self.params["values"]), np.asarray(self.params["probs"])
            m = np.dot(v, p)
            return float(np.dot((v - m) ** 2, p))
        return float(self._frozen.var())

    def support(self) -> tuple[float, float]:
        """Smallest and largest values the distribution can take."""
        if self.kind == "fixed":
            v = float(self.params["value"])
            return v, v
        if self.kind == "bernoulli":
            return 0.0, 1.0
        if self.kind == "discrete":
            return float(min(self.params["values"])), float(max(self.params["values"]))
        lo, hi = self._frozen.support()
        return float(lo), float(hi)


#: Largest magnitude of any distribution parameter: far above any council's money (£1e12 is a
#: trillion pounds) and far below where float arithmetic on the model's sums would overflow.
MAX_PARAMETER = 1e12
#: Largest shape parameter of a beta: beyond it the distribution is a spike that the inverse-CDF table
#: cannot resolve.
MAX_SHAPE = 1e4


def _number(spec: dict, key: str) -> float:
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DistributionError(f"{key}: expected a number, got {excerpt(value)}")
    if isinstance(value, float) and not np.isfinite(value):
        raise DistributionError(f"{key}: expected a finite number, got {excerpt(value)}")
    if not -MAX_PARAMETER <= value <= MAX_PARAMETER:
        raise DistributionError(f"{key}: expected a number within ±{MAX_PARAMETER:g}, got {excerpt(value)}")
    return float(value)


def _check_resolvable(kind: str, low: float, high: float) -> None:
    """Refuse a range too narrow for float arithmetic to tell its ends apart (it would collapse to one value)."""
    if (high - low) <= 1e-9 * max(abs(low), abs(high)):
        raise DistributionError(f"low, high: expected a {kind} range wider than a billionth of its size, got "
                                f"{low!r} to {high!r}; use dist: fixed for a single value")


def _pert_frozen(low: float, mode: float, high: float):
    span = high - low
    a = 1 + PERT_LAMBDA * (mode - low) / span
    b = 1 + PERT_LAMBDA * (high - mode) / span
    return stats.beta(a, b, loc=low, scale=span)


def _triangular_frozen(low: float, mode: float, high: float):
    span = high - low
    return stats.triang((mode - low) / span, loc=low, scale=span)


def _fit_three_point(kind: str, p10: float, p50: float, p90: float) -> tuple[float, float, float]:
    """Find low, mode, high whose distribution has the expert's P10, P50 and P90."""
    make = _pert_frozen if kind == "pert" else _triangular_frozen
    spread = p90 - p10

    def unpack(x):
        low = p10 - np.exp(x[0]) * spread
        high = p90 + np.exp(x[1]) * spread
        mode = low + (high - low) / (1 + np.exp(-x[2]))
        return low, mode, high

    def residual(x):
        dist = make(*unpack(x))
        return (dist.ppf([0.1, 0.5, 0.9]) - [p10, p50, p90]) / spread

    skew = (p50 - p10) / spread  # 0.5 when symmetric
    x0 = [np.log(0.3), np.log(0.3), np.log(skew / (1 - skew))]
    fit = optimize.least_squares(residual, x0, xtol=1e-12, ftol=1e-12, gtol=1e-12)
    if np.max(np.abs(fit.fun)) > 1e-6:
        raise DistributionError(
            f"no {kind} distribution has P10={p10:g}, P50={p50:g}, P90={p90:g}; "
            "give low/mode/high instead, or percentiles that are less skewed"
        )
    return tuple(float(v) for v in unpack(fit.x))


def _written(params: dict) -> dict:
    # An unbounded normal stores its bounds as infinities, which a config may not write: leave them out.
    return {k: v for k, v in params.items() if not (isinstance(v, float) and np.isinf(v))}


def _rebuild(kind: str, params: dict, central: float) -> Distribution:
    return make_distribution({"dist": kind, **_written(params), "central": central})


def make_distribution(spec: dict) -> Distribution:
    """Build a :class:`Distribution` from a config mapping such as ``{dist: pert, low: .., mode: .., high: ..}``.

    Raises
    ------
    DistributionError
        With a message naming the offending parameter and what was expected.
    """
    kind = spec.get("dist")
    if kind not in KINDS:
        raise DistributionError(
            f"dist: expected one of {', '.join(KINDS)}; got {excerpt(kind)}{did_you_mean(kind, KINDS)}"
        )
    required, optional = _PARAMS[kind]
    given = {k for k in spec if k not in ("dist", "central")}
    missing = [k for k in required if k not in spec]
    if missing:
        raise DistributionError(f"{missing[0]}: required for a {kind} distribution")
    unknown = sorted(given - set(required) - set(optional))
    if unknown:
        raise DistributionError(
            f"{unknown[0]}: not a parameter of a {kind} distribution "
            f"(expected {', '.join(required + optional)}){did_you_mean(unknown[0], required + optional)}"
        )
    builder = _BUILDERS[kind]
    dist = builder(spec)
    if "central" in spec:
        central = _number(spec, "central")
        lo, hi = dist.support()
        if not lo <= central <= hi:
            raise DistributionError(f"central: expected a value within [{lo:g}, {hi:g}], got {central:g}")
        dist = Distribution(dist.kind, dist.params, central, dist._frozen, dist._ppf)
    return dist


def _fixed(spec):
    v = _number(spec, "value")
    return Distribution("fixed", {"value": v}, v, None, lambda u: np.full(np.shape(u), v))


def _uniform(spec):
    low, high = _number(spec, "low"), _number(spec, "high")
    if not low < high:
        raise DistributionError(f"low, high: expected low < high, got low={low:g}, high={high:g}")
    _check_resolvable("uniform", low, high)
    return Distribution("uniform", {"low": low, "high": high}, (low + high) / 2,
                        stats.uniform(low, high - low), lambda u: low + u * (high - low))


def _three_point(kind):
    def build(spec):
        has_lmh = any(k in spec for k in ("low", "mode", "high"))
        has_pct = any(k in spec for k in ("p10", "p50", "p90"))
        if has_lmh == has_pct:
            raise DistributionError(
                f"low/mode/high: a {kind} distribution needs either low, mode and high "
                "or an expert's p10, p50 and p90 (not both, not neither)"
            )
        if has_pct:
            for k in ("p10", "p50", "p90"):
                if k not in spec:
                    raise DistributionError(f"{k}: required with the other percentiles")
            p10, p50, p90 = (_number(spec, k) for k in ("p10", "p50", "p90"))
            if not p10 < p50 < p90:
                raise DistributionError(
                    f"p10, p50, p90: expected p10 < p50 < p90, got {p10:g}, {p50:g}, {p90:g}"
                )
            low, mode, high = _fit_three_point(kind, p10, p50, p90)
        else:
            for k in ("low", "mode", "high"):
                if k not in spec:
                    raise DistributionError(f"{k}: required for a {kind} distribution")
            low, mode, high = (_number(spec, k) for k in ("low", "mode", "high"))
            if not low <= mode <= high:
                raise DistributionError(
                    f"low, mode, high: expected low <= mode <= high, got {low:g}, {mode:g}, {high:g}"
                )
            if not low < high:
                raise DistributionError(f"low, high: expected low < high, got {low:g} and {high:g}")
            _check_resolvable(kind, low, high)
        frozen = (_pert_frozen if kind == "pert" else _triangular_frozen)(low, mode, high)
        return Distribution(kind, {"low": low, "mode": mode, "high": high}, mode, frozen)

    return build


def _normal(spec):
    mean, sd = _number(spec, "mean"), _number(spec, "sd")
    if not sd > 0:
        raise DistributionError(f"sd: expected a standard deviation > 0, got {sd:g}")
    _check_resolvable("normal", mean - sd, mean + sd)
    lo = _number(spec, "min") if "min" in spec else -np.inf
    hi = _number(spec, "max") if "max" in spec else np.inf
    if not lo < hi:
        raise DistributionError(f"min, max: expected min < max, got {lo:g} and {hi:g}")
    if np.isfinite(lo) and np.isfinite(hi):
        _check_resolvable("normal", lo, hi)
    if (lo - mean) / sd > 30 or (mean - hi) / sd > 30:
        raise DistributionError(f"min, max: expected bounds that the distribution can reach, got {lo:g} to {hi:g} "
                                f"for a mean of {mean:g} and sd of {sd:g} (over 30 standard deviations away)")
    if np.isfinite(lo) or np.isfinite(hi):
        frozen = stats.truncnorm((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd)
    else:
        frozen = stats.norm(mean, sd)
    params = {"mean": mean, "sd": sd, "min": lo, "max": hi}
    return Distribution("normal", params, float(np.clip(mean, lo, hi)), frozen)


def _lognormal(spec):
    mean, sd = _number(spec, "mean"), _number(spec, "sd")
    if not mean > 0:
        raise DistributionError(f"mean: expected a mean > 0 for a lognormal, got {mean:g}")
    if not sd > 0:
        raise DistributionError(f"sd: expected a standard deviation > 0, got {sd:g}")
    if not 1e-9 <= sd / mean <= 100:
        raise DistributionError(f"sd: expected a standard deviation from a billionth to 100 times the mean, got {sd:g} "
                                f"for a mean of {mean:g}")
    # Moments of the variable itself, converted to the log scale.
    sigma = np.sqrt(np.log1p((sd / mean) ** 2))
    mu = np.log(mean) - sigma**2 / 2
    return Distribution("lognormal", {"mean": mean, "sd": sd}, mean, stats.lognorm(sigma, scale=np.exp(mu)))


def _beta(spec):
    a, b = _number(spec, "alpha"), _number(spec, "beta")
    for name, v in (("alpha", a), ("beta", b)):
        if not v > 0:
            raise DistributionError(f"{name}: expected a shape parameter > 0, got {v:g}")
        if v > MAX_SHAPE:
            raise DistributionError(f"{name}: expected a shape parameter of at most {MAX_SHAPE:,.0f}, got {v:g}")
    low = _number(spec, "low") if "low" in spec else 0.0
    high = _number(spec, "high") if "high" in spec else 1.0
    if not low < high:
        raise DistributionError(f"low, high: expected low < high, got {low:g} and {high:g}")
    _check_resolvable("beta", low, high)
    frozen = stats.beta(a, b, loc=low, scale=high - low)
    return Distribution("beta", {"alpha": a, "beta": b, "low": low, "high": high}, float(frozen.mean()), frozen)


def _bernoulli(spec):
    p = _number(spec, "p")
    if not 0 <= p <= 1:
        raise DistributionError(f"p: expected a probability in [0, 1], got {p:g}")
    # u > 1 - p is an event with probability p; monotone in u, as inverse CDF sampling needs.
    return Distribution("bernoulli", {"p": p}, 1.0 if p > 0.5 else 0.0, None,
                        lambda u: (u > 1.0 - p).astype(float))


def _discrete(spec):
    values, probs = spec["values"], spec["probs"]
    if not isinstance(values, list) or not values:
        raise DistributionError(f"values: expected a non-empty list, got {excerpt(values)}")
    if not isinstance(probs, list) or len(probs) != len(values):
        raise DistributionError(f"probs: expected a list of {len(values)} probabilities, one per value, got {excerpt(probs)}")
    for k, name in ((values, "values"), (probs, "probs")):
        for v in k:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise DistributionError(f"{name}: expected numbers, got {excerpt(v)}")
            if not (isinstance(v, int) or np.isfinite(v)) or not -MAX_PARAMETER <= v <= MAX_PARAMETER:
                raise DistributionError(f"{name}: expected finite numbers within ±{MAX_PARAMETER:g}, got {excerpt(v)}")
    v = np.asarray(values, dtype=float)
    p = np.asarray(probs, dtype=float)
    if np.any(p < 0) or np.any(p > 1):
        raise DistributionError(f"probs: expected probabilities in [0, 1], got {excerpt(probs)}")
    if abs(p.sum() - 1) > 1e-6:
        raise DistributionError(f"probs: expected probabilities that sum to 1, got a sum of {p.sum():g}")
    order = np.argsort(v, kind="stable")
    v_sorted, cum = v[order], np.cumsum(p[order])
    cum[-1] = 1.0

    def ppf(u):
        idx = np.searchsorted(cum, u, side="left")
        return v_sorted[np.minimum(idx, len(v_sorted) - 1)]

    params = {"values": [float(x) for x in v], "probs": [float(x) for x in p]}
    return Distribution("discrete", params, float(v[int(np.argmax(p))]), None, ppf)


_BUILDERS = {
    "fixed": _fixed,
    "uniform": _uniform,
    "triangular": _three_point("triangular"),
    "pert": _three_point("pert"),
    "normal": _normal,
    "lognormal": _lognormal,
    "beta": _beta,
    "bernoulli": _bernoulli,
    "discrete": _discrete,
}
