"""Financial years: labels like ``2025/26`` (April 2025 to March 2026)."""
from __future__ import annotations

import datetime as dt
import re

_LABEL = re.compile(r"^(\d{4})/(\d{2})$")


def parse_fy(label) -> int:
    """Start calendar year of a financial-year label: ``'2025/26'`` -> 2025.

    Raises ValueError when the label is not of the form ``YYYY/YY`` with consecutive years.
    """
    m = _LABEL.match(str(label).strip())
    if not m:
        raise ValueError(f"expected a financial year like '2025/26', got {label!r}")
    start = int(m.group(1))
    if (start + 1) % 100 != int(m.group(2)):
        raise ValueError(f"expected consecutive years like '2025/26', got {label!r}")
    return start


def fy_label(start: int) -> str:
    """Label of the financial year starting in April of ``start``: 2025 -> '2025/26'."""
    return f"{start}/{(start + 1) % 100:02d}"


def months_from_fy_start(date: dt.date, first_fy_start: int) -> float:
    """Months from 1 April of ``first_fy_start`` to ``date`` (day of month counted as a fraction)."""
    whole = (date.year - first_fy_start) * 12 + (date.month - 4)
    return whole + (date.day - 1) / 30.4375
