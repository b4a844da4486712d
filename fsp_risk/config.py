"""Scenario configs: YAML validated once, at load, into frozen typed objects.

Every uncertain or sourced scalar lives in the ``inputs`` section (the *assumption book*); the model
sections refer to inputs by name. Year series (cost amounts, planned savings) and projection points
carry their own ``source``. Nothing downstream re-validates.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .distributions import MAX_PARAMETER, DistributionError, make_distribution, Distribution
from .errors import ConfigError, did_you_mean, excerpt
from .files import MAX_CONFIG_BYTES, MAX_CSV_BYTES, csv_records, is_inside, read_text, size_text
from .years import fy_label, parse_fy

SCHEMA_VERSION = 1
EVIDENCE = ("green", "amber", "red")
SAMPLERS = ("mc", "lhs", "sobol")
FSP_METHODS = ("stock_flow", "year_on_year", "path")
#: Savings drivers that are money [£/yr]; demand measures are counts [child-years].
MONEY_DRIVERS = ("placements", "service")

# Bounds on what a config may say, so that every number the model takes stays finite and every name
# is safe wherever it goes (file names, netCDF variables, spreadsheet cells).
#: The config's name becomes part of a folder name: letters, digits, '-', '_' and '.', no leading dot.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
#: Names of inputs, measures, lines, groups, streams, scenarios and drivers: they become variable
#: names in results.nc and are typed in --stress, so identifiers.
KEY_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
#: Risk and mitigation ids as councils write them (R1, FIN-03, 2.1).
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
#: Each pattern in words, for messages.
NAME_RULES = {
    NAME_PATTERN: "letters, digits, '-', '_' and '.', starting with a letter or digit, at most 80 characters",
    KEY_PATTERN: "letters, digits and _, starting with a letter, at most 64 characters",
    ID_PATTERN: "letters, digits, '-', '_' and '.', starting with a letter or digit, at most 32 characters",
}
#: Longest text field (a title, an owner, a source with its paragraph).
MAX_TEXT = 2_000
#: Control characters (other than tab and newline) and bidirectional overrides (which reorder how text
#: reads) have no place in a title or source; an escape sequence printed to a terminal can rewrite what
#: the user sees.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: Largest amount of money in one field [GBP]: £10bn, ten times a large county's whole budget.
MAX_MONEY = 1e10
#: Largest count of children or staff in one field.
MAX_COUNT = 1e7
#: Largest multiplier or factor (growth, cost multipliers, agency premium) [ratio].
MAX_FACTOR = 100.0
#: Largest delay or ramp-up [months].
MAX_MONTHS = 240.0
#: Largest shock or slope error of a measure's level in one year [log ratio]: e^2, seven times over.
MAX_LOG_SHOCK = 2.0
#: Longest horizon [years]: an MTFP runs 3-5 years and a business case rarely 10.
MAX_HORIZON = 50
#: Oldest price base of a unit cost, in years before the horizon starts.
MAX_PRICE_YEARS_BACK = 30
#: Most YAML nodes a config may expand to (its anchors and aliases followed): the shipped configs have
#: a few thousand; a few lines of nested aliases could otherwise expand to billions.
MAX_YAML_NODES = 200_000


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
    :mod:`fsp_risk.calibrate`): a per-year input of shocks, the share of a shock that persists into the
    next year, and an optional error in the projection's slope [log change a year]."""

    shock: str
    persistence: str
    drift: str | None = None


@dataclass(frozen=True)
class Measure:
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
    go_live: dt.date
    go_live_source: str
    delay_months: str
    ramp_months: str
    effect_scales: tuple[EffectScale, ...] = ()
    #: True in the counterfactual without the programme: FSP has no effect, demand stays as is.
    switched_off: bool = False


@dataclass(frozen=True)
class CostLine:
    name: str
    title: str
    amounts: YearSeries
    category: str
    budgeted: bool
    inflation: str | None
    multiplier: str | None


@dataclass(frozen=True)
class SavingLine:
    name: str
    title: str
    driver: str
    cashable: bool
    recurrent: bool
    planned: YearSeries | None
    share: str | None
    multiplier: str | None
    #: The planned saving is taken from a budget set on the plan: it is realised as planned, and the
    #: driver above or below its planned level is a pressure or a relief (see :func:`fsp_risk.model.rollup`).
    from_budget: bool = False


@dataclass(frozen=True)
class FundingStream:
    name: str
    title: str
    amounts: YearSeries
    ends: str
    end_year: str
    replaced: str


@dataclass(frozen=True)
class WorkforceGroup:
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
    threshold: str
    slope: str


@dataclass(frozen=True)
class PlacementType:
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
    measure: str
    types: tuple[PlacementType, ...]
    inflation: str
    #: Children in care above the central forecast cost money against a budget set on that forecast.
    budget_variance: bool = False


@dataclass(frozen=True)
class Service:
    measure: str
    cases_per_team: str
    team_cost: str


@dataclass(frozen=True)
class InflationIndex:
    planned: str
    actual: str


#: The default discount rate's source: HM Treasury's social time preference rate.
GREEN_BOOK_RATE_SOURCE = ("HM Treasury, The Green Book (2022), annex A6 (A6.7) and table 8: social time preference "
                          "rate 3.5% a year, real, for years 0 to 30")


@dataclass(frozen=True)
class PriceBase:
    basis: str
    base_year: str
    deflator: str
    indices: dict[str, InflationIndex]
    #: Real discount rate for present values [fraction/yr] and where it comes from.
    discount_rate: float = 0.035
    discount_source: str = GREEN_BOOK_RATE_SOURCE


@dataclass(frozen=True)
class Mtfp:
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


# --------------------------------------------------------------------------- reading helpers
class _Node:
    """A mapping from the YAML with its field path, for error messages."""

    def __init__(self, data: Any, path: str, file: str):
        self.data, self.path, self.file = data, path, file

    def error(self, message: str, key: str | None = None) -> ConfigError:
        path = f"{self.path}.{key}" if key and self.path else (key or self.path)
        return ConfigError(message, file=self.file, path=path)

    def mapping(self, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> "_Node":
        if not isinstance(self.data, dict):
            raise self.error(f"expected a mapping of fields, got {_kind(self.data)}")
        for key in self.data:
            if key not in allowed:
                raise self.error(
                    f"unknown field (expected one of: {', '.join(allowed)}){did_you_mean(key, allowed)}", str(key)
                )
        for key in required:
            if key not in self.data:
                raise self.error("required field is missing", key)
        return self

    def child(self, key: str) -> "_Node":
        return _Node(self.data.get(key), f"{self.path}.{key}" if self.path else key, self.file)

    def has(self, key: str) -> bool:
        return isinstance(self.data, dict) and key in self.data

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"expected a non-empty text, got {_kind(value)}", key)
        if len(value) > MAX_TEXT:
            raise self.error(f"expected a text of at most {MAX_TEXT:,} characters, got {len(value):,}", key)
        bad = CONTROL_CHARACTERS.search(value)
        if bad:
            raise self.error(f"expected printable text, got the control character {bad.group()!r} at character "
                             f"{bad.start() + 1}", key)
        return value.strip()

    def keys(self, what: str) -> list[str]:
        """The keys of this mapping, each a name of :data:`KEY_PATTERN` (``what`` they name, for the message)."""
        for key in self.data:
            _check_name(self, key, KEY_PATTERN, what, "it names variables and columns of the results")
        return [str(k) for k in self.data]

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"expected true or false, got {_kind(value)}", key)
        return value

    def integer(self, key: str, minimum: int, maximum: int) -> int:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"expected a whole number, got {_kind(value)}", key)
        if not minimum <= value <= maximum:
            raise self.error(f"expected a whole number from {minimum:,} to {maximum:,}, got {value:,}", key)
        return value

    def date(self, key: str, required: bool = True) -> dt.date | None:
        value = self.data.get(key)
        if value is None and not required:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(f"expected a date like 2024-04-10, got {_kind(value)}", key)

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value not in options:
            raise self.error(
                f"expected one of {', '.join(options)}, got {excerpt(value)}{did_you_mean(value, options)}", key
            )
        return value


