"""The stored output variables, named once: long name, units, kind and any extra dimension.

The model, the scenario runs, the results store and the invariants all read this registry, so a new
output is described in one place. Every variable has the dimensions ``(iteration, year)``, plus
``line`` or ``risk`` where ``extra_dim`` says so. Demand counts (``<measure>_as_is``, ``<measure>_fsp``)
take their names from the config's measures (:func:`describe`).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    long_name: str
    units: str
    #: "money" [GBP], "count" [children], "share" [0..1] or "flag" (0 or 1, stored as int8).
    kind: str = "money"
    #: The third dimension: "line" (the lines of the net change) or "risk" (the register's risks).
    extra_dim: str | None = None
    #: What the config must have for the variable to exist (see :func:`present`); None: always.
    needs: str | None = None
    #: False for a variable computed from the stored ones when summarised.
    stored: bool = True
    #: Its row's place in summary.csv (1 first); None: not summarised.
    summary: int | None = None
    #: What a positive value means in every output (tables, workbook, report): the sign convention,
    #: carried into each table beside the figures. Savings are stored negative (as a change to the MTFP)
    #: and reported positive: ``reported`` is the factor from stored to reported.
    positive: str = "pressure on the MTFP"
    reported: float = 1.0
    #: In a run folder, kept in ``detail.nc`` (only with ``--keep all``), not ``results.nc``: a breakdown by
    #: line or risk, or a figure computed exactly from the variables ``results.nc`` keeps.
    detail: bool = False

    @property
    def prudent_percentile(self) -> int:
        """The percentile that is the prudent 80%-confidence figure: in 80% of outcomes no worse than it.
        The 80th where a higher value is worse (a pressure, a cost), the 20th where it is better (a saving)."""
        return 20 if self.positive in GOOD_WHEN_HIGH else 80

    @property
    def dims(self) -> tuple[str, ...]:
        return ("iteration", "year") + ((self.extra_dim,) if self.extra_dim else ())


COUNT_UNITS = "children at 31 March"
#: Sign conventions under which a higher value is better (the prudent figure is then the 20th percentile).
GOOD_WHEN_HIGH = ("saving against the MTFP", "saving", "cost avoided")

_ALL = (
    # In the order results.nc stores them (after the demand counts); ``summary`` is the row order of
    # summary.csv.
    Variable("effect_fraction", "Share of FSP's full effect in force (ramp and workforce weakening)", "1", "share",
             positive="share in force"),
    Variable("placement_cost_avoidance", "Placement costs avoided as FSP keeps children out of care", "GBP",
             needs="placements", summary=13, positive="cost avoided"),
    Variable("placement_budget_variance", "Placement spend above the budget set on the plan (more children, dearer "
             "placements or faster inflation than planned)", "GBP", needs="placement_budget", summary=12,
             positive="spend above the budget"),
    Variable("service_cost_avoidance", "Social work team costs avoided as open cases fall", "GBP", needs="service",
             summary=14, positive="cost avoided"),
    Variable("workforce_cost", "Cost of the staff groups modelled (employed, agency and recruitment)", "GBP",
             needs="workforce", positive="cost"),
    Variable("workforce_cost_pressure",
             "Workforce cost above the budget set on the plan: pay, vacancy, agency and turnover", "GBP", summary=11,
             positive="spend above the budget"),
    Variable("grant_loss", "Funding lost and not replaced by partners", "GBP", summary=10, positive="funding lost"),
    Variable("total_costs", "Gross programme costs, including workforce variance", "GBP", summary=6,
             positive="cost or pressure (negative: spending below budgets)"),
    Variable("total_savings", "Savings realised, cashable and cost avoidance (stored negative = saving)", "GBP",
             summary=7, positive="saving", reported=-1.0),
    Variable("cashable_savings", "Cashable savings realised (stored negative = saving)", "GBP", summary=8,
             positive="saving", reported=-1.0),
    Variable("net_change_to_mtfp", "Net change to the MTFP (positive = pressure)", "GBP", summary=1),
    Variable("net_savings", "Net savings against the MTFP (= minus net change)", "GBP", summary=2,
             positive="saving against the MTFP", detail=True),
    Variable("net_savings_real", "Net savings in real terms at price-base-year prices", "GBP", summary=3,
             positive="saving against the MTFP", detail=True),
    Variable("net_savings_pv", "Present value of net savings: real terms discounted to the price base year", "GBP",
             summary=4, positive="saving against the MTFP", detail=True),
    Variable("shortfall", "Shortfall against the MTFP target (positive part of the net change)", "GBP", summary=5,
             positive="shortfall (the total row adds each year's: not the total's shortfall)", detail=True),
    Variable("programme_costs", "The programme's own costs, whoever pays: project, posts, contracts, workforce "
             "above plan, the register's risks and mitigations", "GBP", positive="cost"),
    Variable("programme_benefits", "Costs the programme avoids (placements, teams, demand-led budgets), after the "
             "optimism-bias adjustment", "GBP", positive="cost avoided"),
    Variable("programme_costs_pv", "Present value of the programme's own costs: real terms discounted to the price "
             "base year", "GBP", positive="cost", detail=True),
    Variable("programme_benefits_pv", "Present value of the costs the programme avoids, after optimism bias: real "
             "terms discounted to the price base year", "GBP", positive="cost avoided", detail=True),
    Variable("net_change_by_line", "Contribution of each line to the net change to the MTFP", "GBP",
             extra_dim="line", detail=True),
    Variable("risk_occurred", "Risk occurred in the year, before mitigation (1 = yes)", "1", "flag", "risk",
             needs="register", positive="occurred", detail=True),
    Variable("risk_occurred_residual", "Risk occurred in the year, after mitigation (1 = yes)", "1", "flag", "risk",
             needs="register", positive="occurred", detail=True),
    Variable("risk_impact", "Impact of the risk on the MTFP before mitigation (threats positive)", "GBP",
             extra_dim="risk", needs="register", detail=True),
    Variable("risk_impact_residual", "Impact of the risk on the MTFP after mitigation, excluding its cost", "GBP",
             extra_dim="risk", needs="register", detail=True),
    Variable("net_change_inherent", "Net change to the MTFP before any mitigation (positive = pressure)", "GBP",
             needs="register"),
    # Summarised, not stored: total savings less cashable savings.
    Variable("cost_avoidance", "Savings realised that are cost avoidance, not cashable (stored negative = saving)",
             "GBP", stored=False, summary=9, positive="saving", reported=-1.0),
)
VARIABLES: dict[str, Variable] = {v.name: v for v in _ALL}
#: The register's per-risk outputs, in the order they are stored.
RISK_KEYS = tuple(v.name for v in _ALL if v.extra_dim == "risk")
#: Outputs that must lie in [0, 1].
SHARES = tuple(v.name for v in _ALL if v.kind in ("share", "flag"))
#: Kept in a run folder's detail.nc, not results.nc (see ``Variable.detail``).
DETAIL = tuple(v.name for v in _ALL if v.detail)
#: The variables summarised in summary.csv, in the order a finance reader expects.
SUMMARY_VARIABLES = tuple(v.name for v in sorted((v for v in _ALL if v.summary), key=lambda v: v.summary))

_NEEDS = {
    "placements": lambda c: c.placements is not None,
    "placement_budget": lambda c: c.placements is not None and c.placements.budget_variance,
    "service": lambda c: c.service is not None,
    "workforce": lambda c: bool(c.workforce),
    "register": lambda c: c.risk_register is not None,
}


def present(config, v: Variable) -> bool:
    """Whether a run of ``config`` has the variable (placement outputs need placements, and so on)."""
    return v.needs is None or _NEEDS[v.needs](config)


def stored_variables(config) -> list[str]:
    """The variables a run of ``config`` stores, in order: the demand counts, then the registry's."""
    counts = [f"{m}_{case}" for m in config.demand for case in ("as_is", "fsp")]
    return counts + [v.name for v in _ALL if v.stored and present(config, v)]


def describe(config, name: str) -> Variable:
    """The registry's entry for ``name``, or a demand count's (``lac_as_is``: "Children looked after, as is")."""
    if name in VARIABLES:
        return VARIABLES[name]
    for suffix, case in (("_as_is", "as is"), ("_fsp", "with FSP")):
        measure = name[: -len(suffix)]
        if name.endswith(suffix) and measure in config.demand:
            return Variable(name, f"{config.demand[measure].title}, {case}", COUNT_UNITS, "count")
    raise KeyError(f"no output variable {name!r}")
