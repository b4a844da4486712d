"""The simulation: validated config in, :class:`xarray.Dataset` out.

Inputs are sampled per block of iterations (see :mod:`fsp_risk.engine.sampling`); each block runs the whole
model as array code and its results are written into preallocated arrays. The loop is over blocks of
65,536 iterations and over years, never over iterations.
"""
from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from typing import Callable, Collection

import numpy as np
import xarray as xr
from scipy.special import ndtri

from fsp_risk.config import MAX_ITERATIONS, SAMPLERS, Config, check_pins
from fsp_risk.config.years import months_from_fy_start
from fsp_risk.engine import invariants, store
from fsp_risk.engine.executors import lazy_blocks, map_blocks
from fsp_risk.engine.sampling import (BLOCK, block_input_uniforms, block_sizes, block_uniforms, central_inputs,
                                      correlated_uniforms, resolve_sampler)
from fsp_risk.engine.variables import RISK_KEYS, describe
from fsp_risk.errors import ConfigError
from fsp_risk.model import demand, funding, mtfp, placements
from fsp_risk.model import risks as risk_register
from fsp_risk.model import workforce

Arrays = dict[str, np.ndarray]


# --------------------------------------------------------------------------- drivers
def effect_fraction(config: Config, x: Arrays) -> np.ndarray:
    """Share of FSP's full effect in force in each year [fraction, shape (n, years)]: the ramp after
    go-live plus the sampled delay, weakened by turnover above the threshold and scaled by the
    programme's effect scales (the register's delivery risks)."""
    n_years = len(config.years)
    prog = config.programme
    start = months_from_fy_start(prog.go_live, config.first_year) + x[prog.delay_months]
    effect = demand.ramp_fraction(start, x[prog.ramp_months], n_years)
    if config.weakening is not None:
        weakening = [g for g in config.workforce if g.weakens_effect]
        # FTE-weighted turnover of the groups whose turnover weakens the effect (the 1e-12 guards 0 FTE).
        fte = sum(x[g.fte] for g in weakening)
        turnover = sum(x[g.fte] * x[g.turnover] for g in weakening) / np.maximum(fte, 1e-12)
        effect = effect * workforce.effect_weakening(turnover, x[config.weakening.threshold], x[config.weakening.slope])
    for scale in prog.effect_scales:
        in_years = np.zeros(n_years, dtype=bool)
        in_years[list(scale.years)] = True
        effect = effect * np.where(in_years, x[scale.input], 1.0)
    return effect


