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

    @property
    def dims(self) -> tuple[str, ...]:
        return ("iteration", "year") + ((self.extra_dim,) if self.extra_dim else ())


COUNT_UNITS = "children at 31 March"

_ALL = (
    Variable("net_change_to_mtfp", "Net change to the MTFP (positive = pressure)", "GBP"),
    Variable("net_savings", "Net savings against the MTFP (= minus net change)", "GBP"),
    Variable("net_savings_real", "Net savings in real terms at price-base-year prices", "GBP"),
    Variable("net_savings_pv", "Present value of net savings: real terms discounted to the price base year", "GBP"),
    Variable("shortfall", "Shortfall against the MTFP target (positive part of the net change)", "GBP"),
    Variable("total_costs", "Gross programme costs, including workforce variance", "GBP"),
    Variable("total_savings", "Savings realised, cashable and cost avoidance (negative = saving)", "GBP"),
    Variable("cashable_savings", "Cashable savings realised (negative = saving)", "GBP"),
    Variable("grant_loss", "Funding lost and not replaced by partners", "GBP"),
    Variable("workforce_cost", "Cost of the staff groups modelled (employed, agency and recruitment)", "GBP"),
    Variable("workforce_cost_pressure",
             "Workforce cost above the budget set on the plan: pay, vacancy, agency and turnover", "GBP"),
    Variable("placement_cost_avoidance", "Placement costs avoided as FSP keeps children out of care", "GBP"),
    Variable("placement_budget_variance", "Placement spend above the budget set on the plan (more children, dearer "
             "placements or faster inflation than planned)", "GBP"),
    Variable("service_cost_avoidance", "Social work team costs avoided as open cases fall", "GBP"),
    Variable("effect_fraction", "Share of FSP's full effect in force (ramp and workforce weakening)", "1", "share"),
    Variable("net_change_by_line", "Contribution of each line to the net change to the MTFP", "GBP",
             extra_dim="line"),
    Variable("programme_costs", "The programme's own costs, whoever pays: project, posts, contracts, workforce "
             "above plan, the register's risks and mitigations", "GBP"),
    Variable("programme_benefits", "Costs the programme avoids (placements, teams, demand-led budgets), after the "
             "optimism-bias adjustment", "GBP"),
    Variable("programme_costs_pv", "Present value of the programme's own costs: real terms discounted to the price "
             "base year", "GBP"),
    Variable("programme_benefits_pv", "Present value of the costs the programme avoids, after optimism bias: real "
             "terms discounted to the price base year", "GBP"),
    Variable("net_change_inherent", "Net change to the MTFP before any mitigation (positive = pressure)", "GBP"),
    Variable("risk_occurred", "Risk occurred in the year, before mitigation (1 = yes)", "1", "flag", "risk"),
    Variable("risk_occurred_residual", "Risk occurred in the year, after mitigation (1 = yes)", "1", "flag", "risk"),
    Variable("risk_impact", "Impact of the risk on the MTFP before mitigation (threats positive)", "GBP",
             extra_dim="risk"),
    Variable("risk_impact_residual", "Impact of the risk on the MTFP after mitigation, excluding its cost", "GBP",
             extra_dim="risk"),
)
VARIABLES: dict[str, Variable] = {v.name: v for v in _ALL}
#: The register's per-risk outputs, in the order they are stored.
RISK_KEYS = tuple(v.name for v in _ALL if v.extra_dim == "risk")
#: Outputs that must lie in [0, 1].
SHARES = tuple(v.name for v in _ALL if v.kind in ("share", "flag"))


def describe(config, name: str) -> Variable:
    """The registry's entry for ``name``, or a demand count's (``lac_as_is``: "Children looked after, as is")."""
    if name in VARIABLES:
        return VARIABLES[name]
    for suffix, case in (("_as_is", "as is"), ("_fsp", "with FSP")):
        measure = name[: -len(suffix)]
        if name.endswith(suffix) and measure in config.demand:
            return Variable(name, f"{config.demand[measure].title}, {case}", COUNT_UNITS, "count")
    raise KeyError(f"no output variable {name!r}")
