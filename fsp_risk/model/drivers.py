"""The model's drivers for one block of iterations: demand, placements, teams, workforce and funding
from the sampled inputs [arrays of shape (n, years)]."""
from __future__ import annotations

import numpy as np

from fsp_risk.config import Config
from fsp_risk.config.years import months_from_fy_start
from fsp_risk.model import demand, funding, placements, workforce

Arrays = dict[str, np.ndarray]


def central_inputs(config: Config) -> dict[str, np.ndarray]:
    """Every input at its central value, as one iteration: shape ``(1, 1)``."""
    return {name: np.array([[item.dist.central]]) for name, item in config.inputs.items()}


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


