"""The typed config: frozen dataclasses that everything after validation reads (nothing downstream re-validates).

Over 400 lines: one dataclass per section of a config, with its fields' units, in one place, so that a
reader sees everything a config can say together.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np

from fsp_risk.config.distributions import Distribution
from fsp_risk.config.years import parse_fy


# --------------------------------------------------------------------------- typed config objects
@dataclass(frozen=True)
class Input:
    """One entry of the assumption book: an input, its distribution and its provenance."""

    name: str
    title: str
    units: str
    dist: Distribution
    per_year: bool
    source: str
    owner: str
    evidence: str
    date: dt.date
    review: dt.date
    #: True for a discrete input whose values are year labels (stored as horizon indices).
    year_valued: bool = False
    #: A common driver this input loads on (Gaussian copula), and the loading in (-1, 1).
    driver: str | None = None
    loading: float = 0.0
    #: A per-year input's correlation from one year to the next (AR(1) on normal scores), and its source.
    year_to_year: float = 0.0
    year_to_year_source: str = ""


@dataclass(frozen=True)
class YearSeries:
    """Money by financial year [£], aligned to the config's years (0 where the config gives none)."""

    values: tuple[float, ...]
    source: str


@dataclass(frozen=True)
class Points:
    """Projection points: counts at 31 March of calendar years [children]."""

    march_years: tuple[int, ...]
    values: tuple[float, ...]
    source: str
    extrapolate: bool = False


@dataclass(frozen=True)
class FspCase:
    """How the with-FSP trajectory of a measure is made from its as-is trajectory."""

    method: str
    effect: str
    leaving_rate: str | None = None
    floor: Points | None = None
    #: The paper's with-FSP line (method ``path``): counts at 31 March the programme is planned to reach.
    path: Points | None = None


@dataclass(frozen=True)
class Level:
    """The stochastic level of a measure's as-is path around its projection, on the log scale (see
    :mod:`fsp_risk.analysis.calibrate`): a per-year input of shocks, the share of a shock that persists into the
    next year, and an optional error in the projection's slope [log change a year]."""

    shock: str
    persistence: str
    drift: str | None = None


@dataclass(frozen=True)
class Measure:
    """A demand measure (children looked after, CP plans, open cases): its as-is projection [children at
    31 March], growth, the with-FSP case and the level process; input fields hold input names."""

    name: str
    title: str
    as_is: Points
    growth: str
    fsp: FspCase
    #: A short plural name for chart titles ("children in care", "CP plans").
    short: str = ""
    #: Year-to-year noise around the projection (None: the projection's path exactly).
    level: Level | None = None


@dataclass(frozen=True)
class EffectScale:
    """An input that scales FSP's effect [ratio], in the given year indices only (all when empty)."""

    input: str
    years: tuple[int, ...]


@dataclass(frozen=True)
class Programme:
    """When FSP goes live and how fast its effect builds: go-live date, delay and ramp-up [months]."""

    go_live: dt.date
    go_live_source: str
    delay_months: str
    ramp_months: str
    effect_scales: tuple[EffectScale, ...] = ()
    #: True in the counterfactual without the programme: FSP has no effect, demand stays as is.
    switched_off: bool = False


@dataclass(frozen=True)
class CostLine:
    """A programme cost [GBP a year by year], budgeted or not, with any inflation index and multiplier input."""

    name: str
    title: str
    amounts: YearSeries
    category: str
    budgeted: bool
    inflation: str | None
    multiplier: str | None


@dataclass(frozen=True)
class SavingLine:
    """A saving counted against the MTFP: planned [GBP a year] and scaled by its driver, or a share of it."""

    name: str
    title: str
    driver: str
    cashable: bool
    recurrent: bool
    planned: YearSeries | None
    share: str | None
    multiplier: str | None
    #: The planned saving is taken from a budget set on the plan: it is realised as planned, and the
    #: driver above or below its planned level is a pressure or a relief (see :func:`fsp_risk.model.rollup.rollup`).
    from_budget: bool = False