def _check_name(node: _Node, key: Any, pattern: re.Pattern, what: str, why: str, field: str | None = None) -> str:
    """``key`` if it matches ``pattern`` in full; else an error naming the rule (``field`` is where it is
    written: the key itself by default)."""
    if not isinstance(key, str) or not pattern.fullmatch(key):
        where = field if field is not None else excerpt(key).strip("'")
        raise node.error(f"expected {what} of {NAME_RULES[pattern]} ({why}), got {_kind(key)}", where)
    return key


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"{excerpt(value)} (a number)"
    if isinstance(value, (dt.date, dt.datetime)):
        return f"{value.isoformat()} (a date)"
    if isinstance(value, str):
        return f"{excerpt(value)} (a text)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _number(node: _Node, key: str, value: Any, *, nonnegative: bool = False, limit: float = MAX_PARAMETER,
            what: str = "a number") -> float:
    """A finite number within ±``limit`` (``what`` it is, for the message: "an amount of money")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise node.error(f"expected a number, got {_kind(value)}", key)
    if isinstance(value, float) and not np.isfinite(value):
        raise node.error(f"expected a finite number, got {_kind(value)}", key)
    if not -limit <= value <= limit:
        raise node.error(f"expected {what} within ±{limit:,.0f}, got {value:g}", key)
    if nonnegative and value < 0:
        raise node.error(f"expected an amount >= 0 (no negative cost here), got {value:,}", key)
    return float(value)


# --------------------------------------------------------------------------- loading
def load_config(path: str | Path) -> Config:
    """Read and validate a scenario config.

    Raises
    ------
    ConfigError
        Naming the file, the field path and what was expected, before any sampling starts.
    """
    text = read_text(path, what="config file", limit=MAX_CONFIG_BYTES, not_utf8="expected a UTF-8 text (YAML) file")
    return parse_config(text, str(path))


class _StrictLoader(yaml.SafeLoader):
    """The safe loader (plain data only, nothing executed) that also refuses a key given twice in one
    mapping: PyYAML keeps the last silently, so a hand-edited config could lose a value unseen."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    if key in first:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"the key {excerpt(key)} is given twice in one mapping (first at line "
                            f"{first[key] + 1}); expected each key once", key_node.start_mark)
                    first[key] = key_node.start_mark.line
                except TypeError:  # an unhashable key: the base class says so
                    break
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node):
        # Python refuses to read an integer of over 4,300 digits with a bare ValueError.
        try:
            return super().construct_yaml_int(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(None, None, f"cannot read the number ({exc}); expected a number "
                                                    "of at most a few digits", node.start_mark) from None

    def construct_yaml_timestamp(self, node):
        # PyYAML reads 2024-13-01 as a date and then fails with a bare ValueError: say where, and why.
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{excerpt(node.value)} is not a real date ({exc}); expected a date like 2024-04-10",
                node.start_mark) from None


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)


def _expanded_size(root) -> int:
    """How many nodes a composed YAML document has with every alias followed, counted without expanding
    it (each node's size once); a recursive alias is refused."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            kids = node.value if isinstance(node, yaml.SequenceNode) else [n for kv in node.value for n in kv]
            sizes[key] = min(1 + sum(sizes[id(k)] for k in kids), 10**12)
            open_.discard(key)
            continue
        if key in sizes:
            continue
        if key in open_:
            raise yaml.constructor.ConstructorError(None, None, "an alias refers to a node that contains it; "
                                                    "expected plain data without recursion", node.start_mark)
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            open_.add(key)
            stack.append((node, True))
            kids = node.value if isinstance(node, yaml.SequenceNode) else [n for kv in node.value for n in kv]
            stack.extend((k, False) for k in kids if id(k) not in sizes)
        else:
            sizes[key] = 1
    return sizes[id(root)]


def _load_yaml(text: str):
    """The config's data and its composed node tree (for line numbers), refused when its aliases expand
    to more than :data:`MAX_YAML_NODES` nodes, before anything is built from them."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        size = _expanded_size(node)
        if size > MAX_YAML_NODES:
            raise yaml.constructor.ConstructorError(
                None, None, f"the document expands to {size:,} values with its aliases followed, over the limit of "
                f"{MAX_YAML_NODES:,}; expected a config without deeply nested aliases", node.start_mark)
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def parse_config(text: str, file: str = "<config>", attachments: dict[str, str] | None = None) -> Config:
    """Validate YAML text as a config; ``file`` names it in error messages and locates the files it reads.

    ``attachments`` gives the text of files the config reads (by the path written in it), read then
    instead of the files: a stored run's config is rebuilt from what it ran on.
    """
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"the config is {len(text):,} characters, over the limit of {MAX_CONFIG_BYTES:,} "
                          f"({size_text(MAX_CONFIG_BYTES)}); expected a smaller file", file=file)
    try:
        data, composed = _load_yaml(text)  # safe: plain data only, nothing executed
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = getattr(exc, "position", None)  # a character the reader refuses (a NUL byte) has no line
        where = (f"line {mark.line + 1}, column {mark.column + 1}" if mark
                 else f"character {position + 1}" if position is not None else "YAML")
        problem = (getattr(exc, "problem", None) or str(exc)).splitlines()[0]
        raise ConfigError(f"invalid YAML at {where}: {problem}", file=file) from None
    try:
        config = _parse(data, text, file, attachments=dict(attachments or {}))
        if isinstance(data, dict) and "scenarios" in data:
            config = replace(config, scenarios=_scenarios(_Node(data, "", file).child("scenarios"), data, config))
    except ConfigError as exc:
        line = _line_of(composed, exc.path) if exc.file == file and exc.path else None
        if line is None or exc.line is not None:
            raise
        raise ConfigError(exc.reason, file=exc.file, path=exc.path, line=line) from None
    return config