def evaluate_drivers(config: Config, x: Arrays, z_placements: list[np.ndarray] | None) -> Arrays:
    """Demand, workforce, placements and funding for one set of inputs.

    ``x`` maps input names to arrays of shape (n, 1) or (n, years). ``z_placements`` holds a standard
    normal score per placement type for the spread of its child-years' costs (None: expected costs).
    Returns arrays of shape (n, years) keyed by output name; ``avoided:<measure>`` holds avoided
    child-years (or case-years).
    """
    n_years = len(config.years)
    first = config.first_year
    out: Arrays = {}

    # Workforce cost (its variance from the central case is a pressure).
    n = np.shape(x[config.programme.delay_months])[0]
    staff = np.zeros((n, n_years))
    budget = np.zeros((n, n_years))
    central = {name: item.dist.central for name, item in config.inputs.items()}
    for g in config.workforce:
        rates = (g.vacancy, g.agency_cover, g.agency_premium, g.turnover, g.recruitment_cost)
        staff = staff + workforce.staff_cost(x[g.fte], x[g.cost_per_fte], *(x[r] for r in rates))
        # The budget was set once on the plan: the central establishment, pay, vacancy, agency and turnover
        # rates. Dearer posts or more agency cover are pressures against it.
        budget = budget + workforce.staff_cost(central[g.fte], central[g.cost_per_fte], *(central[r] for r in rates))
    out["staff_cost"] = staff
    out["staff_budget"] = budget
    effect = effect_fraction(config, x)
    if config.programme.switched_off:  # the counterfactual: no programme, so no effect at all
        effect = np.zeros_like(effect)
    out["effect_fraction"] = np.broadcast_to(effect, (n, n_years))
    planned_effect = None

    # Demand, as-is and with FSP.
    # Counts at 31 March of calendar years first .. first + n_years: before year 0, then each year's end.
    march_years = np.arange(first, first + n_years + 1)
    for m in config.demand.values():
        points = demand.interpolate_points(m.as_is.march_years, m.as_is.values, march_years, m.as_is.extrapolate)
        as_is = demand.as_is_trajectory(points, x[m.growth])
        if m.fsp.method == "stock_flow":
            fsp = demand.stock_flow(as_is, x[m.fsp.leaving_rate], x[m.fsp.effect] * out["effect_fraction"])
        elif m.fsp.method == "path":
            if planned_effect is None:  # the plan's timing: central inputs with the programme in place
                planned_effect = effect_fraction(config, central_inputs(config))
            plan = demand.interpolate_points(m.fsp.path.march_years, m.fsp.path.values, march_years,
                                             m.fsp.path.extrapolate)
            delivery = (demand.delivery_ratio(out["effect_fraction"], planned_effect)
                        * x[m.fsp.effect] / central[m.fsp.effect])
            fsp = demand.planned_path(as_is, points, plan, delivery)
        else:
            floor = None
            if m.fsp.floor is not None:
                floor = demand.interpolate_points(m.fsp.floor.march_years, m.fsp.floor.values, march_years,
                                                  m.fsp.floor.extrapolate)
            fsp = demand.year_on_year(as_is, x[m.fsp.effect], out["effect_fraction"], floor)
        if m.level is not None:
            # Year-to-year noise around the projection moves as-is demand, and FSP's effect applies to it as
            # a share of the level: noise and the programme's effect are not confused.
            drift = x[m.level.drift] if m.level.drift else 0.0
            factor = np.exp(demand.stochastic_level(np.broadcast_to(x[m.level.shock], (n, n_years)),
                                                    x[m.level.persistence], drift))
            as_is, fsp = as_is * factor, fsp * factor
        out[f"{m.name}_as_is"] = as_is[:, 1:]
        out[f"{m.name}_fsp"] = fsp[:, 1:]
        out[f"avoided:{m.name}"] = demand.child_years(as_is - fsp)
        out[f"child_years_fsp:{m.name}"] = demand.child_years(fsp)
        out[f"child_years_as_is:{m.name}"] = demand.child_years(as_is)

    p = config.placements
    if p is not None:
        fy_starts = np.arange(first, first + n_years)
        shares = [x[t.share] for t in p.types]
        known = config.inputs[p.inflation].dist.central
        unit_costs = [x[t.unit_cost] * placements.unit_cost_index(x[p.inflation], fy_starts - t.price_year, known)
                      for t in p.types]
        # Children kept out of care are costed at the mix of those who would have entered (mostly younger,
        # mostly fostered), not the mix of the children already in care.
        avoided_shares = [x[t.avoided_share] if t.avoided_share else x[t.share] for t in p.types]
        out["placement_cost_avoidance"] = placements.placement_cost_avoidance(
            out[f"avoided:{p.measure}"], avoided_shares, unit_costs, [x[t.cost_cv] for t in p.types], z_placements,
        )
        # Expected spend with FSP: the as-is children at the mix in care, less those kept out at theirs.
        out["placement_spend"] = (out[f"child_years_as_is:{p.measure}"] * placements.mean_cost(shares, unit_costs)
                                  - out[f"avoided:{p.measure}"] * placements.mean_cost(avoided_shares, unit_costs))
    s = config.service
    if s is not None:
        out["service_cost_avoidance"] = np.broadcast_to(
            placements.service_cost_avoidance(out[f"avoided:{s.measure}"], x[s.cases_per_team], x[s.team_cost]),
            (n, n_years))

    for f in config.funding:
        end_index = np.rint(x[f.end_year]).astype(int)
        out[f"grant_loss:{f.name}"] = funding.grant_loss(np.asarray(f.amounts.values), x[f.ends], end_index, x[f.replaced])
    return out


def placement_scores(config: Config, seed: int, block: int, size: int, sampler: str) -> list[np.ndarray] | None:
    """Standard normal scores, one (size, years) array per placement type, from their own streams."""
    if config.placements is None:
        return None
    n_years = len(config.years)
    return [ndtri(block_uniforms(seed, f"placement_costs:{t.name}", block, size, n_years, sampler))
            for t in config.placements.types]


def _saving_rate(s, central: Arrays) -> np.ndarray:
    """What a planned saving taken from a demand-led budget saves per case-year avoided in the plan
    [£/case-year, shape (1, years); 0 where nothing is planned]: the cost of a case-year to that budget."""
    planned = -np.asarray(s.planned.values)[None, :]
    avoided = _driver(central, s.driver)
    return np.divide(planned, avoided, out=np.zeros(np.broadcast_shapes(planned.shape, avoided.shape)),
                     where=avoided != 0)


def _driver(d: Arrays, name: str) -> np.ndarray:
    if name == "placements":
        return d["placement_cost_avoidance"]
    if name == "service":
        return d["service_cost_avoidance"]
    return d[f"avoided:{name}"]


