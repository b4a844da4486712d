"""The ``years`` and ``inputs`` sections (the assumption book) and the references the model sections make
to inputs by name."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from fsp_risk.config.correlation import _driver_loading, _year_to_year
from fsp_risk.config.distributions import DistributionError, make_distribution
from fsp_risk.config.fields import _kind, _Node, _number
from fsp_risk.config.limits import EVIDENCE, MAX_COUNT, MAX_HORIZON, MAX_MONEY
from fsp_risk.config.schema import Input, Points, YearSeries
from fsp_risk.config.shape import DIST_KEYS, keys
from fsp_risk.config.years import fy_label, parse_fy
from fsp_risk.errors import ConfigError, did_you_mean, excerpt


def _years(node: _Node) -> tuple[str, ...]:
    if not isinstance(node.data, list) or not node.data:
        raise node.error("expected a list of financial years like ['2025/26', '2026/27']")
    starts = []
    for i, label in enumerate(node.data):
        try:
            starts.append(parse_fy(label))
        except ValueError as exc:
            raise ConfigError(str(exc), file=node.file, path=f"years[{i}]") from None
    if len(starts) > MAX_HORIZON:
        raise node.error(f"expected at most {MAX_HORIZON} financial years, got {len(starts)}")
    for i in range(1, len(starts)):
        if starts[i] != starts[i - 1] + 1:
            raise node.error(
                f"expected consecutive financial years in order; {fy_label(starts[i])} follows "
                f"{fy_label(starts[i - 1])}"
            )
    return tuple(fy_label(s) for s in starts)


def _inputs(node: _Node, years: tuple[str, ...], drivers: dict[str, str]) -> dict[str, Input]:
    if not isinstance(node.data, dict) or not node.data:
        raise node.error("expected a mapping of named inputs (the assumption book)")
    out = {}
    node.keys("an input name")
    for name, spec in node.data.items():
        item = node.child(str(name)).mapping(*keys("input"))
        dist_spec = {k: v for k, v in spec.items() if k in DIST_KEYS}
        year_valued = False
        if spec.get("dist") == "discrete" and isinstance(spec.get("values"), list) and any(
            isinstance(v, str) for v in spec["values"]
        ):
            # A discrete input over year labels, e.g. the year a grant ends: store horizon indices.
            indices = []
            for v in spec["values"]:
                if v not in years:
                    raise item.error(
                        f"expected year labels within the horizon ({years[0]} to {years[-1]}), got {excerpt(v)}", "values"
                    )
                indices.append(years.index(v))
            dist_spec["values"] = indices
            if "central" in dist_spec:
                if dist_spec["central"] not in years:
                    raise item.error(f"expected a year label within the horizon, got {excerpt(dist_spec['central'])}", "central")
                dist_spec["central"] = years.index(dist_spec["central"])
            year_valued = True
        try:
            dist = make_distribution(dist_spec)
        except DistributionError as exc:
            raise ConfigError(str(exc), file=node.file, path=f"inputs.{name}") from None
        out[str(name)] = Input(
            name=str(name), title=item.text("title"), units=item.text("units"), dist=dist,
            per_year=item.boolean("per_year", False), source=item.text("source"), owner=item.text("owner"),
            evidence=item.choice("evidence", EVIDENCE), date=item.date("date"),
            review=item.date("review"), year_valued=year_valued,
        )
        if item.has("driver"):
            driver, loading = _driver_loading(item, drivers)
            out[str(name)] = replace(out[str(name)], driver=driver, loading=loading)
        if item.has("year_to_year"):
            rho, rho_source = _year_to_year(item, out[str(name)])
            out[str(name)] = replace(out[str(name)], year_to_year=rho, year_to_year_source=rho_source)
        if out[str(name)].review < out[str(name)].date:
            raise item.error("expected a review date on or after the input's date", "review")
    return out


class _Refs:
    """Resolves references from model sections to inputs, and records which inputs are used."""

    def __init__(self, inputs: dict[str, Input], file: str, years: tuple[str, ...] = ()):
        self.inputs, self.file, self.used = inputs, file, set()
        #: The model section being read, and the first section that used each input (its group).
        self.section, self.groups = "", {}
        #: The tightest bounds the model's fields put on each input: what a pinned value may be.
        self.bounds: dict[str, tuple[float, float]] = {}
        #: The text of each file the config attaches (a register CSV) by the path written in it.
        self.attachments: dict[str, str] = {}
        #: The config's financial years.
        self.years = years

    def add_inputs(self, added: dict[str, Input]) -> None:
        """Add inputs a section defines (a register import's scores) to the assumption book, as used."""
        self.inputs.update(added)
        self.used.update(added)

    def get(self, node: _Node, key: str, *, lo: float | None = None, hi: float | None = None,
            scalar: bool = False, required: bool = True, ceiling: float | None = None) -> str | None:
        """The input named at ``key``: its values must lie in [``lo``, ``hi``] (the field's meaning) and its
        largest draw at most ``ceiling`` (a sanity bound for money, counts and factors)."""
        name = node.data.get(key) if isinstance(node.data, dict) else None
        if name is None and not required:
            return None
        if not isinstance(name, str):
            raise node.error(f"expected the name of an input from the 'inputs' section, got {_kind(name)}", key)
        if name not in self.inputs:
            raise node.error(f"unknown input {excerpt(name)}{did_you_mean(name, self.inputs)}", key)
        item = self.inputs[name]
        low, high = item.dist.support()
        if (lo is not None and low < lo) or (hi is not None and high > hi):
            bounds = f"[{lo:g}, {hi:g}]" if lo is not None and hi is not None else (f">= {lo:g}" if lo is not None else f"<= {hi:g}")
            raise node.error(
                f"input {excerpt(name)} can take values in [{low:g}, {high:g}], but this field expects values {bounds}", key
            )
        if ceiling is not None:
            largest = item.dist.largest()
            if largest > ceiling:
                raise node.error(f"input {excerpt(name)} can reach {largest:g}, but this field expects at most "
                                 f"{ceiling:g} (a sanity ceiling)", key)
            hi = ceiling if hi is None else min(hi, ceiling)
        if scalar and item.per_year:
            raise node.error(f"input {excerpt(name)} is per_year, but this field takes one value per iteration", key)
        self.used.add(name)
        self.groups.setdefault(name, self.section)
        b_lo, b_hi = self.bounds.get(name, (-np.inf, np.inf))
        self.bounds[name] = (max(b_lo, -np.inf if lo is None else lo), min(b_hi, np.inf if hi is None else hi))
        return name

    def check_all_used(self) -> None:
        unused = sorted(set(self.inputs) - self.used)
        if unused:
            raise ConfigError(
                "input is not used by any part of the model; remove it or refer to it",
                file=self.file, path=f"inputs.{unused[0]}",
            )


def _series(node: _Node, years: tuple[str, ...], *, nonnegative: bool = False) -> YearSeries:
    node.mapping(*keys("series"))
    values = node.child("values")
    if not isinstance(values.data, dict) or not values.data:
        raise values.error("expected a mapping of financial year to amount, like {2025/26: 200000}")
    out = [0.0] * len(years)
    for label, amount in values.data.items():
        if str(label) not in years:
            raise values.error(
                f"year {excerpt(label)} is outside the config's years ({years[0]} to {years[-1]})"
                f"{did_you_mean(label, years)}", str(label)
            )
        out[years.index(str(label))] = _number(values, str(label), amount, nonnegative=nonnegative, limit=MAX_MONEY,
                                               what="an amount of money in £")
    return YearSeries(tuple(out), node.text("source"))


def _points(node: _Node) -> Points:
    node.mapping(*keys("points"))
    pts = node.child("at_31_march")
    if not isinstance(pts.data, dict) or len(pts.data) < 2:
        raise pts.error("expected at least two points: a mapping of calendar year to count at 31 March")
    items = []
    for year, count in pts.data.items():
        if isinstance(year, bool) or not isinstance(year, int) or not 1900 < year < 2200:
            raise pts.error(f"expected a calendar year like 2025 (the count at 31 March), got {excerpt(year)}", str(year))
        items.append((year, _number(pts, str(year), count, nonnegative=True, limit=MAX_COUNT, what="a count")))
    items.sort()
    return Points(tuple(y for y, _ in items), tuple(v for _, v in items), node.text("source"),
                  node.boolean("extrapolate", False))


