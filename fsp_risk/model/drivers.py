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


class Memo:
    """Sub-results of the model for one block, each kept with the arrays it was computed from, so that a
    later evaluation whose arrays are the same objects reuses it instead of computing it again.

    The re-runs of a block (each linked risk switched off, the inherent case, a what-if with some inputs
    pinned) replace only the arrays they change; every sub-result that reads none of them is the same
    computation on the same arrays, so reusing it is bitwise what computing it would give. ``depth``
    results are kept per sub-result (the first ones: the main and the inherent evaluation); 0 keeps none.
    """

    def __init__(self, depth: int = 2):
        self.depth = depth
        self.kept: dict[str, list[tuple[tuple, object]]] = {}

    def __call__(self, name: str, fn, *args):
        """``fn(*args)``, or the result kept for ``name`` from the same ``args`` (compared by identity)."""
        for kept_args, result in self.kept.get(name, ()):
            if len(kept_args) == len(args) and all(a is b for a, b in zip(kept_args, args)):
                return result
        result = fn(*args)
        entries = self.kept.setdefault(name, [])
        if len(entries) < self.depth:
            entries.append((args, result))  # the args are held too, so that their identities stay theirs
        return result


def evaluate_drivers(config: Config, x: Arrays, z_placements: list[np.ndarray] | None,
                     memo: Memo | None = None) -> Arrays:
    """Demand, workforce, placements and funding for one set of inputs.

    ``x`` maps input names to arrays of shape (n, 1) or (n, years). ``z_placements`` holds a standard
    normal score per placement type for the spread of its child-years' costs (None: expected costs).
    Returns arrays of shape (n, years) keyed by output name; ``avoided:<measure>`` holds avoided
    child-years (or case-years). With a ``memo`` (one block's), each sub-result whose inputs are the same
    arrays as an earlier evaluation's is reused from it (see :class:`Memo`).
    """
    memo = memo or Memo(depth=0)
    n_years = len(config.years)
    first = config.first_year
    out: Arrays = {}
    central = {name: item.dist.central for name, item in config.inputs.items()}
    n = np.shape(x[config.programme.delay_months])[0]

    # Workforce cost (its variance from the central case is a pressure).
    groups = [_staff_inputs(g) for g in config.workforce]
    out["staff_cost"], out["staff_budget"] = memo(
        "workforce", lambda *v: _staff(groups, x, central, n, n_years), *(x[k] for names in groups for k in names))
    effect = memo("effect", lambda *v: effect_fraction(config, x), *(x[k] for k in _effect_inputs(config)))
    if config.programme.switched_off:  # the counterfactual: no programme, so no effect at all
        effect = np.zeros_like(effect)
    out["effect_fraction"] = np.broadcast_to(effect, (n, n_years))

    # Demand, as-is and with FSP.
    # Counts at 31 March of calendar years first .. first + n_years: before year 0, then each year's end.
    march_years = np.arange(first, first + n_years + 1)
    for m in config.demand.values():
        as_is_inputs = [x[m.growth]] + ([] if m.level is None else [x[k] for k in _level_inputs(m)])
        points, as_is, factor = memo(f"as_is:{m.name}", lambda *v, m=m: _as_is(m, x, march_years, n, n_years),
                                     *as_is_inputs)
        fsp_inputs = [x[k] for k in _fsp_inputs(m)]
        got = memo(f"fsp:{m.name}", lambda *v, m=m, points=points, as_is=as_is, factor=factor:
                   _with_fsp(config, m, x, central, out["effect_fraction"], march_years, points, as_is, factor),
                   as_is, effect, *fsp_inputs)  # (as_is stands for its points and factor: one result)
        out.update(got)

    p = config.placements
    if p is not None:
        type_inputs = [x[k] for t in p.types for k in (t.share, t.unit_cost, t.cost_cv)
                       + ((t.avoided_share,) if t.avoided_share else ())]
        unit_costs = memo("unit_costs", lambda *v: _unit_costs(config, x, first, n_years), x[p.inflation],
                          *(x[t.unit_cost] for t in p.types))
        got = memo("placements", lambda *v: _placements(config, x, out, unit_costs, z_placements), *type_inputs,
                   unit_costs, out[f"avoided:{p.measure}"], out[f"child_years_as_is:{p.measure}"],
                   *(z_placements or ()))
        out.update(got)
    s = config.service
    if s is not None:
        out["service_cost_avoidance"] = memo("service", lambda *v: np.broadcast_to(
            placements.service_cost_avoidance(out[f"avoided:{s.measure}"], x[s.cases_per_team], x[s.team_cost]),
            (n, n_years)), out[f"avoided:{s.measure}"], x[s.cases_per_team], x[s.team_cost])

    for f in config.funding:
        out[f"grant_loss:{f.name}"] = memo(f"funding:{f.name}", lambda *v, f=f: funding.grant_loss(
            np.asarray(f.amounts.values), x[f.ends], np.rint(x[f.end_year]).astype(int), x[f.replaced]),
            x[f.ends], x[f.end_year], x[f.replaced])
    return out