# --------------------------------------------------------------------------- roll-up
def line_names(config: Config) -> list[tuple[str, str, str]]:
    """The lines whose sum is the net change to the MTFP: (name, title, kind)."""
    lines = [(f"cost:{c.name}", c.title, "cost pressure") for c in config.costs]
    if config.workforce:
        lines.append(("workforce", "Workforce: pay, vacancy, agency and recruitment against the budget", "cost pressure"))
    if config.placements is not None and config.placements.budget_variance:
        lines.append(("placements", "Placements: spend above the budget set on the plan", "cost pressure"))
    lines += [(f"budget:{s.name}", f"{s.title}: demand above the plan", "cost pressure")
              for s in config.savings if s.from_budget and s.driver in config.demand]
    lines += [(f"funding:{f.name}", f.title, "funding loss") for f in config.funding]
    lines += [(f"saving:{s.name}", s.title, f"saving ({'recurrent' if s.recurrent else 'one-off'}, cashable)")
              for s in config.savings if s.cashable]
    if config.risk_register is not None:
        # A risk linked to model inputs is already inside the model's lines; only £-impact risks add one.
        lines += [(f"risk:{r.id}", r.title, f"risk ({r.kind}, after mitigation)")
                  for r in config.risk_register.risks if not r.link]
        lines += [(f"mitigation:{m.id}", m.title, "mitigation cost") for m in config.risk_register.mitigations]
    lines.append(("mtfp_target", "Current MTFP savings target", "target"))
    if config.mtfp.delivered_outside is not None:
        lines.append(("delivered_outside", "Savings delivered outside the programme", "target"))
    return lines


