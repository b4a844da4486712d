"""Actual outcomes for a backtest (see :mod:`fsp_risk.analysis.backtest`), read and checked.

An actuals CSV has one row per outcome: ``year`` (a financial year of the config, like ``2024/25``),
``measure`` and ``value``, and optionally ``source`` and ``note``. A demand measure's actual is the
count at 31 March at the end of that year, set against the with-FSP forecast; ``net_savings`` and
``net_change_to_mtfp`` are the year's outturn in £ against the MTFP.
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from fsp_risk.config import MAX_COUNT, MAX_MONEY, Config
from fsp_risk.errors import ConfigError, did_you_mean, excerpt
from fsp_risk.files import MAX_CSV_BYTES, csv_records, read_text

COLUMNS = ("year", "measure", "value")
OPTIONAL_COLUMNS = ("source", "note")
#: Money outcomes that can be backtested, with their titles.
MONEY_MEASURES = {
    "net_savings": "Net savings against the MTFP",
    "net_change_to_mtfp": "Net change to the MTFP (positive = pressure)",
}


def measures(config: Config) -> dict[str, str]:
    """Measures an actuals file may name, with their titles."""
    return {**{m.name: m.title for m in config.demand.values()}, **MONEY_MEASURES}


def read_actuals(path: str | Path) -> str:
    """The text of an actuals CSV, with a clear error where it cannot be read."""
    return read_text(path, what="actuals file", limit=MAX_CSV_BYTES, encoding="utf-8-sig",
                     not_utf8="expected a UTF-8 CSV file (save from Excel as 'CSV UTF-8')")


def _number(text: str) -> float:
    # Finance users paste "£1,234" or "1,234" from Excel: accept those, nothing looser.
    cleaned = text.strip().replace(",", "").replace("£", "")
    value = float(cleaned)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_actuals(text: str, config: Config, file: str = "<actuals>") -> pd.DataFrame:
    """Validate an actuals CSV against a config: columns ``year``, ``measure``, ``value``.

    Raises
    ------
    ConfigError
        Naming the file, the row and column, and what was expected, before any simulation starts.
    """
    fieldnames, rows = csv_records(text, file)
    header = [h.strip() for h in fieldnames]
    if not header:
        raise ConfigError(f"expected a header row with the columns {', '.join(COLUMNS)}", file=file)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ConfigError(f"expected the columns {', '.join(COLUMNS)} (and optionally {', '.join(OPTIONAL_COLUMNS)}); "
                          f"missing {', '.join(repr(m) for m in missing)}", file=file, path="header")
    twice = [h for i, h in enumerate(header) if h in header[:i]]
    if twice:
        raise ConfigError(f"the column {excerpt(twice[0])} is given twice; expected each column once", file=file,
                          path="header")
    unknown = [h for h in header if h not in COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ConfigError(f"unknown column {excerpt(unknown[0])}{did_you_mean(unknown[0], COLUMNS + OPTIONAL_COLUMNS)}; "
                          f"expected {', '.join(COLUMNS + OPTIONAL_COLUMNS)}", file=file, path="header")
    if not rows:
        raise ConfigError("expected at least one actual below the header row", file=file)
    known = measures(config)
    out, seen = [], {}
    for n, raw in enumerate(rows, start=2):  # row 1 is the header
        row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else v for k, v in raw.items()}
        if None in raw or any(isinstance(v, list) for v in raw.values()):
            raise ConfigError(f"expected {len(header)} fields as in the header, got more", file=file, path=f"row {n}")
        year = row.get("year") or ""
        if year not in config.years:
            raise ConfigError(f"expected one of the config's years ({config.years[0]} to {config.years[-1]}), "
                              f"got {excerpt(year)}", file=file, path=f"row {n}.year")
        measure = row.get("measure") or ""
        if measure not in known:
            raise ConfigError(f"unknown measure {excerpt(measure)}{did_you_mean(measure, known)}; expected one of "
                              f"{', '.join(known)}", file=file, path=f"row {n}.measure")
        text_value = row.get("value") or ""
        try:
            value = _number(text_value)
        except ValueError:
            raise ConfigError(f"expected a number, got {excerpt(text_value)}", file=file, path=f"row {n}.value") from None
        if measure in config.demand and not 0 <= value <= MAX_COUNT:
            raise ConfigError(f"expected a count of children from 0 to {MAX_COUNT:,.0f}, got {excerpt(text_value)}",
                              file=file, path=f"row {n}.value")
        if measure not in config.demand and not -MAX_MONEY <= value <= MAX_MONEY:
            raise ConfigError(f"expected an amount within ±£{MAX_MONEY:,.0f}, got {excerpt(text_value)}", file=file,
                              path=f"row {n}.value")
        if (year, measure) in seen:
            raise ConfigError(f"expected one value per year and measure; {year} {measure} is also on row "
                              f"{seen[(year, measure)]}", file=file, path=f"row {n}")
        seen[(year, measure)] = n
        out.append({"year": year, "measure": measure, "actual": value, "source": row.get("source") or ""})
    return pd.DataFrame(out)