@dataclass(frozen=True)
class FundingStream:
    """A grant or contribution [GBP a year] that may end (``ends``, ``end_year``) and be part replaced."""

    name: str
    title: str
    amounts: YearSeries
    ends: str
    end_year: str
    replaced: str


@dataclass(frozen=True)
class WorkforceGroup:
    """A group of staff [FTE, GBP per FTE a year] with its turnover, vacancy, agency cover and premium."""

    name: str
    title: str
    fte: str
    cost_per_fte: str
    turnover: str
    vacancy: str
    agency_cover: str
    agency_premium: str
    recruitment_cost: str
    weakens_effect: bool


@dataclass(frozen=True)
class Weakening:
    """How staff turnover above a threshold weakens FSP's effect [slope per point of turnover]."""

    threshold: str
    slope: str


@dataclass(frozen=True)
class PlacementType:
    """A type of placement: its share of children in care, unit cost [GBP a year], spread and price year."""

    name: str
    title: str
    share: str
    unit_cost: str
    cost_cv: str
    #: Start year of the financial year whose prices ``unit_cost`` is in.
    price_year: int
    #: Share of the children FSP keeps out of care who would have had this placement (entrants, not the
    #: children already in care); None: the same as ``share``.
    avoided_share: str | None = None


@dataclass(frozen=True)
class Placements:
    """Placement costs of the children in care of ``measure``, by type, with the inflation index."""

    measure: str
    types: tuple[PlacementType, ...]
    inflation: str
    #: Children in care above the central forecast cost money against a budget set on that forecast.
    budget_variance: bool = False


@dataclass(frozen=True)
class Service:
    """Social work teams sized to the open cases of ``measure``: cases per team and a team's cost [GBP a year]."""

    measure: str
    cases_per_team: str
    team_cost: str


@dataclass(frozen=True)
class InflationIndex:
    """An index's planned and actual annual rates [inputs, a year]: the surprise between them is a pressure."""

    planned: str
    actual: str


#: The default discount rate's source: HM Treasury's social time preference rate.
GREEN_BOOK_RATE_SOURCE = ("HM Treasury, The Green Book (2022), annex A6 (A6.7) and table 8: social time preference "
                          "rate 3.5% a year, real, for years 0 to 30")


@dataclass(frozen=True)
class PriceBase:
    """Prices and discounting: the base year, the deflator, inflation indices and the Green Book rate."""

    basis: str
    base_year: str
    deflator: str
    indices: dict[str, InflationIndex]
    #: Real discount rate for present values [fraction/yr] and where it comes from.
    discount_rate: float = 0.035
    discount_source: str = GREEN_BOOK_RATE_SOURCE


@dataclass(frozen=True)
class Mtfp:
    """The MTFP savings target [GBP a year, negative = saving] and any savings delivered outside the programme."""

    target: YearSeries
    delivered_outside: YearSeries | None


@dataclass(frozen=True)
class Mitigation:
    """An action against a risk: its cost, and factors on the risk's likelihood and impact."""

    id: str
    title: str
    risks: tuple[str, ...]
    cost: YearSeries | None
    likelihood_factor: str | None
    impact_factor: str | None
    #: Inputs redrawn from another input's distribution on their own random stream, (input, replacement).
    replace: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Risk:
    """A risk on the register, evaluated by the simulation."""

    id: str
    title: str
    owner: str
    category: str
    kind: str  # "threat" or "opportunity"
    likelihood: str | None  # input: probability of occurring (per year or over the horizon)
    basis: str  # "per_year" or "horizon"
    years: tuple[int, ...]  # indices of the years in which it can occur
    impact: str | None  # input: £ per occurrence [GBP], per year if the input is per_year
    stated_impact: int | None
    stated_probability: str | None
    driver: str | None
    loading: float
    #: The mitigations that act on this risk (from the register's mitigations list).
    mitigations: tuple[Mitigation, ...]
    #: For a risk linked to the model: (input, value that switches the risk off) pairs. Its impact is the
    #: net change with the inputs as sampled minus with them off; likelihood and impact are then None.
    link: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Scoring:
    """How a simulated £ impact and probability map to the register's scores and bands."""

    impact_thresholds: tuple[float, ...]  # £ lower bound of scores 1, 2, ... [GBP]
    probability_bands: tuple[str, ...]
    probability_thresholds: tuple[float, ...]  # lower bound of each band [probability]
    source: str