def rollup(config: Config, x: Arrays, d: Arrays, central: Arrays, risk_lines: list[np.ndarray] = (),
           net_only: bool = False) -> Arrays:
    """Costs, savings, funding and the net change to the MTFP for one block [£/yr, (n, years)].

    ``central`` is :func:`evaluate_drivers` on the central inputs: planned savings scale with their
    driver against it. ``risk_lines`` are the register's
    residual impacts (one per risk) then its mitigation costs (one per mitigation). ``net_only`` returns
    just ``net_change_to_mtfp`` (the re-runs that cost a linked risk need nothing else).
    """
    n_years = len(config.years)
    n = d["effect_fraction"].shape[0]
    base = config.years.index(config.price_base.base_year)
    # Each line under its name: the order of insertion is the order of line_names, checked below.
    lines: dict[str, np.ndarray] = {}
    out: Arrays = {}

    total_costs = np.zeros((n, n_years))
    programme_costs = np.zeros((n, n_years))  # whoever pays: the value-for-money view
    for c in config.costs:
        budget = np.asarray(c.amounts.values)
        actual = np.broadcast_to(budget, (n, n_years))
        if c.multiplier:
            actual = actual * x[c.multiplier]
        if c.inflation:
            idx = config.price_base.indices[c.inflation]
            actual = actual * mtfp.inflation_surprise(x[idx.planned], x[idx.actual], base, n_years)
        total_costs = total_costs + actual
        programme_costs = programme_costs + actual
        lines[f"cost:{c.name}"] = mtfp.cost_pressure(actual, budget, c.budgeted)
    out["workforce_cost_pressure"] = d["staff_cost"] - d["staff_budget"]
    if config.workforce:
        total_costs = total_costs + out["workforce_cost_pressure"]
        lines["workforce"] = out["workforce_cost_pressure"]
    p = config.placements
    if p is not None and p.budget_variance:
        # The budget was set once on the plan (the central case's children in care at its unit costs):
        # more children, dearer placements or faster inflation are pressures against it.
        out["placement_budget_variance"] = np.broadcast_to(d["placement_spend"] - central["placement_spend"],
                                                           (n, n_years))
        total_costs = total_costs + out["placement_budget_variance"]
        lines["placements"] = out["placement_budget_variance"]
    # What a saving cut from a demand-led budget saves per case-year: its budget's variance and, in the
    # value-for-money view, what the cases avoided are worth.
    rates = {s.name: _saving_rate(s, central) for s in config.savings if s.from_budget and s.driver in config.demand}
    for s in config.savings:
        if s.name in rates:
            # The saving was cut from a budget that follows the measure (teams reduce in line with demand):
            # demand with FSP above its plan costs the same per case-year as the plan saves.
            key = f"child_years_fsp:{s.driver}"
            variance = np.broadcast_to(rates[s.name] * (d[key] - central[key]), (n, n_years))
            total_costs = total_costs + variance
            lines[f"budget:{s.name}"] = variance
    out["total_costs"] = total_costs

    loss = np.zeros((n, n_years))
    for f in config.funding:
        loss = loss + d[f"grant_loss:{f.name}"]
        lines[f"funding:{f.name}"] = d[f"grant_loss:{f.name}"]
    out["grant_loss"] = loss

    total_savings = np.zeros((n, n_years))
    cashable = np.zeros((n, n_years))
    # What the programme avoids spending, for the value-for-money view: placements and teams avoided, and
    # what demand-led budgets save on the cases avoided.
    avoided_cost = np.zeros((n, n_years))
    for key in ("placement_cost_avoidance", "service_cost_avoidance"):
        if key in d:
            avoided_cost = avoided_cost + d[key]
    for s in config.savings:
        if s.from_budget:  # the cut is made to the budget; delivery shows as the budget's variance
            saving = np.asarray(s.planned.values)[None, :]
        elif s.planned is not None:
            saving = mtfp.realised_saving(np.asarray(s.planned.values), _driver(d, s.driver), _driver(central, s.driver))
        else:
            saving = -x[s.share] * _driver(d, s.driver)
        if s.multiplier:
            saving = saving * x[s.multiplier]
        saving = np.broadcast_to(saving, (n, n_years))
        if s.driver in config.demand:
            avoided_cost = avoided_cost + (rates[s.name] * d[f"avoided:{s.driver}"] if s.name in rates else -saving)
        total_savings = total_savings + saving
        if s.cashable:
            cashable = cashable + saving
            lines[f"saving:{s.name}"] = saving
    out["total_savings"] = total_savings
    out["cashable_savings"] = cashable

    if config.risk_register is not None:
        reg = config.risk_register
        names = [f"risk:{r.id}" for r in reg.risks if not r.link] + [f"mitigation:{m.id}" for m in reg.mitigations]
        lines.update(zip(names, risk_lines, strict=True))
    target = np.asarray(config.mtfp.target.values)
    lines["mtfp_target"] = np.broadcast_to(-target, (n, n_years))
    if config.mtfp.delivered_outside is not None:
        lines["delivered_outside"] = np.broadcast_to(-np.asarray(config.mtfp.delivered_outside.values), (n, n_years))

    if list(lines) != [name for name, _, _ in line_names(config)]:  # a line stored under another's label
        raise RuntimeError(f"the model's lines {list(lines)} are not those line_names describes")
    # Added line by line in a fixed order, so every re-run of the model sums its lines the same way.
    net = np.zeros((n, n_years))
    for line in lines.values():
        net += line
    if net_only:
        return {"net_change_to_mtfp": net}
    by_line = np.empty((n, n_years, len(lines)))
    for j, line in enumerate(lines.values()):
        by_line[:, :, j] = line
    out["net_change_by_line"] = by_line
    out["net_change_to_mtfp"] = net
    out["net_savings"] = -net
    out["shortfall"] = np.maximum(net, 0.0)
    price_level = mtfp.compound_index(x[config.price_base.deflator], base, n_years)
    out["net_savings_real"] = -net / price_level
    discount = mtfp.discount_factors(config.price_base.discount_rate, base, n_years)
    out["net_savings_pv"] = out["net_savings_real"] * discount

    # Value for money: all the programme's own costs against what it avoids, whoever pays or gains (funding
    # between public bodies is a transfer), benefits reduced for optimism bias, at the Green Book rate.
    if config.workforce:
        programme_costs = programme_costs + out["workforce_cost_pressure"]
    for line in risk_lines:  # the register's residual £ impacts and its mitigations' costs
        programme_costs = programme_costs + line
    bias = x[config.optimism_bias] if config.optimism_bias else 0.0
    out["programme_costs"] = programme_costs
    out["programme_benefits"] = avoided_cost * (1.0 - bias)
    out["programme_costs_pv"] = programme_costs / price_level * discount
    out["programme_benefits_pv"] = out["programme_benefits"] / price_level * discount
    return out


def _standalone_risks(config: Config, x: Arrays, x_res: Arrays, seed: int, block: int | None, size: int,
                      sampler: str) -> dict[str, dict]:
    """Occurrence and impact of each risk with a £ impact, for one block, keyed by risk id.

    ``block`` None is the deterministic case: every uniform is 0.5, so a risk occurs only if it is
    more likely than not (as a Bernoulli input's central value is its most likely outcome).
    """
    n_years = len(config.years)
    reg = config.risk_register

    def uniforms(name, ncols):
        if block is None:
            return np.full((size, ncols), 0.5)
        return block_uniforms(seed, name, block, size, ncols, sampler)

    drivers = {name: uniforms(f"driver:{name}", 1) for name in config.common_drivers}
    out = {}
    for r in reg.risks:
        if r.link:
            continue
        common = drivers.get(r.driver)
        u = {
            "year": correlated_uniforms(uniforms(f"risk:{r.id}:year", n_years), common, r.loading),
            "once": correlated_uniforms(uniforms(f"risk:{r.id}:once", 1), common, r.loading),
            "pick": uniforms(f"risk:{r.id}:pick", 1),
        }
        out[r.id] = risk_register.evaluate(r, x, x_res, u, n_years)
    return out