def _line_of(node, path: str) -> int | None:
    """The line of the file where the field ``path`` (as in error messages: ``a.b[3].c``, ``risks[R1]``
    for the list item with that id, keys that hold dots or slashes matched whole) is written; for a
    field that is missing, the line of the deepest field of the path that is there."""
    line, rest = None, path
    while node is not None and rest:
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0 or not isinstance(node, yaml.SequenceNode):
                break
            token, rest = rest[1:end], rest[end + 1:].lstrip(".")
            items = node.value
            if token.isdigit():
                node = items[int(token)] if int(token) < len(items) else None
            else:
                node = next((item for item in items if isinstance(item, yaml.MappingNode)
                             and any(k.value == "id" and getattr(v, "value", None) == token for k, v in item.value)), None)
            if node is not None:
                line = node.start_mark.line + 1
            continue
        if not isinstance(node, yaml.MappingNode):
            break
        matches = [(str(k.value), k, v) for k, v in node.value
                   if rest == str(k.value) or rest.startswith(f"{k.value}.") or rest.startswith(f"{k.value}[")]
        if not matches:
            break
        key, key_node, node = max(matches, key=lambda m: len(m[0]))  # the longest key: 'a.b' before 'a'
        line = key_node.start_mark.line + 1
        rest = rest[len(key):].lstrip(".")
    return line


def _parse(data: Any, text: str, file: str, all_inputs_used: bool = True,
           attachments: dict[str, str] | None = None) -> Config:
    """Validate loaded YAML data as a config (without its scenarios).

    ``all_inputs_used`` False is for a scenario, which may leave some of the base's inputs unused
    (without mitigation, the mitigated values).
    """
    root = _Node(data, "", file).mapping(
        (
            "schema_version", "name", "title", "council", "papers", "years", "run", "price_base", "programme",
            "inputs", "demand", "placements", "service", "workforce", "costs", "savings", "funding", "mtfp",
            "risk_register", "common_drivers", "correlation", "scenarios", "decision_date", "value_for_money",
        ),
        ("schema_version", "name", "title", "years", "inputs", "programme", "price_base", "demand", "mtfp"),
    )
    if root.data["schema_version"] != SCHEMA_VERSION:
        raise root.error(f"expected {SCHEMA_VERSION}, got {excerpt(root.data['schema_version'])}", "schema_version")
    years = _years(root.child("years"))
    drivers = _common_drivers(root.child("common_drivers")) if root.has("common_drivers") else {}
    inputs = _inputs(root.child("inputs"), years, drivers)
    refs = _Refs(inputs, file, years)
    refs.attachments = attachments if attachments is not None else {}

    refs.section = "programme"
    programme = _programme(root.child("programme"), years, refs)
    refs.section = "inflation"
    price_base = _price_base(root.child("price_base"), years, refs)
    refs.section = "demand"
    demand = _demand(root.child("demand"), years, refs)
    refs.section = "placements"
    placements = _placements(root.child("placements"), demand, refs) if root.has("placements") else None
    refs.section = "social work teams"
    service = _service(root.child("service"), demand, refs) if root.has("service") else None
    refs.section = "workforce"
    workforce, weakening = _workforce(root.child("workforce"), refs) if root.has("workforce") else ((), None)
    refs.section = "costs"
    costs = _costs(root.child("costs"), years, price_base, refs) if root.has("costs") else ()
    refs.section = "savings"
    savings = (
        _savings(root.child("savings"), years, demand, placements, service, refs) if root.has("savings") else ()
    )
    refs.section = "funding"
    funding = _funding(root.child("funding"), years, refs) if root.has("funding") else ()
    mtfp = _mtfp(root.child("mtfp"), years)
    run = _run(root.child("run")) if root.has("run") else RunDefaults(100_000, 12345, "mc")
    refs.section = "risk register"
    register = _risk_register(root.child("risk_register"), years, refs, drivers) if root.has("risk_register") else None
    optimism_bias = None
    if root.has("value_for_money"):
        refs.section = "value for money"
        vfm = root.child("value_for_money").mapping(("optimism_bias",), ("optimism_bias",))
        optimism_bias = refs.get(vfm, "optimism_bias", lo=0, hi=1, scalar=True)
    papers = root.data.get("papers") or []
    if not isinstance(papers, list) or not all(isinstance(p, str) for p in papers):
        raise root.error("expected a list of texts naming the source papers", "papers")
    papers = [_Node({f"papers[{i}]": p}, "", file).text(f"papers[{i}]") for i, p in enumerate(papers)]
    if all_inputs_used:
        refs.check_all_used()
    for m in register.mitigations if register is not None else ():
        for orig, repl in m.replace:  # a replacement takes its original's place, so its bounds too
            lo, hi = refs.bounds.get(repl, (-np.inf, np.inf))
            o_lo, o_hi = refs.bounds.get(orig, (-np.inf, np.inf))
            refs.bounds[repl] = (max(lo, o_lo), min(hi, o_hi))
    correlation = _correlation(root.child("correlation"), inputs) if root.has("correlation") else None
    return Config(
        path=file, text=text, title=root.text("title"),
        name=_check_name(root, root.text("name"), NAME_PATTERN, "a config name",
                          "it becomes part of each run folder's name", "name"),
        council=root.text("council", "unnamed council"), years=years, inputs=inputs, programme=programme,
        price_base=price_base, demand=demand, placements=placements, service=service, workforce=workforce,
        weakening=weakening, costs=costs, savings=savings, funding=funding, mtfp=mtfp, run=run,
        papers=tuple(papers), decision_date=root.date("decision_date", required=False), optimism_bias=optimism_bias,
        risk_register=register, common_drivers=drivers,
        input_groups={name: refs.groups.get(name, "risk register") for name in inputs},
        correlation=correlation, input_bounds=_pin_bounds(inputs, refs.bounds, years),
        attachments=dict(refs.attachments),
    )


def _pin_bounds(inputs: dict[str, Input], bounds: dict[str, tuple[float, float]], years) -> dict[str, tuple[float, float]]:
    """What each input may be pinned to: within the bounds of the fields that use it, never negative for a
    quantity whose distribution is, and within the horizon for a year."""
    return {name: _pin_range(item, bounds.get(name, (-np.inf, np.inf)), years) for name, item in inputs.items()}


def _pin_range(item: Input, bounds: tuple[float, float], years) -> tuple[float, float]:
    lo, hi = bounds
    if item.year_valued:
        lo, hi = max(lo, 0), min(hi, len(years) - 1)
    elif item.dist.support()[0] >= 0:
        lo = max(lo, 0.0)
    return float(lo), float(hi)