# The inputs each sub-result reads (what the memo compares), next to the code that reads them.
def _staff_inputs(g) -> tuple[str, ...]:
    """A staff group's inputs, in :func:`~fsp_risk.model.workforce.staff_cost`'s order."""
    return g.fte, g.cost_per_fte, g.vacancy, g.agency_cover, g.agency_premium, g.turnover, g.recruitment_cost


def _staff(groups, x, central, n, n_years):
    staff = np.zeros((n, n_years))
    budget = np.zeros((n, n_years))
    for names in groups:
        staff = staff + workforce.staff_cost(*(x[k] for k in names))
        # The budget was set once on the plan: the central establishment, pay, vacancy, agency and turnover
        # rates. Dearer posts or more agency cover are pressures against it.
        budget = budget + workforce.staff_cost(*(central[k] for k in names))
    return staff, budget


def _effect_inputs(config) -> list[str]:
    prog = config.programme
    names = [prog.delay_months, prog.ramp_months]
    if config.weakening is not None:
        names += [k for g in config.workforce if g.weakens_effect for k in (g.fte, g.turnover)]
        names += [config.weakening.threshold, config.weakening.slope]
    return names + [scale.input for scale in prog.effect_scales]


def _level_inputs(m) -> list[str]:
    return [m.level.shock, m.level.persistence] + ([m.level.drift] if m.level.drift else [])


def _fsp_inputs(m) -> list[str]:
    if m.fsp.method == "stock_flow":
        return [m.fsp.leaving_rate, m.fsp.effect]
    return [m.fsp.effect]


def _as_is(m, x, march_years, n, n_years):
    """As-is counts before and after the year-to-year noise, and the noise's factor (1.0 without)."""
    points = demand.interpolate_points(m.as_is.march_years, m.as_is.values, march_years, m.as_is.extrapolate)
    as_is = demand.as_is_trajectory(points, x[m.growth])
    factor = None
    if m.level is not None:
        # Year-to-year noise around the projection moves as-is demand, and FSP's effect applies to it as
        # a share of the level: noise and the programme's effect are not confused.
        drift = x[m.level.drift] if m.level.drift else 0.0
        factor = np.exp(demand.stochastic_level(np.broadcast_to(x[m.level.shock], (n, n_years)),
                                                x[m.level.persistence], drift))
    return points, as_is, factor


def _with_fsp(config, m, x, central, effect, march_years, points, as_is, factor) -> Arrays:
    """Counts with FSP, child-years and child-years avoided for one measure (as-is from :func:`_as_is`)."""
    if m.fsp.method == "stock_flow":
        fsp = demand.stock_flow(as_is, x[m.fsp.leaving_rate], x[m.fsp.effect] * effect)
    elif m.fsp.method == "path":
        planned_effect = effect_fraction(config, central_inputs(config))  # the plan's timing
        plan = demand.interpolate_points(m.fsp.path.march_years, m.fsp.path.values, march_years,
                                         m.fsp.path.extrapolate)
        delivery = demand.delivery_ratio(effect, planned_effect) * x[m.fsp.effect] / central[m.fsp.effect]
        fsp = demand.planned_path(as_is, points, plan, delivery)
    else:
        floor = None
        if m.fsp.floor is not None:
            floor = demand.interpolate_points(m.fsp.floor.march_years, m.fsp.floor.values, march_years,
                                              m.fsp.floor.extrapolate)
        fsp = demand.year_on_year(as_is, x[m.fsp.effect], effect, floor)
    if factor is not None:
        as_is, fsp = as_is * factor, fsp * factor
    return {f"{m.name}_as_is": as_is[:, 1:], f"{m.name}_fsp": fsp[:, 1:],
            f"avoided:{m.name}": demand.child_years(as_is - fsp), f"child_years_fsp:{m.name}": demand.child_years(fsp),
            f"child_years_as_is:{m.name}": demand.child_years(as_is)}


def _unit_costs(config, x, first, n_years) -> list[np.ndarray]:
    p = config.placements
    fy_starts = np.arange(first, first + n_years)
    known = config.inputs[p.inflation].dist.central
    return [x[t.unit_cost] * placements.unit_cost_index(x[p.inflation], fy_starts - t.price_year, known)
            for t in p.types]


def _placements(config, x, out, unit_costs, z_placements) -> Arrays:
    p = config.placements
    shares = [x[t.share] for t in p.types]
    # Children kept out of care are costed at the mix of those who would have entered (mostly younger,
    # mostly fostered), not the mix of the children already in care.
    avoided_shares = [x[t.avoided_share] if t.avoided_share else x[t.share] for t in p.types]
    avoidance = placements.placement_cost_avoidance(
        out[f"avoided:{p.measure}"], avoided_shares, unit_costs, [x[t.cost_cv] for t in p.types], z_placements)
    # Expected spend with FSP: the as-is children at the mix in care, less those kept out at theirs.
    spend = (out[f"child_years_as_is:{p.measure}"] * placements.mean_cost(shares, unit_costs)
             - out[f"avoided:{p.measure}"] * placements.mean_cost(avoided_shares, unit_costs))
    return {"placement_cost_avoidance": avoidance, "placement_spend": spend}


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


