"""The model sections: programme, price base, demand, placements, service, workforce, costs, savings,
funding, MTFP and run defaults."""
from __future__ import annotations

from fsp_risk.config.fields import _Node, _number
from fsp_risk.config.inputs import _points, _Refs, _series
from fsp_risk.config.limits import (FSP_METHODS, MAX_COUNT, MAX_FACTOR, MAX_ITERATIONS, MAX_LOG_SHOCK, MAX_MONEY,
                                    MAX_MONTHS, MAX_PRICE_YEARS_BACK, MAX_SEED, MONEY_DRIVERS, SAMPLERS)
from fsp_risk.config.schema import (GREEN_BOOK_RATE_SOURCE, CostLine, EffectScale, FspCase, FundingStream,
                                    InflationIndex, Level, Measure, Mtfp, Placements, PlacementType, PriceBase,
                                    Programme, RunDefaults, SavingLine, Service, Weakening, WorkforceGroup)
from fsp_risk.config.shape import keys
from fsp_risk.config.years import fy_label, parse_fy
from fsp_risk.errors import did_you_mean, excerpt


def _programme(node: _Node, years, refs: _Refs) -> Programme:
    node.mapping(*keys("programme"))
    scales = []
    if node.has("effect_scales"):
        sn = node.child("effect_scales")
        if not isinstance(sn.data, list):
            raise sn.error("expected a list of {input: NAME, years: [...]} that scale FSP's effect")
        for k, raw in enumerate(sn.data):
            e = _Node(raw, f"{sn.path}[{k}]", sn.file).mapping(*keys("effect_scale"))
            idx = tuple(range(len(years)))
            if e.has("years"):
                labels = e.data["years"]
                bad = [y for y in (labels if isinstance(labels, list) else [labels]) if y not in years]
                if not isinstance(labels, list) or not labels or bad:
                    raise e.error(f"expected a list of the config's years ({years[0]} to {years[-1]}), got {excerpt(labels)}",
                                  "years")
                idx = tuple(sorted(years.index(y) for y in labels))
            # A scale weakens the effect (a risk to it); FSP never does more than its full effect.
            scales.append(EffectScale(refs.get(e, "input", lo=0, hi=1), idx))
    return Programme(node.date("go_live"), node.text("go_live_source"),
                     refs.get(node, "delay_months", lo=0, scalar=True, ceiling=MAX_MONTHS),
                     refs.get(node, "ramp_months", lo=0, scalar=True, ceiling=MAX_MONTHS), tuple(scales))


def _price_base(node: _Node, years, refs: _Refs) -> PriceBase:
    node.mapping(*keys("price_base"))
    base = node.data["base_year"]
    rate, rate_source = 0.035, GREEN_BOOK_RATE_SOURCE
    if node.has("discount_rate"):
        dr = node.child("discount_rate").mapping(*keys("rate"))
        rate = _number(dr, "value", dr.data["value"])
        if not -0.1 < rate < 1:
            raise dr.error(f"expected a real discount rate as a fraction a year, like 0.035 for 3.5%, got {rate:g}",
                           "value")
        rate_source = dr.text("source")
    if base not in years:
        raise node.error(f"expected one of the config's years ({years[0]} to {years[-1]}), got {excerpt(base)}", "base_year")
    indices = {}
    idx = node.child("indices")
    if idx.data is not None:
        if not isinstance(idx.data, dict):
            raise idx.error("expected a mapping of index name to {planned: INPUT, actual: INPUT}")
        for name in idx.keys("an index name"):
            item = idx.child(str(name)).mapping(*keys("index"))
            indices[str(name)] = InflationIndex(refs.get(item, "planned", lo=-0.5, hi=1),
                                                refs.get(item, "actual", lo=-0.5, hi=1))
    return PriceBase(node.choice("basis", ("nominal",)), base, refs.get(node, "deflator", lo=-0.5, hi=1), indices,
                     rate, rate_source)