def _pin_value(node: _Node, key: str, item: Input, value: Any, bounds: tuple[float, float], years) -> float:
    """A value an input is held at (a pin, a stress test, a risk link's switch-off value): a finite number
    within ``bounds`` (what the model can take), a year given as its label or a whole index."""
    if item.year_valued and isinstance(value, str):
        if value not in years:
            raise node.error(f"expected a year within the horizon ({years[0]} to {years[-1]}), got {excerpt(value)}", key)
        value = years.index(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise node.error(f"expected a number, got {_kind(value)}", key)
    if not np.isfinite(value):
        raise node.error(f"expected a finite number, got {_kind(value)}", key)
    if item.year_valued and value != int(value):
        raise node.error(f"expected a year label like {years[0]}, got {value:g}", key)
    lo, hi = bounds
    if not lo <= value <= hi:
        span = f"[{lo:g}, {hi:g}]" if np.isfinite(hi) else f">= {lo:g}"
        raise node.error(f"expected a value the model can take for this input, {span}, got {value:g}", key)
    return float(value)


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
    book = ("title", "units", "per_year", "source", "owner", "evidence", "date", "review", "driver", "year_to_year")
    dist_keys = ("dist", "central", "value", "low", "mode", "high", "p10", "p50", "p90", "mean", "sd", "min", "max",
                 "alpha", "beta", "p", "values", "probs")
    node.keys("an input name")
    for name, spec in node.data.items():
        item = node.child(str(name)).mapping(book + dist_keys, ("title", "units", "dist", "source", "owner",
                                                                "evidence", "date", "review"))
        dist_spec = {k: v for k, v in spec.items() if k in dist_keys}
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
        #: The text of each file read (a register CSV) by the path written in the config.
        self.attachments: dict[str, str] = {}
        #: The config's financial years.
        self.years = years

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
            largest = high if np.isfinite(high) else float(item.dist.ppf(np.array([1 - 2**-53]))[0])
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
    node.mapping(("values", "source"), ("values", "source"))
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
    node.mapping(("at_31_march", "source", "extrapolate"), ("at_31_march", "source"))
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


def _programme(node: _Node, years, refs: _Refs) -> Programme:
    node.mapping(("go_live", "go_live_source", "delay_months", "ramp_months", "effect_scales"),
                 ("go_live", "go_live_source", "delay_months", "ramp_months"))
    scales = []
    if node.has("effect_scales"):
        sn = node.child("effect_scales")
        if not isinstance(sn.data, list):
            raise sn.error("expected a list of {input: NAME, years: [...]} that scale FSP's effect")
        for k, raw in enumerate(sn.data):
            e = _Node(raw, f"{sn.path}[{k}]", sn.file).mapping(("input", "years"), ("input",))
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
    node.mapping(("basis", "base_year", "deflator", "indices", "discount_rate"), ("basis", "base_year", "deflator"))
    base = node.data["base_year"]
    rate, rate_source = 0.035, GREEN_BOOK_RATE_SOURCE
    if node.has("discount_rate"):
        dr = node.child("discount_rate").mapping(("value", "source"), ("value", "source"))
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
            item = idx.child(str(name)).mapping(("planned", "actual"), ("planned", "actual"))
            indices[str(name)] = InflationIndex(refs.get(item, "planned", lo=-0.5, hi=1),
                                                refs.get(item, "actual", lo=-0.5, hi=1))
    return PriceBase(node.choice("basis", ("nominal",)), base, refs.get(node, "deflator", lo=-0.5, hi=1), indices,
                     rate, rate_source)


def _demand(node: _Node, years, refs: _Refs) -> dict[str, Measure]:
    node.mapping(("measures",), ("measures",))
    measures = node.child("measures")
    if not isinstance(measures.data, dict) or not measures.data:
        raise measures.error("expected a mapping of measures such as lac, cp and open_cases")
    first, last = parse_fy(years[0]), parse_fy(years[-1]) + 1
    out = {}
    for name in measures.keys("a measure name"):
        m = measures.child(str(name)).mapping(("title", "short", "as_is", "growth", "fsp", "level"),
                                              ("title", "as_is", "growth", "fsp"))
        as_is = _points(m.child("as_is"))
        if not as_is.extrapolate and (as_is.march_years[0] > first or as_is.march_years[-1] < last):
            raise m.error(
                f"as-is points must cover 31 March {first} (the start of {years[0]}) to 31 March {last} "
                f"(the end of {years[-1]}); they cover {as_is.march_years[0]} to {as_is.march_years[-1]}", "as_is"
            )
        fsp = m.child("fsp").mapping(("method", "effect", "reduction", "leaving_rate", "floor", "path"), ("method",))
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
            lv = m.child("level").mapping(("shock", "persistence", "drift"), ("shock", "persistence"))
            shock = refs.get(lv, "shock", ceiling=MAX_LOG_SHOCK)
            if not refs.inputs[shock].per_year:
                raise lv.error(f"input {excerpt(shock)} must be per_year: a shock is drawn for each year", "shock")
            level = Level(shock, refs.get(lv, "persistence", lo=0, hi=1, scalar=True),
                          refs.get(lv, "drift", scalar=True, required=False, ceiling=MAX_LOG_SHOCK))
        out[str(name)] = Measure(str(name), title, as_is, refs.get(m, "growth", lo=0, scalar=True, ceiling=MAX_FACTOR), case,
                                 m.text("short") if m.has("short") else title[0].lower() + title[1:], level)
    return out


def _placements(node: _Node, demand, refs: _Refs) -> Placements:
    node.mapping(("measure", "types", "inflation", "budget_variance"), ("measure", "types", "inflation"))
    measure = node.choice("measure", tuple(demand))
    types_node = node.child("types")
    if not isinstance(types_node.data, dict) or not types_node.data:
        raise types_node.error("expected a mapping of placement types (in-house fostering, agency fostering, ...)")
    types = []
    for name in types_node.keys("a placement type name"):
        t = types_node.child(str(name)).mapping(("title", "share", "avoided_share", "unit_cost", "cost_cv", "price_year"),
                                                ("title", "share", "unit_cost", "cost_cv", "price_year"))
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
    node.mapping(("measure", "cases_per_team", "team_cost"), ("measure", "cases_per_team", "team_cost"))
    return Service(node.choice("measure", tuple(demand)),
                   refs.get(node, "cases_per_team", lo=1e-9, scalar=True, ceiling=MAX_COUNT),
                   refs.get(node, "team_cost", lo=0, scalar=True, ceiling=MAX_MONEY))


def _workforce(node: _Node, refs: _Refs):
    node.mapping(("groups", "weakening"), ("groups",))
    groups_node = node.child("groups")
    if not isinstance(groups_node.data, dict) or not groups_node.data:
        raise groups_node.error("expected a mapping of staff groups (social workers, adult-facing practitioners)")
    groups = []
    keys = ("fte", "cost_per_fte", "turnover", "vacancy", "agency_cover", "agency_premium", "recruitment_cost")
    for name in groups_node.keys("a staff group name"):
        g = groups_node.child(str(name)).mapping(("title", "weakens_effect") + keys, ("title",) + keys)
        bounds = {"turnover": (0, 1, None), "vacancy": (0, 1, None), "agency_cover": (0, 1, None),
                  "agency_premium": (0, None, MAX_FACTOR), "fte": (0, None, MAX_COUNT),
                  "cost_per_fte": (0, None, MAX_MONEY), "recruitment_cost": (0, None, MAX_MONEY)}
        refs_ = {k: refs.get(g, k, lo=bounds[k][0], hi=bounds[k][1], ceiling=bounds[k][2]) for k in keys}
        for k in ("fte", "cost_per_fte"):
            if refs.inputs[refs_[k]].per_year:
                raise g.error(f"input {excerpt(refs_[k])} is per_year, but this field takes one value per iteration", k)
        groups.append(WorkforceGroup(str(name), g.text("title"), weakens_effect=g.boolean("weakens_effect", False),
                                     **refs_))
    weakening = None
    if node.has("weakening"):
        w = node.child("weakening").mapping(("threshold", "slope"), ("threshold", "slope"))
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
        c = node.child(str(name)).mapping(("title", "amounts", "category", "budgeted", "inflation", "multiplier"),
                                          ("title", "amounts", "category"))
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
            ("title", "driver", "cashable", "recurrent", "planned", "share", "multiplier", "from_budget"),
            ("title", "driver", "cashable", "recurrent"),
        )
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
        f = node.child(str(name)).mapping(("title", "amounts", "ends", "end_year", "replaced"),
                                          ("title", "amounts", "ends", "end_year", "replaced"))
        ends = refs.get(f, "ends", lo=0, hi=1, scalar=True)
        end_year = refs.get(f, "end_year", scalar=True)
        if not refs.inputs[end_year].year_valued:
            raise f.error(f"input {excerpt(end_year)} must be a discrete input over year labels like '2025/26'", "end_year")
        out.append(FundingStream(str(name), f.text("title"), _series(f.child("amounts"), years, nonnegative=True),
                                 ends, end_year, refs.get(f, "replaced", lo=0, hi=1, scalar=True)))
    return tuple(out)