def simulate_block(config: Config, central: Arrays, x: Arrays, u: Arrays | None, z, seed: int, block: int | None,
                   size: int, sampler: str, overrides: dict[str, float] | None = None,
                   main_only: bool = False) -> Arrays:
    """All outputs for one block of iterations.

    ``x`` are the sampled inputs and ``u`` their uniforms (None in the deterministic case). With a risk
    register, the main result is *after* mitigation: mitigations that replace an input redraw it from
    the replacement's distribution on the same uniforms. A risk linked to model inputs is costed as the
    net change with its inputs as sampled minus with them switched off, on the same random numbers.
    ``overrides`` pin inputs in every iteration, after any mitigation has redrawn them. ``main_only``
    skips the inherent (unmitigated) result and the per-risk impacts: one model evaluation, not
    2 + 2 per linked risk, for what-if runs that need only the net change.
    """
    reg = config.risk_register
    n_years = len(config.years)
    overrides = overrides or {}
    x = pin(x, overrides)
    if reg is None:
        d = evaluate_drivers(config, x, z)
        return {**d, **rollup(config, x, d, central)}

    x_res = dict(x)
    for m in reg.mitigations:
        for orig, repl in m.replace:
            if u is None or repl in overrides:  # central case, or the replacement itself is pinned
                x_res[orig] = np.broadcast_to(x[repl], np.shape(x[orig])).copy()
            else:
                x_res[orig] = config.inputs[repl].dist.ppf(u[orig])
    x_res = pin(x_res, overrides)
    standalone = _standalone_risks(config, x, x_res, seed, block, size, sampler)
    mitigation_lines = [np.broadcast_to(risk_register.mitigation_cost(m, n_years), (size, n_years))
                        for m in reg.mitigations]
    no_mitigation = [np.zeros((size, n_years))] * len(reg.mitigations)
    lines_res = [standalone[r.id]["risk_impact_residual"] for r in reg.risks if not r.link] + mitigation_lines
    lines_inh = [standalone[r.id]["risk_impact"] for r in reg.risks if not r.link] + no_mitigation

    def net(inputs, extra_lines):
        return rollup(config, inputs, evaluate_drivers(config, inputs, z), central, extra_lines,
                      net_only=True)["net_change_to_mtfp"]

    d = evaluate_drivers(config, x_res, z)
    out = {**d, **rollup(config, x_res, d, central, lines_res)}
    if main_only:
        return out
    net_inh = net(x, lines_inh)
    out["net_change_inherent"] = net_inh
    per_risk = []
    for r in reg.risks:
        if not r.link:
            per_risk.append(standalone[r.id])
            continue
        imp_inh = net_inh - net(risk_register.switched_off(x, r), lines_inh)
        imp_res = out["net_change_to_mtfp"] - net(risk_register.switched_off(x_res, r), lines_res)
        shape = imp_inh.shape
        per_risk.append({
            "risk_occurred": (risk_register.linked_event(x, r, shape) & (np.abs(imp_inh) > 0.005)).astype(float),
            "risk_occurred_residual": (risk_register.linked_event(x_res, r, shape) & (np.abs(imp_res) > 0.005)).astype(float),
            "risk_impact": imp_inh,
            "risk_impact_residual": imp_res,
        })
    for k in RISK_KEYS:
        out[k] = np.stack([pr[k] for pr in per_risk], axis=-1)
    return out


# --------------------------------------------------------------------------- output description
# Each variable's name, units and dimensions: fsp_risk.engine.variables.


def _output_keys(config: Config) -> list[str]:
    keys = [f"{m}_{case}" for m in config.demand for case in ("as_is", "fsp")]
    keys += ["effect_fraction"]
    keys += [k for k in ("placement_cost_avoidance",) if config.placements is not None]
    keys += [k for k in ("placement_budget_variance",) if config.placements is not None and config.placements.budget_variance]
    keys += [k for k in ("service_cost_avoidance",) if config.service is not None]
    keys += ["workforce_cost"] if config.workforce else []
    keys += ["workforce_cost_pressure", "grant_loss", "total_costs", "total_savings", "cashable_savings",
             "net_change_to_mtfp", "net_savings", "net_savings_real", "net_savings_pv", "shortfall",
             "programme_costs", "programme_benefits", "programme_costs_pv", "programme_benefits_pv"]
    return keys