def _demand(node: _Node, years, refs: _Refs) -> dict[str, Measure]:
    node.mapping(*keys("demand"))
    measures = node.child("measures")
    if not isinstance(measures.data, dict) or not measures.data:
        raise measures.error("expected a mapping of measures such as lac, cp and open_cases")
    first, last = parse_fy(years[0]), parse_fy(years[-1]) + 1
    out = {}
    for name in measures.keys("a measure name"):
        m = measures.child(str(name)).mapping(*keys("measure"))
        as_is = _points(m.child("as_is"))
        if not as_is.extrapolate and (as_is.march_years[0] > first or as_is.march_years[-1] < last):
            raise m.error(
                f"as-is points must cover 31 March {first} (the start of {years[0]}) to 31 March {last} "
                f"(the end of {years[-1]}); they cover {as_is.march_years[0]} to {as_is.march_years[-1]}", "as_is"
            )
        fsp = m.child("fsp").mapping(*keys("fsp"))
        method = fsp.choice("method", FSP_METHODS)
        if method == "stock_flow":
            fsp.mapping(("method", "effect", "leaving_rate"), ("method", "effect", "leaving_rate"))
            case = FspCase(method, refs.get(fsp, "effect", lo=0, hi=1), refs.get(fsp, "leaving_rate", lo=0, hi=1))
        elif method == "path":
            fsp.mapping(("method", "reduction", "path"), ("method", "reduction", "path"))
            path = _points(fsp.child("path"))
            if not path.extrapolate and (path.march_years[0] > first + 1 or path.march_years[-1] < last):
                raise fsp.error(f"the with-FSP path must cover 31 March {first + 1} to 31 March {last} (or set "
                                f"extrapolate: true); it covers {path.march_years[0]} to {path.march_years[-1]}", "path")
            reduction = refs.get(fsp, "reduction", lo=0, hi=1)
            if refs.inputs[reduction].dist.central <= 0:
                raise fsp.error(f"input {excerpt(reduction)} must have a central value above 0: the path's effect "
                                "is scaled by the sampled value against it", "reduction")
            case = FspCase(method, reduction, path=path)
        else:
            fsp.mapping(("method", "reduction", "floor"), ("method", "reduction"))
            floor = _points(fsp.child("floor")) if fsp.has("floor") else None
            case = FspCase(method, refs.get(fsp, "reduction", lo=0, hi=1), None, floor)
        title = m.text("title")
        level = None
        if m.has("level"):
            lv = m.child("level").mapping(*keys("level"))
            shock = refs.get(lv, "shock", ceiling=MAX_LOG_SHOCK)
            if not refs.inputs[shock].per_year:
                raise lv.error(f"input {excerpt(shock)} must be per_year: a shock is drawn for each year", "shock")
            level = Level(shock, refs.get(lv, "persistence", lo=0, hi=1, scalar=True),
                          refs.get(lv, "drift", scalar=True, required=False, ceiling=MAX_LOG_SHOCK))
        out[str(name)] = Measure(str(name), title, as_is, refs.get(m, "growth", lo=0, scalar=True, ceiling=MAX_FACTOR), case,
                                 m.text("short") if m.has("short") else title[0].lower() + title[1:], level)
    return out