def _mtfp(node: _Node, years) -> Mtfp:
    node.mapping(("target", "delivered_outside"), ("target",))
    target = _series(node.child("target"), years)
    if any(v > 0 for v in target.values):
        raise node.error("expected the MTFP savings target as negative amounts (savings), got a positive amount",
                         "target")
    outside = _series(node.child("delivered_outside"), years, nonnegative=True) if node.has("delivered_outside") else None
    return Mtfp(target, outside)


def _run(node: _Node) -> RunDefaults:
    node.mapping(("iterations", "seed", "sampler"))
    return RunDefaults(node.integer("iterations", 1, MAX_ITERATIONS) if node.has("iterations") else 100_000,
                       node.integer("seed", 0, MAX_SEED) if node.has("seed") else 12345,
                       node.choice("sampler", SAMPLERS, "mc"))


RISK_KINDS = ("threat", "opportunity")
RISK_BASES = ("per_year", "horizon")


def _risk_register(node: _Node, years, refs: _Refs, drivers: dict[str, str]) -> RiskRegister:
    node.mapping(("scoring", "risks", "mitigations", "reserve_confidence", "import_csv"), ("scoring",))
    if not (node.has("risks") or node.has("import_csv")):
        raise node.error("required field is missing (give risks, or import_csv to start from a council register)",
                         "risks")
    confidence = 0.8
    if node.has("reserve_confidence"):
        confidence = _number(node, "reserve_confidence", node.data["reserve_confidence"])
        if not 0.5 <= confidence < 1:
            raise node.error(f"expected a confidence from 0.5 to below 1 (0.8 is usual), got {confidence:g}",
                             "reserve_confidence")
    sc = node.child("scoring").mapping(("impact_thresholds", "probability_bands", "probability_thresholds", "source"),
                                       ("impact_thresholds", "probability_bands", "probability_thresholds", "source"))
    impact_t = _increasing(sc, "impact_thresholds", lo=0.0, hi=MAX_MONEY)
    bands = sc.data["probability_bands"]
    if not isinstance(bands, list) or not bands or not all(isinstance(b, str) and b for b in bands):
        raise sc.error("expected a list of band names, lowest first, like [low, medium, high]", "probability_bands")
    bands = [_Node({f"probability_bands[{i}]": b}, sc.path, sc.file).text(f"probability_bands[{i}]")
             for i, b in enumerate(bands)]
    prob_t = _increasing(sc, "probability_thresholds", lo=0.0, hi=1.0)
    if len(prob_t) != len(bands):
        raise sc.error(f"expected one lower bound per band ({len(bands)}), got {len(prob_t)}", "probability_thresholds")
    if prob_t[0] != 0:
        raise sc.error("expected the lowest band to start at 0", "probability_thresholds")
    scoring = Scoring(impact_t, tuple(bands), prob_t, sc.text("source"))

    rn = node.child("risks")
    if rn.data is not None and (not isinstance(rn.data, list) or not rn.data):
        raise rn.error("expected a list of risks")
    risks, seen = [], set()
    if node.has("import_csv"):
        risks = _import_register(node.child("import_csv"), years, bands, refs)
        seen = {r.id for r in risks}
    for k, raw in enumerate(rn.data or []):
        r = _Node(raw, f"{rn.path}[{k}]", rn.file)
        r.mapping(("id", "title", "owner", "category", "type", "likelihood", "basis", "years", "impact", "stated",
                   "driver", "link"), ("id", "title", "owner", "category", "type"))
        rid = _check_name(r, r.text("id"), ID_PATTERN, "a risk id", "it labels the risk in every table and chart", "id")
        r.path = f"risk_register.risks[{rid}]"  # name the risk by its id in messages from here on
        link = ()
        if r.has("link"):
            for key in ("likelihood", "impact", "basis", "years", "driver"):
                if r.has(key):
                    raise r.error("a risk linked to the model takes its likelihood and impact from the linked "
                                  "inputs; remove this field or the link", key)
            ln = r.child("link")
            if not isinstance(ln.data, dict) or not ln.data:
                raise ln.error("expected a mapping of input name to the value that switches the risk off, "
                               "like {public_health_ends: 0}")
            pairs = []
            for name, off in ln.data.items():
                refs.get(_Node({str(name): str(name)}, ln.path, ln.file), str(name))
                # The model's sections are read by now: the value must be one their fields can take.
                item = refs.inputs[str(name)]
                bounds = _pin_range(item, refs.bounds.get(str(name), (-np.inf, np.inf)), years)
                pairs.append((str(name), _pin_value(ln, str(name), item, off, bounds, years)))
            link = tuple(pairs)
        else:
            for key in ("likelihood", "impact"):
                if not r.has(key):
                    raise r.error("required field is missing (or give a 'link' to model inputs)", key)
        if rid in seen:
            raise r.error("expected a unique risk id; this id is used twice", "id")
        seen.add(rid)
        basis = r.choice("basis", RISK_BASES, "per_year")
        eligible = tuple(range(len(years)))
        if r.has("years"):
            labels = r.data["years"]
            if not isinstance(labels, list) or not labels:
                raise r.error("expected a list of financial years in which the risk can occur", "years")
            for label in labels:
                if label not in years:
                    raise r.error(f"year {excerpt(label)} is outside the config's years ({years[0]} to {years[-1]})"
                                  f"{did_you_mean(label, years)}", "years")
            eligible = tuple(sorted(years.index(label) for label in labels))
        stated_impact = stated_prob = None
        if r.has("stated"):
            st = r.child("stated").mapping(("impact", "probability"), ("impact", "probability"))
            stated_impact = st.integer("impact", 0, len(impact_t))
            stated_prob = st.choice("probability", tuple(bands))
        driver, loading = _driver_loading(r, drivers) if r.has("driver") else (None, 0.0)
        risks.append(Risk(
            rid, r.text("title"), r.text("owner"), r.text("category"), r.choice("type", RISK_KINDS),
            None if link else refs.get(r, "likelihood", lo=0, hi=1, scalar=basis == "horizon"), basis, eligible,
            None if link else refs.get(r, "impact", lo=0, ceiling=MAX_MONEY), stated_impact, stated_prob, driver, loading, (), link,
        ))

    mitigations, mids = [], set()
    mn = node.child("mitigations")
    if mn.data is not None and not isinstance(mn.data, list):
        raise mn.error("expected a list of mitigations")
    for j, rawm in enumerate(mn.data or []):
        m = _Node(rawm, f"{mn.path}[{j}]", mn.file)
        m.mapping(("id", "title", "risks", "cost", "likelihood_factor", "impact_factor", "replace"),
                  ("id", "title", "risks"))
        mid = _check_name(m, m.text("id"), ID_PATTERN, "a mitigation id", "it labels the mitigation in every table",
                          "id")
        m.path = f"risk_register.mitigations[{mid}]"
        if mid in mids:
            raise m.error("expected a unique mitigation id; this id is used twice", "id")
        mids.add(mid)
        targets = m.data["risks"]
        if not isinstance(targets, list) or not targets:
            raise m.error("expected a list of the ids of the risks it mitigates", "risks")
        for t in targets:
            if t not in seen:
                raise m.error(f"unknown risk {excerpt(t)}{did_you_mean(t, seen)}; risks are {', '.join(sorted(seen))}",
                              "risks")
        if not (m.has("likelihood_factor") or m.has("impact_factor") or m.has("replace")):
            raise m.error("expected a likelihood_factor, an impact_factor or a replace (what the action changes)",
                          "likelihood_factor")
        replace_pairs = []
        if m.has("replace"):
            rp = m.child("replace")
            if not isinstance(rp.data, dict) or not rp.data:
                raise rp.error("expected a mapping of input to the input it is replaced by, like "
                               "{public_health_replaced: public_health_replaced_mitigated}")
            for orig, repl in rp.data.items():
                refs.get(_Node({str(orig): str(orig)}, rp.path, rp.file), str(orig))
                refs.get(rp, str(orig))
                if refs.inputs[str(orig)].per_year != refs.inputs[repl].per_year:
                    raise rp.error(f"input {excerpt(repl)} must be per_year exactly when {excerpt(orig)} is", str(orig))
                replace_pairs.append((str(orig), repl))
        mitigations.append(Mitigation(
            mid, m.text("title"), tuple(str(t) for t in targets),
            _series(m.child("cost"), years, nonnegative=True) if m.has("cost") else None,
            refs.get(m, "likelihood_factor", lo=0, hi=1, scalar=True, required=False),
            refs.get(m, "impact_factor", lo=0, scalar=True, required=False, ceiling=MAX_FACTOR),
            tuple(replace_pairs),
        ))
    risks = [replace(r, mitigations=tuple(m for m in mitigations if r.id in m.risks)) for r in risks]
    return RiskRegister(scoring, tuple(risks), tuple(mitigations), confidence)


