"""The shape of a config file: every mapping it may hold, each field's kind, whether it is required, and
what it means. One place, read twice: the parsers take each mapping's allowed and required keys from here
(:func:`keys`), and :mod:`fsp_risk.config.jsonschema` turns it into the JSON Schema that editors use to
complete and check a config as it is typed. The parsers then check what a schema cannot: ranges, references
between sections, sums and the model's bounds.
"""
from __future__ import annotations

from dataclasses import dataclass

from fsp_risk.config.distributions import KINDS
from fsp_risk.config.limits import EVIDENCE, FSP_METHODS, SAMPLERS


@dataclass(frozen=True)
class Field:
    """One field of a mapping.

    ``kind`` is one of: ``text``, ``number``, ``integer``, ``boolean``, ``date`` (yyyy-mm-dd), ``year`` (a
    financial year label like 2025/26), ``years`` (a list of them), ``input`` (the name of an input defined under
    ``inputs``), ``number_or_year``, ``numbers_or_years`` (a list), ``numbers``, ``texts``, ``matrix`` (a list
    of lists of numbers), ``bands`` (five [low, high] pairs), ``any_mapping``; or, with ``of`` naming another shape: ``mapping`` (one of it),
    ``named`` (names mapped to it), ``list`` (a list of it), ``named_text`` (names mapped to texts),
    ``named_value`` (input names mapped to a number or year label).
    """

    kind: str
    doc: str
    required: bool = False
    of: str | None = None
    choices: tuple = ()


def _f(kind: str, doc: str, required: bool = False, of: str | None = None, choices: tuple = ()) -> Field:
    return Field(kind, doc, required, of, choices)


_SOURCE = "Where the figure comes from: the paper and paragraph, or the public statistic and its year."