def _placements(node: _Node, demand, refs: _Refs) -> Placements:
    node.mapping(*keys("placements"))
    measure = node.choice("measure", tuple(demand))
    types_node = node.child("types")
    if not isinstance(types_node.data, dict) or not types_node.data:
        raise types_node.error("expected a mapping of placement types (in-house fostering, agency fostering, ...)")
    types = []
    for name in types_node.keys("a placement type name"):
        t = types_node.child(str(name)).mapping(*keys("placement_type"))
        try:
            price_year = parse_fy(t.data["price_year"])
        except ValueError as exc:
            raise t.error(str(exc), "price_year") from None
        first = parse_fy(refs.years[0])
        if not first - MAX_PRICE_YEARS_BACK <= price_year <= parse_fy(refs.years[-1]):
            raise t.error(f"expected a price year from {fy_label(first - MAX_PRICE_YEARS_BACK)} to {refs.years[-1]} "
                          f"(unit costs are uplifted from it by inflation), got {excerpt(t.data['price_year'])}",
                          "price_year")
        types.append(PlacementType(str(name), t.text("title"), refs.get(t, "share", lo=0, hi=1, scalar=True),
                                   refs.get(t, "unit_cost", lo=0, scalar=True, ceiling=MAX_MONEY),
                                   refs.get(t, "cost_cv", lo=0, scalar=True, ceiling=MAX_FACTOR), price_year,
                                   refs.get(t, "avoided_share", lo=0, hi=1, scalar=True, required=False)))
    total = sum(refs.inputs[t.share].dist.central for t in types)
    if abs(total - 1) > 0.005:
        raise types_node.error(f"expected the central shares of the placement types to sum to 1, got {total:.4f}")
    given = [t for t in types if t.avoided_share]
    if given and len(given) < len(types):
        missing = next(t.name for t in types if not t.avoided_share)
        raise types_node.child(missing).error("expected avoided_share on every placement type or on none (the "
                                              "mix of the children FSP keeps out of care)", "avoided_share")
    if given:
        total = sum(refs.inputs[t.avoided_share].dist.central for t in types)
        if abs(total - 1) > 0.005:
            raise types_node.error(f"expected the central avoided shares of the placement types to sum to 1, got "
                                   f"{total:.4f}")
    return Placements(measure, tuple(types), refs.get(node, "inflation", lo=-0.5, hi=1, scalar=True),
                      node.boolean("budget_variance", False))


def _service(node: _Node, demand, refs: _Refs) -> Service:
    node.mapping(*keys("service"))
    return Service(node.choice("measure", tuple(demand)),
                   refs.get(node, "cases_per_team", lo=1e-9, scalar=True, ceiling=MAX_COUNT),
                   refs.get(node, "team_cost", lo=0, scalar=True, ceiling=MAX_MONEY))


def _workforce(node: _Node, refs: _Refs):
    node.mapping(*keys("workforce"))
    groups_node = node.child("groups")
    if not isinstance(groups_node.data, dict) or not groups_node.data:
        raise groups_node.error("expected a mapping of staff groups (social workers, adult-facing practitioners)")
    groups = []
    staff = ("fte", "cost_per_fte", "turnover", "vacancy", "agency_cover", "agency_premium", "recruitment_cost")
    for name in groups_node.keys("a staff group name"):
        g = groups_node.child(str(name)).mapping(*keys("staff_group"))
        bounds = {"turnover": (0, 1, None), "vacancy": (0, 1, None), "agency_cover": (0, 1, None),
                  "agency_premium": (0, None, MAX_FACTOR), "fte": (0, None, MAX_COUNT),
                  "cost_per_fte": (0, None, MAX_MONEY), "recruitment_cost": (0, None, MAX_MONEY)}
        refs_ = {k: refs.get(g, k, lo=bounds[k][0], hi=bounds[k][1], ceiling=bounds[k][2]) for k in staff}
        for k in ("fte", "cost_per_fte"):
            if refs.inputs[refs_[k]].per_year:
                raise g.error(f"input {excerpt(refs_[k])} is per_year, but this field takes one value per iteration", k)
        groups.append(WorkforceGroup(str(name), g.text("title"), weakens_effect=g.boolean("weakens_effect", False),
                                     **refs_))
    weakening = None
    if node.has("weakening"):
        w = node.child("weakening").mapping(*keys("weakening"))
        weakening = Weakening(refs.get(w, "threshold", lo=0, hi=1, scalar=True),
                              refs.get(w, "slope", lo=0, scalar=True, ceiling=MAX_FACTOR))
        if not any(g.weakens_effect for g in groups):
            raise node.error("weakening needs at least one group with weakens_effect: true", "weakening")
    return tuple(groups), weakening


def _costs(node: _Node, years, price_base: PriceBase, refs: _Refs):
    if not isinstance(node.data, dict):
        raise node.error("expected a mapping of named cost lines")
    out = []
    for name in node.keys("a cost line name"):
        c = node.child(str(name)).mapping(*keys("cost"))
        inflation = c.data.get("inflation")
        if inflation is not None and inflation not in price_base.indices:
            raise c.error(f"unknown inflation index {excerpt(inflation)}; price_base.indices defines "
                          f"{', '.join(price_base.indices) or 'none'}{did_you_mean(inflation, price_base.indices)}",
                          "inflation")
        out.append(CostLine(str(name), c.text("title"), _series(c.child("amounts"), years, nonnegative=True),
                            c.text("category"), c.boolean("budgeted", True), inflation,
                            refs.get(c, "multiplier", lo=0, scalar=True, required=False, ceiling=MAX_FACTOR)))
    return tuple(out)