def _driver_loading(node: _Node, drivers: dict[str, str]) -> tuple[str, float]:
    """A ``driver: {name, loading}`` field: which common driver, and how strongly [correlation]."""
    dr = node.child("driver").mapping(("name", "loading"), ("name", "loading"))
    if not drivers:
        raise dr.error("no common drivers are defined; add them under common_drivers", "name")
    name = dr.choice("name", tuple(drivers))
    loading = _number(dr, "loading", dr.data["loading"])
    if not -1 < loading < 1:
        raise dr.error(f"expected a loading strictly between -1 and 1, got {loading:g}", "loading")
    return name, loading


RESERVED_SCENARIOS = ("base", "without_fsp")


def _scenarios(node: _Node, data: dict, base: Config) -> dict[str, Scenario]:
    """The ``scenarios`` section: each scenario ``set``s fields (dotted paths into the config, ``null``
    to remove one) and ``pin``s inputs; its config is validated in full here, before any work."""
    if not isinstance(node.data, dict) or not node.data:
        raise node.error("expected a mapping of scenario names to {title, source, set, pin}")
    out = {}
    for name in node.keys("a scenario name"):
        sc = node.child(name).mapping(("title", "source", "set", "pin"), ("title", "source"))
        if name in RESERVED_SCENARIOS:
            raise sc.error(f"expected a name of letters, digits and _ other than {' and '.join(RESERVED_SCENARIOS)} "
                           "(kept for the config as written and the counterfactual)")
        changed = {k: v for k, v in data.items() if k != "scenarios"}
        changes = sc.data.get("set") or {}
        if not isinstance(changes, dict):
            raise sc.error("expected a mapping of dotted field paths to new values, like "
                           "{'demand.measures.lac.fsp.floor': null}", "set")
        for path, value in changes.items():
            changed = _set_path(sc.child("set"), str(path), changed, value)
        try:
            config = _parse(changed, base.text, base.path, all_inputs_used=False, attachments=dict(base.attachments))
        except ConfigError as exc:
            raise sc.error(f"with this scenario's changes the config is invalid at {exc.path or 'the top'}: "
                           f"{exc.reason}", "set") from None
        pins = sc.data.get("pin") or {}
        if not isinstance(pins, dict):
            raise sc.error("expected a mapping of input names to values", "pin")
        out[str(name)] = Scenario(str(name), sc.text("title"), sc.text("source"), config,
                                  check_pins(config, pins, sc.child("pin").path, base.path))
    return out


def check_pins(config: Config, pins: dict, field: str, file: str | None = None) -> dict[str, float]:
    """Inputs pinned to a value (a scenario's ``pin``, a stress test): known names, finite numbers within
    each input's range; errors name ``field``.NAME."""
    node = _Node(pins, field, file if file is not None else config.path)
    out = {}
    for name, value in pins.items():
        if name not in config.inputs:
            raise node.error(f"unknown input {excerpt(name)}{did_you_mean(name, config.inputs)}", str(name))
        item = config.inputs[name]
        bounds = config.input_bounds.get(name, item.dist.support())
        out[str(name)] = _pin_value(node, str(name), item, value, bounds, config.years)
    p = config.placements
    if p is not None and any(t.share in out for t in p.types):
        # Each share may be 0 alone, but not all at once: the mix would be undefined.
        if all(out.get(t.share, config.inputs[t.share].dist.support()[1]) <= 0 for t in p.types):
            raise node.error("expected at least one placement type's share above 0 (they weight the cost of a "
                             "placement), got 0 for every type", next(t.share for t in p.types if t.share in out))
    return out


