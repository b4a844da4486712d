"""The roll-up: costs, savings, funding and the net change to the MTFP from the drivers, line by labelled
line [GBP a year, arrays of shape (n, years)]."""
from __future__ import annotations

import numpy as np

from fsp_risk.config import Config
from fsp_risk.model import mtfp
from fsp_risk.model.drivers import Arrays, _driver, _saving_rate


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