@dataclass(frozen=True)
class RiskRegister:
    """The risk register: its scoring scheme, risks, mitigations and the confidence of the reserve."""

    scoring: Scoring
    risks: tuple[Risk, ...]
    mitigations: tuple[Mitigation, ...]
    #: Confidence at which the risk-based reserve covers the register's exposure [probability].
    reserve_confidence: float = 0.8


@dataclass(frozen=True)
class Correlation:
    """Target rank correlations between named inputs, imposed by Iman–Conover (marginals kept exactly)."""

    inputs: tuple[str, ...]
    #: The rank (Spearman) correlations as given, or as repaired when ``repaired`` is set.
    rank: tuple[tuple[float, ...], ...]
    source: str
    #: What the repair changed, when the given matrix was not positive semi-definite; None otherwise.
    repaired: str | None = None

    @property
    def normal(self):
        """The product-moment correlations of normal scores that give these rank correlations."""
        return 2.0 * np.sin(np.pi * np.asarray(self.rank) / 6.0)


@dataclass(frozen=True)
class Scenario:
    """A named variant of a config: some fields changed and some inputs pinned, run on the same random
    numbers as the config itself and measured against the same plan."""

    name: str
    title: str
    source: str
    #: The config with the scenario's ``set`` changes applied, validated like any config.
    config: "Config"
    #: Inputs pinned to one value in every iteration.
    pins: dict[str, float]


@dataclass(frozen=True)
class RunDefaults:
    """The run's defaults: iterations, root seed and sampler."""

    iterations: int
    seed: int
    sampler: str


@dataclass(frozen=True)
class Config:
    """A validated scenario config."""

    path: str
    text: str
    name: str
    title: str
    council: str
    years: tuple[str, ...]
    inputs: dict[str, Input]
    programme: Programme
    price_base: PriceBase
    demand: dict[str, Measure]
    placements: Placements | None
    service: Service | None
    workforce: tuple[WorkforceGroup, ...]
    weakening: Weakening | None
    costs: tuple[CostLine, ...]
    savings: tuple[SavingLine, ...]
    funding: tuple[FundingStream, ...]
    mtfp: Mtfp
    run: RunDefaults
    papers: tuple[str, ...] = field(default=())
    #: The date of the decision the config supports: evidence dated after it was not available to it.
    decision_date: dt.date | None = None
    #: Input giving the share by which the value-for-money view reduces the programme's benefits (HM
    #: Treasury Green Book optimism bias); None: no adjustment.
    optimism_bias: str | None = None
    risk_register: RiskRegister | None = None
    #: Common drivers (name -> what it stands for) that correlate the inputs and risks loading on them.
    common_drivers: dict[str, str] = field(default_factory=dict)
    #: Input name -> the model section that first uses it ("demand", "workforce", "funding", ...).
    input_groups: dict[str, str] = field(default_factory=dict)
    correlation: Correlation | None = None
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    #: Input name -> (low, high) the model's fields accept for it: the range a pinned value may take.
    input_bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: The text of each file the config reads (a register CSV), by the path written in the config: kept
    #: with the results so that a run folder is rebuilt from what was run, wherever it has moved.
    attachments: dict[str, str] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def first_year(self) -> int:
        return parse_fy(self.years[0])

    @property
    def late_evidence(self) -> list["Input"]:
        """Inputs whose evidence is dated after the decision date: not knowable when it was made."""
        if self.decision_date is None:
            return []
        return [item for item in self.inputs.values() if item.date > self.decision_date]


