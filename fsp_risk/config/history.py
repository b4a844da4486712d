"""Published history of children's social care counts by council (DfE local-authority tables), read and
checked: the data the demand model is calibrated on (:mod:`fsp_risk.analysis.calibrate`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fsp_risk.errors import ConfigError, excerpt
from fsp_risk.files import MAX_CSV_BYTES, csv_records, read_text

#: What each measure of the history counts, for tables and charts.
MEASURE_NAMES = {"lac": "Children looked after", "cp": "Child protection plans", "cin": "Children in need",
                 "lac_starts": "Entries to care"}
HISTORY_COLUMNS = ("council", "la_code", "measure", "march_year", "value", "source", "note")
def read_history(path: str | Path | None = None) -> pd.DataFrame:
    """A history CSV (default: the one shipped with fsp-risk, see configs/history/README.md) (columns :data:`HISTORY_COLUMNS`; an empty ``value`` is a year not published) as a
    table of the rows with values; a bad file is refused naming its row and column."""
    if path is None:
        from fsp_risk.config.shipped import default_history

        path = default_history()
    file = str(path)
    text = read_text(path, what="history file", limit=MAX_CSV_BYTES, encoding="utf-8-sig",
                     not_utf8="expected a UTF-8 CSV file")
    header, rows = csv_records(text, file)
    missing = [c for c in ("council", "measure", "march_year", "value", "source") if c not in header]
    if missing:
        raise ConfigError(f"expected the columns {', '.join(HISTORY_COLUMNS)}; missing "
                          f"{', '.join(repr(m) for m in missing)}", file=file, path="header")
    out, seen = [], {}
    for n, row in enumerate(rows, start=2):
        value = (row.get("value") or "").strip()
        if not value:
            continue
        key = ((row["council"] or "").strip(), (row["measure"] or "").strip(), (row["march_year"] or "").strip())
        if not all(key):
            raise ConfigError("expected a council, a measure and a year", file=file, path=f"row {n}")
        if not key[2].isdigit() or not 1990 <= int(key[2]) <= 2100:
            raise ConfigError(f"expected a calendar year like 2024, got {excerpt(key[2])}", file=file,
                              path=f"row {n}.march_year")
        try:
            count = float(value.replace(",", ""))
        except ValueError:
            raise ConfigError(f"expected a count, got {excerpt(value)}", file=file, path=f"row {n}.value") from None
        if not np.isfinite(count) or count <= 0:
            raise ConfigError(f"expected a count above 0, got {excerpt(value)}", file=file, path=f"row {n}.value")
        if not (row.get("source") or "").strip():
            raise ConfigError("expected the source of the value", file=file, path=f"row {n}.source")
        if key in seen:
            raise ConfigError(f"expected one value per council, measure and year; also on row {seen[key]}",
                              file=file, path=f"row {n}")
        seen[key] = n
        out.append({"council": key[0], "measure": key[1], "march_year": int(key[2]), "value": count})
    if not out:
        raise ConfigError("expected at least one value", file=file)
    return pd.DataFrame(out)