def result_shapes(config: Config) -> dict[str, tuple[int, ...]]:
    """Each stored result's shape for one iteration."""
    n_years = len(config.years)
    shapes = {k: (n_years,) for k in _output_keys(config)}
    shapes["net_change_by_line"] = (n_years, len(line_names(config)))
    reg = config.risk_register
    if reg is not None:
        shapes.update({k: (n_years, len(reg.risks)) for k in RISK_KEYS})
        shapes["net_change_inherent"] = (n_years,)
    return shapes


def result_bytes_per_iteration(config: Config) -> int:
    """Bytes one iteration takes in ``results.nc`` (occurrences are stored as one byte, the rest as 8)."""
    return sum(int(np.prod(shape)) * (1 if k.startswith("risk_occurred") else 8)
               for k, shape in result_shapes(config).items())


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("fsp-risk", "numpy", "scipy", "xarray", "pandas"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


# --------------------------------------------------------------------------- simulate
def block_inputs(config: Config, seed: int, block: int, size: int, sampler: str,
                 placement_spread: bool = True) -> tuple[Arrays, Arrays, list[np.ndarray] | None]:
    """Uniforms, input values and placement cost scores of one block: everything random in it.

    ``placement_spread`` False takes each child-year at its expected cost (no spread between children).
    """
    u = block_input_uniforms(config, seed, block, size, sampler)
    x = {name: config.inputs[name].dist.ppf(uu) for name, uu in u.items()}
    z = placement_scores(config, seed, block, size, sampler) if placement_spread else None
    return x, u, z


def check_central_case(config: Config, central: Arrays) -> None:
    """Refuse planned savings that the central case gives nothing to scale from."""
    for s in config.savings:
        if s.planned is None:
            continue
        drv = _driver(central, s.driver)[0]
        for k, (planned, value) in enumerate(zip(s.planned.values, drv)):
            if planned != 0 and value == 0:
                raise ConfigError(
                    f"a saving is planned in {config.years[k]} but the central case gives no {s.driver} "
                    "to scale it by (is go-live after that year?); expected a driver above zero wherever a "
                    "saving is planned",
                    file=config.path, path=f"savings.{s.name}.planned.values.{config.years[k]}",
                )


def check_overrides(config: Config, overrides: dict[str, float], field: str = "overrides") -> dict[str, float]:
    """Validate pinned inputs: known names, finite numbers within each input's range."""
    return check_pins(config, overrides, field, config.path)


def pin(x: Arrays, overrides: dict[str, float]) -> Arrays:
    """Inputs with some pinned to a value in every iteration (same shapes)."""
    if not overrides:
        return x
    return {**x, **{name: np.full(np.shape(x[name]), v) for name, v in overrides.items()}}


def central_case(config: Config) -> tuple[Arrays, Arrays]:
    """The central inputs and the drivers they give: the plan that savings and budgets are measured against."""
    x_central = central_inputs(config)
    return x_central, evaluate_drivers(config, x_central, None)


def central_net_savings(config: Config, overrides: dict[str, float] | None = None,
                        case: tuple[Arrays, Arrays] | None = None) -> np.ndarray:
    """Net savings by year [GBP] in the central case, with some inputs pinned: a fast deterministic run.

    ``case`` is :func:`central_case`'s result, for callers that evaluate many overrides.
    """
    x_central, central = case or central_case(config)
    return simulate_block(config, central, x_central, None, None, 0, None, 1, "mc",
                          check_overrides(config, overrides or {}))["net_savings"][0]


def simulate(
    config: Config,
    *,
    iterations: int | None = None,
    seed: int | None = None,
    sampler: str | None = None,
    deterministic: bool = False,
    progress: Callable[[int, int], None] | None = None,
    overrides: dict[str, float] | None = None,
    workers: int | None = None,
    path: str | os.PathLike | None = None,
    engine: str = "threads",
    scheduler: str | None = None,
    check_invariants: bool = True,
    done_blocks: Collection[int] = (),
    on_block: Callable[[int, str], None] | None = None,
) -> xr.Dataset:
    """Run the Monte Carlo simulation of a config.

    Parameters
    ----------
    config : Config
        From :func:`fsp_risk.load_config`.
    iterations : int, optional
        Number of iterations; the config's ``run.iterations`` when omitted. Ignored when deterministic.
    seed : int, optional
        Root seed; the config's ``run.seed`` when omitted.
    sampler : {'mc', 'lhs', 'sobol'}, optional
        Plain Monte Carlo, Latin hypercube or scrambled Sobol' (per block of 65,536 iterations).
    deterministic : bool
        One iteration with every input at its central value.
    progress : callable, optional
        Called as ``progress(done, total)`` after each block.
    overrides : dict, optional
        Inputs pinned to a value in every iteration (a stress test, or a switching value); the plan
        the savings are measured against stays the central case.
    workers : int, optional
        Blocks computed at once (threads, or the processes of a local dask cluster); default every
        core. The results do not depend on it.
    path : path, optional
        A new netCDF file to write the results to block by block (memory then stays bounded by the
        blocks in flight, whatever the iterations); the Dataset returned is opened lazily from it and
        should be closed by the caller.
    engine : {'threads', 'dask'}
        Where blocks run: threads in this process, or ``dask.distributed`` tasks (see
        :mod:`fsp_risk.engine.executors`). Bitwise the same results. With ``dask`` and no ``path`` nothing runs
        yet: the Dataset returned is dask-backed, one task per block, computed by whichever scheduler
        computes it (``.compute()``, ``.to_zarr()``...).
    scheduler : str, optional
        With ``dask`` and a ``path``: the address of the scheduler to run on; default the client in
        use, else a local cluster started for the call.
    check_invariants : bool
        Check every block's outputs as it is computed (:mod:`fsp_risk.engine.invariants`) and raise
        :class:`fsp_risk.errors.ModelError` on an impossible value; off only to time the checks.
    done_blocks : collection of int, optional
        With ``path``: blocks already in that file (an interrupted run of the same config, seed,
        sampler and iterations), which are not computed again; the file is reopened, not replaced.
    on_block : callable, optional
        With ``path``: called as ``on_block(block, digest)`` once a block is written and flushed to the
        file, with the SHA-256 of its values (:func:`fsp_risk.engine.store.block_digest`).

    Returns
    -------
    xarray.Dataset
        Dimensions ``iteration``, ``year`` and ``line``; provenance (config text and hash, seed,
        sampler, versions) in ``attrs``.
    """
    iterations = config.run.iterations if iterations is None else iterations
    seed = config.run.seed if seed is None else seed
    sampler = config.run.sampler if sampler is None else sampler
    if sampler not in SAMPLERS:
        raise ConfigError(f"expected one of {', '.join(SAMPLERS)}, got {sampler!r}", path="sampler")
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or not 1 <= iterations <= MAX_ITERATIONS:
        raise ConfigError(f"expected a whole number from 1 to {MAX_ITERATIONS:,}, got {iterations!r}", path="iterations")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"expected a whole number >= 0, got {seed!r}", path="seed")

    x_central, central = central_case(config)
    check_central_case(config, central)
    overrides = check_overrides(config, overrides or {})
    design = resolve_sampler(config, sampler)

    lines = line_names(config)
    total = 1 if deterministic else int(iterations)
    shapes = result_shapes(config)
    if deterministic:
        chunks = [(None, 0, 1)]
    else:
        chunks, startpos = [], 0
        for b, size in enumerate(block_sizes(total)):
            chunks.append((b, startpos, size))
            startpos += size
    def run_block(chunk):
        b, pos, size = chunk
        if b is None:
            x, u, z = x_central, None, None
        else:
            x, u, z = block_inputs(config, seed, b, size, design)
        out = simulate_block(config, central, x, u, z, seed, b, size, design, overrides)
        # Only what is kept: a finished block waiting to be written holds no intermediate arrays.
        kept = {k: out["staff_cost" if k == "workforce_cost" else k] for k in shapes}
        if check_invariants:
            invariants.check_block(config, kept, pos)
        return kept

    if engine == "dask" and path is None:
        results = lazy_blocks(run_block, chunks, [size for _, _, size in chunks], shapes)
        return _to_dataset(config, results, lines, total, seed, sampler, deterministic)
    if path is None:
        results = {k: np.empty((total, *shape)) for k, shape in shapes.items()}
        sink = None
    else:
        # Results go to disk block by block, so memory is bounded by the blocks in flight, not the run.
        empty = {k: np.empty((0, *shape)) for k, shape in shapes.items()}
        skeleton = _to_dataset(config, empty, lines, total, seed, sampler, deterministic)
        with store.writing(path):
            sink = store.open_for_blocks(path, skeleton, total, resume=bool(done_blocks))
        results = {k: sink[k] for k in shapes}
        done_blocks = set(done_blocks)
        chunks = [c for c in chunks if (c[0] or 0) not in done_blocks]

    done = total - sum(size for _, _, size in chunks)
    try:
        for (b, pos, size), block_out in zip(chunks, map_blocks(run_block, chunks, workers, engine, scheduler)):
            written = {k: block_out[k].astype(np.int8) if k.startswith("risk_occurred") else block_out[k]
                       for k in results}
            with store.writing(path):
                for k, arr in results.items():
                    arr[pos : pos + size] = written[k]
                if sink is not None:
                    store.block_written(sink, pos, size, b, on_block, written)
            done += size
            if progress is not None:
                progress(done, total)
    finally:
        if sink is not None:
            with store.writing(path):  # closing flushes: it can meet a full disk too
                sink.close()
    if path is not None:
        return xr.open_dataset(path, engine="netcdf4", cache=False)  # each variable read when used, not kept
    return _to_dataset(config, results, lines, total, seed, sampler, deterministic)