def _set_path(node: _Node, path: str, data: dict, value: Any) -> dict:
    """A copy of ``data`` with the field at dotted ``path`` set to ``value`` (removed when None)."""
    keys = path.split(".")
    out = dict(data)
    here = out
    for i, key in enumerate(keys[:-1]):
        child = here.get(key)
        if not isinstance(child, dict):
            raise node.error(f"no field {excerpt('.'.join(keys[: i + 1]))} to change in the config"
                             f"{did_you_mean(key, here) if isinstance(here, dict) else ''}", path)
        here[key] = dict(child)
        here = here[key]
    if value is None:
        if keys[-1] not in here:
            raise node.error(f"no field {excerpt(path)} to remove{did_you_mean(keys[-1], here)}", path)
        del here[keys[-1]]
    else:
        here[keys[-1]] = value
    return out


def _year_to_year(item: _Node, inp: Input) -> tuple[float, str]:
    """``year_to_year: {value, source}``: how much of one year's draw persists into the next."""
    node = item.child("year_to_year").mapping(("value", "source"), ("value", "source"))
    if not inp.per_year:
        raise node.error("only a per_year input varies from year to year; set per_year: true or remove "
                         "year_to_year")
    rho = _number(node, "value", node.data["value"])
    if not -1 < rho < 1:
        raise node.error(f"expected a correlation strictly between -1 and 1, got {rho:g}", "value")
    return rho, node.text("source")


def _correlation(node: _Node, inputs: dict[str, Input]) -> Correlation:
    """The ``correlation`` section: a rank-correlation matrix between named inputs.

    Rejected: unknown, repeated, fixed or driver-loaded inputs; a matrix that is not square,
    symmetric, within [-1, 1] or with a unit diagonal. A matrix that is not positive semi-definite
    (no set of variables can have it) is rejected, or repaired to the nearest valid one with
    ``repair: true``; either way the message says which.
    """
    node.mapping(("inputs", "matrix", "repair", "source"), ("inputs", "matrix", "source"))
    names = node.data["inputs"]
    where = node.child("inputs")
    if not isinstance(names, list) or len(names) < 2:
        raise where.error("expected a list of at least two input names")
    for i, name in enumerate(names):
        at = f"inputs[{i}]"
        if not isinstance(name, str) or name not in inputs:
            raise node.error(f"unknown input {excerpt(name)}{did_you_mean(name, inputs)}", at)
        if names.index(name) != i:
            raise node.error(f"input {excerpt(name)} is listed twice", at)
        if inputs[name].driver is not None:
            raise node.error(f"input {excerpt(name)} already loads on the common driver {excerpt(inputs[name].driver)}; an input "
                             "takes its correlation from a driver or from this matrix, not both", at)
        lo, hi = inputs[name].dist.support()
        if lo == hi:
            raise node.error(f"input {excerpt(name)} is fixed at {lo:g}; a fixed input cannot be correlated", at)
    k = len(names)
    rows = node.data["matrix"]
    if not isinstance(rows, list) or len(rows) != k or not all(isinstance(r, list) and len(r) == k for r in rows):
        raise node.error(f"expected a {k} x {k} matrix (a list of {k} rows of {k} numbers, in the order of "
                         "'inputs')", "matrix")
    m = np.array([[_number(node, f"matrix[{i}][{j}]", v) for j, v in enumerate(r)] for i, r in enumerate(rows)])
    for i in range(k):
        for j in range(k):
            at = f"matrix[{i}][{j}]"
            if i == j and m[i, j] != 1:
                raise node.error(f"expected 1 on the diagonal (an input's correlation with itself), got {m[i, j]:g}", at)
            if not -1 <= m[i, j] <= 1:
                raise node.error(f"expected a correlation within [-1, 1], got {m[i, j]:g}", at)
            if abs(m[i, j] - m[j, i]) > 1e-12:
                raise node.error(f"expected a symmetric matrix: {names[i]} with {names[j]} is {m[i, j]:g} but "
                                 f"{names[j]} with {names[i]} is {m[j, i]:g} (matrix[{j}][{i}])", at)
    repair = node.boolean("repair", False)
    source = node.text("source")
    normal = 2.0 * np.sin(np.pi * m / 6.0)
    smallest = float(np.linalg.eigvalsh(normal).min())
    repaired = None
    if smallest < -1e-10:
        if not repair:
            raise node.error(
                f"rejected: the matrix is not positive semi-definite (smallest eigenvalue {smallest:.3g}), so no set "
                "of inputs can have these correlations together; correct it, or set correlation.repair: true to "
                "use the nearest valid matrix", "matrix")
        fixed = _nearest_correlation(normal)
        m_new = 6.0 / np.pi * np.arcsin(fixed / 2.0)
        np.fill_diagonal(m_new, 1.0)
        i, j = np.unravel_index(np.argmax(np.abs(m_new - m)), m.shape)
        repaired = (f"repaired: the matrix was not positive semi-definite (smallest eigenvalue {smallest:.3g}); the "
                    f"nearest valid matrix is used, the largest change {names[i]} with {names[j]} "
                    f"{m[i, j]:g} -> {m_new[i, j]:.3f}")
        m = m_new
    return Correlation(tuple(names), tuple(tuple(float(v) for v in r) for r in m), source, repaired)


def _nearest_correlation(a, iterations: int = 200):
    """Nearest correlation matrix to a symmetric ``a`` (Higham 2002, alternating projections with
    Dykstra's correction), nudged so that it is positive definite."""
    y, ds = a.copy(), np.zeros_like(a)
    for _ in range(iterations):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x = (v * np.maximum(w, 0)) @ v.T
        ds = x - r
        y = x.copy()
        np.fill_diagonal(y, 1.0)
        if np.linalg.norm(y - x) < 1e-12:
            break
    w, v = np.linalg.eigh(y)
    y = (v * np.maximum(w, 1e-6)) @ v.T
    d = np.sqrt(np.diag(y))
    return y / np.outer(d, d)


def _common_drivers(node: _Node) -> dict[str, str]:
    if not isinstance(node.data, dict) or not node.data:
        raise node.error("expected a mapping of driver name to what it stands for, like "
                         "{partner_funding_climate: 'Partners' appetite to co-fund'}")
    return {name: node.text(name) for name in node.keys("a driver name")}


CSV_COLUMNS = ("id", "title", "owner", "likelihood", "impact")