def _savings(node: _Node, years, demand, placements, service, refs: _Refs):
    if not isinstance(node.data, dict):
        raise node.error("expected a mapping of named savings lines")
    drivers = tuple(demand) + (("placements",) if placements else ()) + (("service",) if service else ())
    out = []
    for name in node.keys("a savings line name"):
        s = node.child(str(name)).mapping(
            *keys("saving"))
        driver = s.choice("driver", drivers)
        if s.has("planned") == s.has("share"):
            raise s.error("give either 'planned' (the savings by year, scaled by the driver against the central "
                          "case) or 'share' (an input: the share of the driver's £ avoided that is saved)", "planned")
        planned = _series(s.child("planned"), years) if s.has("planned") else None
        if planned is not None and any(v > 0 for v in planned.values):
            raise s.error("expected savings as negative amounts (a saving reduces spend), got a positive amount",
                          "planned")
        share = refs.get(s, "share", lo=0, hi=1, scalar=True, required=False)
        if share is not None and driver not in MONEY_DRIVERS:
            raise s.error(f"a 'share' needs a money driver ({', '.join(MONEY_DRIVERS)}), got {excerpt(driver)}", "driver")
        from_budget = s.boolean("from_budget", False)
        if from_budget and planned is None:
            raise s.error("from_budget takes a 'planned' saving (the cut made to the budget)", "from_budget")
        if from_budget and driver == "placements" and not (placements and placements.budget_variance):
            raise s.error("a placement saving taken from the budget needs placements.budget_variance: true (the "
                          "placement budget set on the plan, whose variance carries the demand)", "from_budget")
        if from_budget and driver == "service":
            raise s.error("from_budget takes a placements or demand-measure driver; the service teams' cost follows "
                          "open cases already", "from_budget")
        out.append(SavingLine(str(name), s.text("title"), driver, s.boolean("cashable", True),
                              s.boolean("recurrent", True), planned, share,
                              refs.get(s, "multiplier", lo=0, scalar=True, required=False, ceiling=MAX_FACTOR),
                              from_budget))
    return tuple(out)


def _funding(node: _Node, years, refs: _Refs):
    if not isinstance(node.data, dict):
        raise node.error("expected a mapping of named funding streams")
    out = []
    for name in node.keys("a funding stream name"):
        f = node.child(str(name)).mapping(*keys("funding"))
        ends = refs.get(f, "ends", lo=0, hi=1, scalar=True)
        end_year = refs.get(f, "end_year", scalar=True)
        if not refs.inputs[end_year].year_valued:
            raise f.error(f"input {excerpt(end_year)} must be a discrete input over year labels like '2025/26'", "end_year")
        out.append(FundingStream(str(name), f.text("title"), _series(f.child("amounts"), years, nonnegative=True),
                                 ends, end_year, refs.get(f, "replaced", lo=0, hi=1, scalar=True)))
    return tuple(out)


def _mtfp(node: _Node, years) -> Mtfp:
    node.mapping(*keys("mtfp"))
    target = _series(node.child("target"), years)
    if any(v > 0 for v in target.values):
        raise node.error("expected the MTFP savings target as negative amounts (savings), got a positive amount",
                         "target")
    outside = _series(node.child("delivered_outside"), years, nonnegative=True) if node.has("delivered_outside") else None
    return Mtfp(target, outside)


def _run(node: _Node) -> RunDefaults:
    node.mapping(*keys("run"))
    return RunDefaults(node.integer("iterations", 1, MAX_ITERATIONS) if node.has("iterations") else 100_000,
                       node.integer("seed", 0, MAX_SEED) if node.has("seed") else 12345,
                       node.choice("sampler", SAMPLERS, "mc"))