#: Every mapping a config may hold, by shape name; ``config`` is the file itself.
SHAPES: dict[str, dict[str, Field]] = {
    "config": {
        "schema_version": _f("integer", "The config format's version: 1.", True),
        "name": _f("text", "Short name (letters, digits, '-', '_', '.'); it starts each run folder's name.", True),
        "title": _f("text", "What the config models, as a report's title.", True),
        "council": _f("text", "The council."),
        "papers": _f("texts", "The council papers the config is sourced from."),
        "years": _f("years", "The MTFP's financial years, consecutive, like ['2024/25', '2025/26'].", True),
        "run": _f("mapping", "Default iterations, seed and sampler of a run.", of="run"),
        "price_base": _f("mapping", "Cash terms, the price base year, the deflator and inflation indices.", True,
                         of="price_base"),
        "programme": _f("mapping", "When FSP goes live and how fast its effect builds.", True, of="programme"),
        "inputs": _f("named", "The assumption book: every uncertain input, its distribution and provenance.", True,
                     of="input"),
        "demand": _f("mapping", "The demand measures (children looked after, CP plans, open cases).", True,
                     of="demand"),
        "placements": _f("mapping", "Placement types, their shares and unit costs.", of="placements"),
        "service": _f("mapping", "Social work teams sized by open cases.", of="service"),
        "workforce": _f("mapping", "Staff groups: FTE, cost, turnover, vacancies and agency cover.", of="workforce"),
        "costs": _f("named", "The programme's cost lines.", of="cost"),
        "savings": _f("named", "The savings counted against the MTFP.", of="saving"),
        "funding": _f("named", "Grants and contributions that may end.", of="funding"),
        "mtfp": _f("mapping", "The MTFP savings target.", True, of="mtfp"),
        "risk_register": _f("mapping", "The risk register: scoring, risks and mitigations.", of="risk_register"),
        "common_drivers": _f("named_text", "Common drivers (name: what it stands for) that inputs and risks load on."),
        "correlation": _f("mapping", "Rank correlations between inputs (Iman-Conover).", of="correlation"),
        "scenarios": _f("named", "Named scenarios: fields set and inputs pinned.", of="scenario"),
        "decision_date": _f("date", "The date of the decision the config supports: later evidence is flagged."),
        "value_for_money": _f("mapping", "The value-for-money view's optimism bias.", of="value_for_money"),
    },
    "run": {
        "iterations": _f("integer", "Iterations of a run."),
        "seed": _f("integer", "The random seed: the same seed gives the same numbers."),
        "sampler": _f("text", "How the uniforms are drawn.", choices=SAMPLERS),
    },
    "price_base": {
        "basis": _f("text", "Money is in cash (nominal) terms.", True, choices=("nominal",)),
        "base_year": _f("year", "The price base year of the real-terms figures.", True),
        "deflator": _f("input", "GDP deflator input [fraction a year].", True),
        "indices": _f("named", "Inflation indices cost lines may follow.", of="index"),
        "discount_rate": _f("mapping", "The real discount rate (Green Book 3.5% if not given).", of="rate"),
    },
    "index": {
        "planned": _f("input", "Inflation the budget assumed [fraction a year].", True),
        "actual": _f("input", "Inflation as it turns out [fraction a year].", True),
    },
    "rate": {
        "value": _f("number", "The rate as a fraction a year (0.035 for 3.5%).", True),
        "source": _f("text", _SOURCE, True),
    },
    "programme": {
        "go_live": _f("date", "The date FSP goes live.", True),
        "go_live_source": _f("text", _SOURCE, True),
        "delay_months": _f("input", "Delay to go-live [months].", True),
        "ramp_months": _f("input", "Months for the effect to build to full.", True),
        "effect_scales": _f("list", "Inputs that scale FSP's effect, in some years or all.", of="effect_scale"),
    },
    "effect_scale": {
        "input": _f("input", "An input in [0, 1] that scales FSP's effect.", True),
        "years": _f("years", "The years it applies in (all if not given)."),
    },
    "input": {
        "title": _f("text", "The input in words.", True),
        "units": _f("text", "Its units, like 'fraction/yr' or 'GBP'.", True),
        "dist": _f("text", "Its distribution.", True, choices=KINDS),
        "central": _f("number_or_year", "The value a deterministic run uses, if not the distribution's own."),
        "value": _f("number", "A fixed distribution's value."),
        "low": _f("number", "Lowest value (uniform, triangular, PERT; a beta's lower end)."),
        "mode": _f("number", "Most likely value (triangular, PERT)."),
        "high": _f("number", "Highest value (uniform, triangular, PERT; a beta's upper end)."),
        "p10": _f("number", "An expert's 10th percentile (triangular, PERT), instead of low/mode/high."),
        "p50": _f("number", "An expert's median (triangular, PERT)."),
        "p90": _f("number", "An expert's 90th percentile (triangular, PERT)."),
        "mean": _f("number", "Mean (normal, lognormal)."),
        "sd": _f("number", "Standard deviation (normal, lognormal)."),
        "min": _f("number", "A normal's lower truncation."),
        "max": _f("number", "A normal's upper truncation."),
        "alpha": _f("number", "A beta's first shape parameter."),
        "beta": _f("number", "A beta's second shape parameter."),
        "p": _f("number", "A Bernoulli's chance of 1."),
        "values": _f("numbers_or_years", "A discrete distribution's values (numbers, or year labels)."),
        "probs": _f("numbers", "A discrete distribution's probabilities, summing to 1."),
        "per_year": _f("boolean", "Drawn afresh for each year (true) or once for the horizon (false)."),
        "source": _f("text", _SOURCE, True),
        "owner": _f("text", "Who owns the assumption.", True),
        "evidence": _f("text", "Evidence rating.", True, choices=EVIDENCE),
        "date": _f("date", "The date of the evidence.", True),
        "review": _f("date", "When the assumption is next reviewed.", True),
        "driver": _f("mapping", "A common driver the input loads on.", of="driver"),
        "year_to_year": _f("mapping", "A per-year input's persistence from one year to the next.", of="year_to_year"),
    },
    "driver": {
        "name": _f("text", "A driver from common_drivers.", True),
        "loading": _f("number", "The loading, strictly between -1 and 1.", True),
    },
    "year_to_year": {
        "value": _f("number", "Correlation of one year's draw with the next's, strictly between -1 and 1.", True),
        "source": _f("text", _SOURCE, True),
    },
    "demand": {
        "measures": _f("named", "The demand measures by name (lac, cp, open_cases).", True, of="measure"),
    },
    "measure": {
        "title": _f("text", "The measure in words.", True),
        "short": _f("text", "A short plural name for chart titles ('children in care')."),
        "as_is": _f("mapping", "The projection without FSP [count at 31 March].", True, of="points"),
        "growth": _f("input", "Demand growth multiplier on the projection [ratio].", True),
        "fsp": _f("mapping", "How the with-FSP trajectory is made from the as-is one.", True, of="fsp"),
        "level": _f("mapping", "Year-to-year noise around the projection (log scale).", of="level"),
    },
    "fsp": {
        "method": _f("text", "stock_flow, year_on_year or path.", True, choices=FSP_METHODS),
        "effect": _f("input", "Share of entries avoided (stock_flow)."),
        "reduction": _f("input", "Reduction against the as-is case (year_on_year, path)."),
        "leaving_rate": _f("input", "Share of the stock leaving each year (stock_flow)."),
        "floor": _f("mapping", "A floor the with-FSP count does not go below (year_on_year).", of="points"),
        "path": _f("mapping", "The paper's with-FSP line (path).", of="points"),
    },
    "level": {
        "shock": _f("input", "A per-year input of log shocks.", True),
        "persistence": _f("input", "Share of a shock that persists into the next year.", True),
        "drift": _f("input", "An error in the projection's slope [log change a year]."),
    },
    "placements": {
        "measure": _f("text", "The demand measure placements follow.", True),
        "types": _f("named", "Placement types.", True, of="placement_type"),
        "inflation": _f("input", "Placement cost inflation [fraction a year].", True),
        "budget_variance": _f("boolean", "Cost placements against a budget set on the plan."),
    },
    "placement_type": {
        "title": _f("text", "The placement type in words.", True),
        "share": _f("input", "Share of placements of this type (central shares sum to 1).", True),
        "avoided_share": _f("input", "Share of the avoided placements of this type."),
        "unit_cost": _f("input", "Mean cost of a child-year [GBP].", True),
        "cost_cv": _f("input", "Spread of child-years' costs (coefficient of variation).", True),
        "price_year": _f("year", "The financial year the unit cost is priced in.", True),
    },
    "service": {
        "measure": _f("text", "The demand measure the teams follow.", True),
        "cases_per_team": _f("input", "Open cases a team holds.", True),
        "team_cost": _f("input", "Cost of a team a year [GBP].", True),
    },
    "workforce": {
        "groups": _f("named", "Staff groups.", True, of="staff_group"),
        "weakening": _f("mapping", "How turnover above a threshold weakens FSP's effect.", of="weakening"),
    },
    "staff_group": {
        "title": _f("text", "The group in words.", True),
        "weakens_effect": _f("boolean", "Its turnover weakens FSP's effect."),
        "fte": _f("input", "Funded FTE.", True),
        "cost_per_fte": _f("input", "Cost of an FTE a year [GBP].", True),
        "turnover": _f("input", "Turnover [fraction a year].", True),
        "vacancy": _f("input", "Vacancy rate [fraction].", True),
        "agency_cover": _f("input", "Share of vacancies covered by agency staff.", True),
        "agency_premium": _f("input", "Agency premium over the FTE cost [ratio].", True),
        "recruitment_cost": _f("input", "Cost of recruiting one leaver's replacement [GBP].", True),
    },
    "weakening": {
        "threshold": _f("input", "Turnover above which the effect weakens [fraction a year].", True),
        "slope": _f("input", "Effect lost per unit of turnover above the threshold.", True),
    },
    "cost": {
        "title": _f("text", "The cost line in words.", True),
        "amounts": _f("mapping", "Amounts by financial year [GBP].", True, of="series"),
        "category": _f("text", "Its category (project, adult-facing practitioners, ...).", True),
        "budgeted": _f("boolean", "In the budget already (true) or a pressure (false)."),
        "inflation": _f("text", "An index from price_base.indices the amounts follow."),
        "multiplier": _f("input", "An input that scales the amounts [ratio]."),
    },
    "saving": {
        "title": _f("text", "The saving in words.", True),
        "driver": _f("text", "What drives it: a demand measure, placements or service.", True),
        "cashable": _f("boolean", "Cashable (true) or cost avoidance (false).", True),
        "recurrent": _f("boolean", "Recurs each year.", True),
        "planned": _f("mapping", "The planned saving by year [GBP, negative], scaled by its driver.", of="series"),
        "share": _f("input", "Or: the share of the driver's £ avoided that is saved."),
        "multiplier": _f("input", "An input that scales the saving [ratio]."),
        "from_budget": _f("boolean", "A cut made to the budget, whose variance carries the demand."),
    },
    "funding": {
        "title": _f("text", "The funding stream in words.", True),
        "amounts": _f("mapping", "Amounts by financial year [GBP].", True, of="series"),
        "ends": _f("input", "Whether it ends (Bernoulli).", True),
        "end_year": _f("input", "The first year without it (discrete over year labels).", True),
        "replaced": _f("input", "Share of the lost funding replaced.", True),
    },
    "mtfp": {
        "target": _f("mapping", "The MTFP savings target by year [GBP, negative].", True, of="series"),
        "delivered_outside": _f("mapping", "Savings delivered outside the model [GBP].", of="series"),
    },
    "risk_register": {
        "scoring": _f("mapping", "The register's scoring scheme.", True, of="scoring"),
        "risks": _f("list", "The risks.", of="risk"),
        "mitigations": _f("list", "The mitigations.", of="mitigation"),
        "reserve_confidence": _f("number", "Confidence the risk reserve covers (0.8 usual)."),
        "import_csv": _f("mapping", "Risks from a council register CSV.", of="import_csv"),
    },
    "scoring": {
        "impact_thresholds": _f("numbers", "£ lower bounds of the impact scores, lowest first.", True),
        "probability_bands": _f("texts", "Probability band names, lowest first.", True),
        "probability_thresholds": _f("numbers", "Lower bound of each band's probability, from 0.", True),
        "source": _f("text", _SOURCE, True),
    },
    "risk": {
        "id": _f("text", "The risk's id (R1, FIN-03).", True),
        "title": _f("text", "The risk in words.", True),
        "owner": _f("text", "Who owns it.", True),
        "category": _f("text", "Its category.", True),
        "type": _f("text", "threat or opportunity.", True, choices=("threat", "opportunity")),
        "likelihood": _f("input", "Chance it occurs (a year, or over the horizon)."),
        "basis": _f("text", "per_year or horizon.", choices=("per_year", "horizon")),
        "years": _f("years", "Years in which it can occur."),
        "impact": _f("input", "Its cost when it occurs [GBP]."),
        "stated": _f("mapping", "The register's own scores, to compare.", of="stated"),
        "driver": _f("mapping", "A common driver it loads on.", of="driver"),
        "link": _f("named_value", "Model inputs and the values that switch the risk off."),
    },
    "stated": {
        "impact": _f("integer", "The register's impact score.", True),
        "probability": _f("text", "The register's probability band.", True),
    },
    "mitigation": {
        "id": _f("text", "The mitigation's id.", True),
        "title": _f("text", "The action in words.", True),
        "risks": _f("texts", "The ids of the risks it mitigates.", True),
        "cost": _f("mapping", "What it costs by year [GBP].", of="series"),
        "likelihood_factor": _f("input", "Factor on the likelihood."),
        "impact_factor": _f("input", "Factor on the impact."),
        "replace": _f("named_text", "Inputs replaced by others after mitigation."),
    },
    "import_csv": {
        "file": _f("text", "The register CSV, relative to the config.", True),
        "likelihood_bands": _f("bands", "Five [low, high] probability bands for scores 1-5.", True),
        "impact_bands": _f("bands", "Five [low, high] £ bands for scores 1-5.", True),
        "source": _f("text", _SOURCE, True),
        "date": _f("date", "The date of the register.", True),
        "review": _f("date", "When it is next reviewed.", True),
    },
    "correlation": {
        "inputs": _f("texts", "The correlated inputs.", True),
        "matrix": _f("matrix", "Their rank (Spearman) correlation matrix.", True),
        "repair": _f("boolean", "Repair a matrix that is not positive semi-definite to the nearest valid one."),
        "source": _f("text", _SOURCE, True),
    },
    "scenario": {
        "title": _f("text", "The scenario in words.", True),
        "source": _f("text", _SOURCE, True),
        "set": _f("any_mapping", "Fields set, by dotted path ('inputs.x.mode'); null removes one."),
        "pin": _f("named_value", "Inputs pinned to a value in every iteration."),
    },
    "value_for_money": {
        "optimism_bias": _f("input", "Share by which benefits are cut for optimism bias.", True),
    },
    "series": {
        "values": _f("any_mapping", "Amounts by financial year, like {2025/26: 200000}.", True),
        "source": _f("text", _SOURCE, True),
    },
    "points": {
        "at_31_march": _f("any_mapping", "Counts at 31 March by calendar year, like {2025: 760}.", True),
        "source": _f("text", _SOURCE, True),
        "extrapolate": _f("boolean", "Extend the points beyond their years."),
    },
}


#: Distribution fields of an input (the keys an input's mapping may hold besides its assumption book).
DIST_KEYS = ("dist", "central", "value", "low", "mode", "high", "p10", "p50", "p90", "mean", "sd", "min", "max",
             "alpha", "beta", "p", "values", "probs")
assert set(DIST_KEYS) <= set(SHAPES["input"])


def keys(shape: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The allowed and required keys of a shape, as :meth:`fsp_risk.config.fields._Node.mapping` takes them."""
    fields = SHAPES[shape]
    return tuple(fields), tuple(k for k, f in fields.items() if f.required)