def net_change_totals(config: Config, iterations: int, seed: int, sampler: str,
                      overrides: dict[str, float] | None = None, placement_spread: bool = True,
                      workers: int | None = None) -> np.ndarray:
    """Net change to the MTFP after mitigation, summed over the horizon, per iteration [GBP, shape (n,)].

    The fast path for what-if runs (grouped tornado, switching values at P50, run comparisons): the
    same random numbers as :func:`simulate` with the same seed, sampler and iterations (common random
    numbers), but only the main result, without building a Dataset.
    """
    _, central = central_case(config)
    overrides = check_overrides(config, overrides or {})
    design = resolve_sampler(config, sampler)
    def run_block(block):
        b, size = block
        return block_net_change_totals(config, central, seed, b, size, design, overrides, placement_spread)

    return np.concatenate(list(map_blocks(run_block, list(enumerate(block_sizes(iterations))), workers)))


def block_net_change_totals(config: Config, central: Arrays, seed: int, block: int, size: int, design,
                            overrides: dict[str, float] | None = None, placement_spread: bool = True) -> np.ndarray:
    """:func:`net_change_totals` for one block [GBP, shape (size,)]; ``design`` from :func:`resolve_sampler`."""
    x, u, z = block_inputs(config, seed, block, size, design, placement_spread)
    out = simulate_block(config, central, x, u, z, seed, block, size, design, overrides or {}, main_only=True)
    return out["net_change_to_mtfp"].sum(axis=1)


