"""Scenario configs: YAML validated once, at load, into frozen typed objects.

Every uncertain or sourced scalar lives in the ``inputs`` section (the *assumption book*); the model
sections refer to inputs by name. Year series (cost amounts, planned savings) and projection points
carry their own ``source``. Nothing downstream re-validates.

Modules: :mod:`.schema` (the typed objects), :mod:`.limits` (bounds and choices), :mod:`.source` (the
strict YAML loader), :mod:`.fields` (field checks), one module per group of sections (:mod:`.inputs`,
:mod:`.sections`, :mod:`.register`, :mod:`.correlation`, :mod:`.scenarios`) and :mod:`.parse`, which reads
the file and the files it attaches, then validates the whole. :mod:`.distributions` are the input
distributions; :mod:`.actuals` reads outturn figures for a backtest.
"""
from fsp_risk.config.limits import (EVIDENCE, FSP_METHODS, ID_PATTERN, KEY_PATTERN, MAX_COUNT, MAX_FACTOR, MAX_HORIZON,
                                    MAX_ITERATIONS, MAX_MONEY, MAX_MONTHS, MAX_SEED, MAX_TEXT, MONEY_DRIVERS,
                                    NAME_PATTERN, SAMPLERS, SCHEMA_VERSION)
from fsp_risk.config.parse import load_config, parse_config
from fsp_risk.config.scenarios import check_pins
from fsp_risk.config.schema import (Config, Correlation, CostLine, EffectScale, FspCase, FundingStream, InflationIndex,
                                    Input, Level, Measure, Mitigation, Mtfp, Placements, PlacementType, Points,
                                    PriceBase, Programme, Risk, RiskRegister, RunDefaults, SavingLine, Scenario,
                                    Scoring, Service, Weakening, WorkforceGroup, YearSeries)

__all__ = [
    "Config", "CostLine", "Correlation", "EffectScale", "FspCase", "FundingStream", "InflationIndex", "Input",
    "Level", "Measure", "Mitigation", "Mtfp", "Placements", "PlacementType", "Points", "PriceBase", "Programme",
    "Risk", "RiskRegister", "RunDefaults", "SavingLine", "Scenario", "Scoring", "Service", "Weakening",
    "WorkforceGroup", "YearSeries", "EVIDENCE", "FSP_METHODS", "ID_PATTERN", "KEY_PATTERN", "MAX_COUNT",
    "MAX_FACTOR", "MAX_HORIZON", "MAX_ITERATIONS", "MAX_MONEY", "MAX_MONTHS", "MAX_SEED", "MAX_TEXT",
    "MONEY_DRIVERS", "NAME_PATTERN", "SAMPLERS", "SCHEMA_VERSION", "check_pins", "load_config", "parse_config",
]