def _bands(node: _Node, key: str, lo: float, hi: float | None) -> tuple[tuple[float, float], ...]:
    """Five [low, high] bands, one per score 1-5, for a council register's scores."""
    bands = node.data.get(key)
    if not isinstance(bands, list) or len(bands) != 5 or not all(isinstance(b, list) and len(b) == 2 for b in bands):
        raise node.error("expected five [low, high] pairs, one for each score from 1 to 5", key)
    out = []
    for k, (a, b) in enumerate(bands, start=1):
        a, b = _number(node, key, a), _number(node, key, b)
        if not (a < b and a >= lo and (hi is None or b <= hi)):
            limit = f"within [{lo:g}, {hi:g}]" if hi is not None else f"from {lo:g}"
            raise node.error(f"score {k}: expected low < high {limit}, got [{a:g}, {b:g}]", key)
        out.append((a, b))
    return tuple(out)


def _import_register(node: _Node, years, bands: list[str], refs: _Refs) -> list[Risk]:
    """Risks from a council register in CSV: scores 1-5 turned into stated distributions.

    A likelihood score k becomes a probability uniform over the council's k-th % band, of occurring
    once over the horizon in a year drawn evenly; an impact score k becomes a PERT over the k-th £
    band with its mode at the band's middle. Each becomes an input of the assumption book, sourced to
    its file and row, rated red (a register score is a judgement).
    """
    node.mapping(("file", "likelihood_bands", "impact_bands", "source", "date", "review"),
                 ("file", "likelihood_bands", "impact_bands", "source", "date", "review"))
    likelihood_bands = _bands(node, "likelihood_bands", 0.0, 1.0)
    impact_bands = _bands(node, "impact_bands", 0.0, MAX_MONEY)
    source, date, review = node.text("source"), node.date("date"), node.date("review")
    written = node.text("file")
    if written in refs.attachments:  # a stored run's copy (or a scenario of this config): the file is not read
        text, where = refs.attachments[written], written
    else:
        # Config text never points outside its own folder: a shared config cannot make a run read (and
        # copy into every output) /etc/passwd or a colleague's files.
        config_dir = Path(node.file).resolve().parent
        path = config_dir / written
        if Path(written).is_absolute() or not is_inside(config_dir, path):
            raise node.error(f"expected a path inside the config's folder {config_dir} (relative to it), got "
                             f"{excerpt(written)}", "file")
        where = str(path)
        text = read_text(path, what="register CSV", limit=MAX_CSV_BYTES, encoding="utf-8-sig",
                         not_utf8="expected a UTF-8 CSV file (save from Excel as 'CSV UTF-8')")
        refs.attachments[written] = text
    columns, rows = csv_records(text, where)
    missing = [c for c in CSV_COLUMNS if c not in columns]
    if not rows:
        raise ConfigError("expected a header row and at least one risk", file=where)
    if missing:
        raise ConfigError(f"expected columns {', '.join(CSV_COLUMNS)} (category optional); missing "
                          f"{', '.join(repr(m) for m in missing)}", file=where)
    risks, seen = [], set()
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        scores = {}
        for col in ("likelihood", "impact"):
            text = (row[col] or "").strip()
            if not text.isdigit() or not 1 <= int(text) <= 5:
                raise ConfigError(f"expected a whole number from 1 to 5, got {excerpt(text)}", file=where, path=f"row {n}.{col}")
            scores[col] = int(text)
        rid = (row["id"] or "").strip()
        if not rid or rid in seen:
            raise ConfigError(f"expected a unique, non-empty risk id, got {excerpt(rid)}", file=where, path=f"row {n}.id")
        if not ID_PATTERN.fullmatch(rid):
            raise ConfigError(f"expected a risk id of {NAME_RULES[ID_PATTERN]}, got {excerpt(rid)}", file=where,
                              path=f"row {n}.id")
        for col in ("title", "owner", "category"):
            if len(row.get(col) or "") > MAX_TEXT:
                raise ConfigError(f"expected a text of at most {MAX_TEXT:,} characters, got {len(row[col]):,}",
                                  file=where, path=f"row {n}.{col}")
            if CONTROL_CHARACTERS.search(row.get(col) or ""):
                raise ConfigError("expected printable text, got a control character", file=where, path=f"row {n}.{col}")
        seen.add(rid)
        lo, hi = likelihood_bands[scores["likelihood"] - 1]
        ilo, ihi = impact_bands[scores["impact"] - 1]
        common = dict(per_year=False, owner=(row["owner"] or "").strip() or "not stated", evidence="red", date=date,
                      review=review, year_valued=False)
        p_name, x_name = f"imported_{rid}_likelihood", f"imported_{rid}_impact"
        for name in (p_name, x_name):
            if name in refs.inputs:
                raise ConfigError(f"risk {rid} would add the input {name!r}, which the config already defines; "
                                  "expected another id, or another name for the config's input", file=where,
                                  path=f"row {n}.id")
        refs.inputs[p_name] = Input(
            p_name, f"Chance that imported risk {rid} occurs over the horizon", "probability",
            make_distribution({"dist": "uniform", "low": lo, "high": hi}),
            source=f"{written} row {n}: likelihood score {scores['likelihood']} read as uniform over the council's band "
                   f"{lo:.0%}-{hi:.0%} over the horizon ({source})", **common)
        refs.inputs[x_name] = Input(
            x_name, f"Impact of imported risk {rid} when it occurs", "GBP",
            make_distribution({"dist": "pert", "low": ilo, "mode": (ilo + ihi) / 2, "high": ihi}),
            source=f"{written} row {n}: impact score {scores['impact']} read as PERT over the council's band "
                   f"£{ilo:,.0f}-£{ihi:,.0f}, mode at its middle ({source})", **common)
        refs.used.update((p_name, x_name))
        risks.append(Risk(
            rid, (row["title"] or "").strip() or rid, common["owner"], (row.get("category") or "imported").strip(),
            "threat", p_name, "horizon", tuple(range(len(years))), x_name, scores["impact"],
            bands[scores["likelihood"] - 1] if len(bands) == 5 else None, None, 0.0, (),
        ))
    return risks


def _increasing(node: _Node, key: str, lo: float | None = None, hi: float | None = None) -> tuple[float, ...]:
    values = node.data.get(key)
    if not isinstance(values, list) or not values:
        raise node.error("expected a list of numbers, lowest first", key)
    out = tuple(_number(node, key, v) for v in values)
    if any(b <= a for a, b in zip(out, out[1:])):
        raise node.error(f"expected strictly increasing numbers, got {list(values)}", key)
    if (lo is not None and out[0] < lo) or (hi is not None and out[-1] > hi):
        raise node.error(f"expected numbers within [{lo:g}, {hi if hi is not None else float('inf'):g}], got {list(values)}", key)
    return out


#: Far above any useful run; guards against a typo such as an extra three zeros.
MAX_ITERATIONS = 100_000_000
#: Largest root seed (NumPy's SeedSequence takes any size; a netCDF attribute holds a signed 64-bit one).
MAX_SEED = 2**63 - 1