def _to_dataset(config, results, lines, total, seed, sampler, deterministic) -> xr.Dataset:
    """The results as a labelled Dataset; ``total`` is the run's iterations (the arrays may be empty: a
    skeleton for a file written block by block)."""
    years = list(config.years)
    data_vars = {}
    for k, arr in results.items():
        v = describe(config, k)
        if v.kind == "flag":
            arr = arr.astype(np.int8)
        data_vars[k] = (v.dims, arr, {"long_name": v.long_name, "units": v.units})
    target = np.asarray(config.mtfp.target.values)
    data_vars["target"] = ("year", target, {"long_name": "MTFP savings target (negative = saving)", "units": "GBP"})
    coords = {
        "iteration": np.arange(next(iter(results.values())).shape[0]),
        "year": ("year", years, {"long_name": "financial year (April to March); counts are at 31 March at its end"}),
        "line": ("line", [name for name, _, _ in lines]),
        "line_title": ("line", [title for _, title, _ in lines]),
        "line_kind": ("line", [kind for _, _, kind in lines]),
    }
    reg = config.risk_register
    if reg is not None:
        from fsp_risk.model.risks import mitigation_cost_by_risk

        risks = reg.risks
        coords.update({
            "risk": ("risk", [r.id for r in risks]),
            "risk_title": ("risk", [r.title for r in risks]),
            "risk_owner": ("risk", [r.owner for r in risks]),
            "risk_type": ("risk", [r.kind for r in risks]),
            "stated_impact_score": ("risk", [-1 if r.stated_impact is None else r.stated_impact for r in risks]),
            "stated_probability_band": ("risk", [r.stated_probability or "" for r in risks]),
        })
        data_vars["mitigation_cost"] = (("year", "risk"), mitigation_cost_by_risk(reg, len(years)),
                                        {"long_name": "Cost of the mitigations acting on the risk, a shared "
                                                      "action split equally", "units": "GBP"})
    versions = _versions()
    attrs = {
        "title": config.title,
        "config_name": config.name,
        "config_path": config.path,
        "config_sha256": config.sha256,
        "config_text": config.text,
        # The files the config read (a register CSV), so that 'report' and 'compare' rebuild it anywhere.
        **({"config_attachments": json.dumps(config.attachments)} if config.attachments else {}),
        "seed": int(seed),
        "sampler": "central" if deterministic else sampler,
        "iterations": int(total),
        "deterministic": int(deterministic),
        "block_size": BLOCK,
        "results_format": store.RESULTS_FORMAT,
        "price_base_year": config.price_base.base_year,
        "discount_rate": config.price_base.discount_rate,
        "discount_rate_source": config.price_base.discount_source,
        "sign_convention": "savings negative; net_change_to_mtfp positive = pressure",
        **{f"version_{k.replace('-', '_')}": v for k, v in versions.items()},
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)


__all__ = ["simulate", "evaluate_drivers", "rollup", "line_names"]
